import type { IncomingHttpHeaders } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { PEER_HEADERS, PeerAuthError, PeerCallVerifier, RefusedCallFault, XMLRPC_MAX_BODY_BYTES, XmlRpcFault, XmlRpcFaultCode, type CallAdmission, type SignedCall, type XmlRpcCallAuthenticator } from '../../common/xmlrpc';
import { BurstWarning } from '../../common/logging/burst-warning';
import { OPEN_METHODS, SENDER_PARAM, type PeerMethod } from '../../common/protocol/peer-wire';
import { BOOT_ID } from './boot-id';

/**
 * What an unsigned call may send to a node with a secret: only the open methods answer it, and
 * their calls are a few hundred bytes. Nothing larger is read (or parsed) for a stranger.
 */
export const OPEN_CALL_MAX_BYTES = 16 * 1024;

interface PeerAdmission extends CallAdmission {
  /** The call whose headers verified; null for an unsigned (or, to an open method, badly signed) call. */
  readonly call: SignedCall | null;
}

/**
 * The one place incoming peer calls are authenticated, in the order that keeps a stranger's cost
 * small (the XML-RPC server asks it at each step): from the headers alone, before the body is
 * read, a signed call must come from a configured peer, be fresh, carry a valid HMAC for this run
 * of this node and a new nonce; an unsigned call may send no more than an open method needs.
 * Then the raw body must be the signed one, before it is parsed; then the parsed method must be the
 * signed one, and the sender a call names in its params must be its signer. Replies to signed
 * calls are signed in turn, bound to the request.
 */
@Injectable()
export class PeerAuthenticator implements XmlRpcCallAuthenticator<PeerAdmission> {
  private readonly logger = new Logger(PeerAuthenticator.name);
  private readonly verifier: PeerCallVerifier | null;
  private readonly peerIds: Set<string>;
  private readonly refusals: BurstWarning;
  private readonly staleCallerListeners: ((nodeId: string) => void)[] = [];

  constructor(
    @Inject(NODE_CONFIG) config: NodeConfig,
    clock: Clock,
    @Inject(BOOT_ID) bootId: string,
  ) {
    this.peerIds = new Set(config.peers.map((p) => p.nodeId));
    // timestamps come from the callers' wall clocks, so they are checked against this node's wall clock
    this.verifier = config.peerSecret
      ? new PeerCallVerifier({ secret: config.peerSecret, nodeId: config.nodeId, bootId, peers: this.peerIds, now: () => clock.now() })
      : null;
    this.refusals = new BurstWarning(this.logger, () => clock.monotonic());
  }

  get signed(): boolean {
    return this.verifier !== null;
  }

  admit(headers: IncomingHttpHeaders): PeerAdmission {
    if (!this.verifier) return { maxBodyBytes: XMLRPC_MAX_BODY_BYTES, proven: false, call: null };
    if (!PeerCallVerifier.isSigned(headers)) return { maxBodyBytes: OPEN_CALL_MAX_BYTES, proven: false, call: null };
    try {
      const call = this.verifier.verifyHeaders(headers);
      return { maxBodyBytes: XMLRPC_MAX_BODY_BYTES, proven: true, call };
    } catch (e) {
      if (!(e instanceof PeerAuthError)) throw e;
      if (e.staleBoot) this.staleCaller(headers);
      // a probe that signs its heartbeat but, say, does not know this run yet still gets its answer
      if (OPEN_METHODS.has(String(headers['x-chat-method']))) return { maxBodyBytes: OPEN_CALL_MAX_BYTES, proven: false, call: null };
      // a peer signing for this node's previous run is expected once after a restart: not logged, and it gets to read the answer
      throw this.refuse(String(headers['x-chat-method'] ?? '?'), e.message, e.staleBoot);
    }
  }

  checkBody(admission: PeerAdmission, body: Buffer): void {
    if (!admission.call || !this.verifier) return;
    try {
      this.verifier.verifyBody(admission.call, body);
    } catch (e) {
      if (!(e instanceof PeerAuthError)) throw e;
      throw this.refuse(admission.call.method, e.message);
    }
  }

  /**
   * Told the peer a call named as its sender when the call was signed for another run of this node:
   * that peer (or this node) restarted. Unverified, so it may only prompt a look (a probe), never a verdict.
   */
  onStaleCaller(listener: (nodeId: string) => void): void {
    this.staleCallerListeners.push(listener);
  }

  private staleCaller(headers: IncomingHttpHeaders): void {
    const claimed = headers[PEER_HEADERS.peer];
    if (typeof claimed === 'string' && this.peerIds.has(claimed)) for (const l of this.staleCallerListeners) l(claimed);
  }

  authorize(admission: PeerAdmission, method: string, params: unknown[]): string | null {
    if (admission.call && admission.call.method !== method) throw this.refuse(method, `the body calls ${method.slice(0, 64)} but ${admission.call.method} was signed`);
    if (OPEN_METHODS.has(method)) return admission.call?.sender ?? null; // open to all; a verified signer is still named
    if (this.verifier && !admission.call) throw this.refuse(method, 'the call is not signed');
    const peer = admission.call?.sender ?? null;
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

  replyHeaders(requestHeaders: IncomingHttpHeaders, reply: Buffer): Record<string, string> {
    return this.verifier?.signReply(requestHeaders, reply) ?? {};
  }

  private refuse(method: string, why: string, expected = false): XmlRpcFault {
    if (!expected) this.refusals.note(`Refused unauthenticated XML-RPC call ${method.slice(0, 64)}: ${why}`);
    return new RefusedCallFault(
      XmlRpcFaultCode.PeerAuthRequired,
      `peer authentication required: ${why}. Peers must sign calls with the cluster's PEER_SECRET (X-Chat-* headers, see docs/protocol.md); only heartbeat() is open.`,
      expected,
    );
  }
}
