import type { IncomingHttpHeaders } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { PeerAuthError, PeerCallVerifier, XmlRpcFault, XmlRpcFaultCode, type XmlRpcCallAuthenticator } from '../../common/xmlrpc';
import { BurstWarning } from '../../common/logging/burst-warning';
import { OPEN_METHODS, SENDER_PARAM, type PeerMethod } from '../../common/protocol/peer-wire';

/**
 * The one place incoming peer calls are authenticated (the XML-RPC server asks it before any
 * handler runs): with PEER_SECRET every method but heartbeat() needs a valid signature from a
 * configured peer, and the sender a call names in its params must be the one that signed it.
 */
@Injectable()
export class PeerAuthenticator implements XmlRpcCallAuthenticator {
  private readonly logger = new Logger(PeerAuthenticator.name);
  private readonly verifier: PeerCallVerifier | null;
  private readonly peerIds: Set<string>;
  private readonly refusals: BurstWarning;

  constructor(
    @Inject(NODE_CONFIG) config: NodeConfig,
    clock: Clock,
  ) {
    this.peerIds = new Set(config.peers.map((p) => p.nodeId));
    this.verifier = config.peerSecret
      ? new PeerCallVerifier({ secret: config.peerSecret, nodeId: config.nodeId, peers: this.peerIds, now: () => clock.now() })
      : null;
    this.refusals = new BurstWarning(this.logger, () => clock.monotonic());
  }

  get signed(): boolean {
    return this.verifier !== null;
  }

  authenticate(method: string, params: unknown[], body: Buffer, headers: IncomingHttpHeaders): string | null {
    if (OPEN_METHODS.has(method)) return null;
    let peer: string | null = null;
    if (this.verifier) {
      try {
        peer = this.verifier.verify(method, body, headers);
      } catch (e) {
        if (!(e instanceof PeerAuthError)) throw e;
        this.refusals.note(`Refused unauthenticated XML-RPC call ${method.slice(0, 64)}: ${e.message}`);
        throw new XmlRpcFault(
          XmlRpcFaultCode.PeerAuthRequired,
          `peer authentication required: ${e.message}. Peers must sign calls with the cluster's PEER_SECRET (X-Chat-* headers, see docs/protocol.md); only heartbeat() is open.`,
        );
      }
    }
    const index = SENDER_PARAM[method as PeerMethod];
    const claimed = index === undefined ? undefined : params[index];
    if (typeof claimed !== 'string') return peer; // a missing or mistyped param is the handler's -32602
    if (peer !== null && claimed !== peer) {
      this.refusals.note(`Refused XML-RPC call ${method}: it names node ${claimed.slice(0, 64)} but is signed by ${peer}`);
      throw new XmlRpcFault(XmlRpcFaultCode.PeerAuthRequired, `peer authentication required: ${method} names node "${claimed.slice(0, 64)}" but is signed by ${peer}; a node may only speak for itself.`);
    }
    if (peer === null && !this.peerIds.has(claimed)) {
      throw new XmlRpcFault(XmlRpcFaultCode.InvalidParams, `${method}: node "${claimed.slice(0, 64)}" is not in this node's PEER_NODES; only configured peers may call it.`);
    }
    return peer;
  }
}
