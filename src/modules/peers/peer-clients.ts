import type { Clock } from '../../common/clock/clock';
import type { NodeConfig } from '../../common/config/node-config';
import { PeerCallSigner, XmlRpcClient } from '../../common/xmlrpc';

/**
 * One peer's two connections: data calls, and liveness (heartbeats and failover probes, one call at
 * a time), so queued data traffic to a busy peer never delays the calls that judge it alive.
 */
export interface PeerClients {
  client: XmlRpcClient;
  pulse: XmlRpcClient;
}

/**
 * The clients for one peer, sharing one signer: with PEER_SECRET every call is signed and every
 * reply checked (heartbeats too, so a forged heartbeat answer cannot fake a live or restarted
 * peer), and the peer's boot id learned on either serves both. With PEER_TLS_* they
 * speak https and trust only PEER_TLS_CA.
 */
export function peerClients(config: NodeConfig, nodeId: string, url: string, clock: Clock): PeerClients {
  // signatures carry wall-clock timestamps: the peer compares them with its own wall clock
  const signer = config.peerSecret ? new PeerCallSigner(config.peerSecret, config.nodeId, nodeId, () => clock.now()) : undefined;
  const tls = config.peerTls ? { ca: config.peerTls.ca } : undefined;
  return {
    client: new XmlRpcClient({ url, timeoutMs: config.peerCallTimeoutMs, signer, tls }),
    pulse: new XmlRpcClient({ url, timeoutMs: config.heartbeatTimeoutMs, maxSockets: 1, signer, tls }),
  };
}
