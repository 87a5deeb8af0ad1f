import { ConfigError } from './config-error';
import type { PeerAddress } from './node-config';

const NODE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * Parses `PEER_NODES`: comma-separated `id:http(s)://host:port` or `id:host:port` (https when
 * PEER_TLS_* is set, which then requires https for every entry; http otherwise).
 * Unlike the reference, a malformed entry is an error (never silently skipped), and the
 * node's own id is dropped so a node never calls itself.
 */
export function parsePeerNodes(raw: string, ownNodeId: string, tls = false): PeerAddress[] {
  const peers = new Map<string, PeerAddress>();
  for (const entry of raw.split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    const colon = entry.indexOf(':');
    const bad = (why: string) =>
      new ConfigError('PEER_NODES', `entry "${entry}" ${why}; expected id:http://host:port or id:host:port`);
    if (colon <= 0) throw bad('has no node id');
    const nodeId = entry.slice(0, colon).trim();
    const rest = entry.slice(colon + 1).trim();
    if (!NODE_ID_PATTERN.test(nodeId)) throw bad('has an invalid node id');
    const hasScheme = /^https?:\/\//i.test(rest);
    const url = hasScheme ? rest : `${tls ? 'https' : 'http'}://${rest}`;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw bad('has an invalid address');
    }
    if (!parsed.hostname || (!hasScheme && !parsed.port)) throw bad('needs a host and a port');
    if (peers.has(nodeId)) throw bad(`repeats node id ${nodeId}`);
    if (tls && parsed.protocol !== 'https:') throw bad('uses http:// while PEER_TLS_* is set; peers talk TLS to each other, use https://');
    if (!tls && parsed.protocol === 'https:') throw bad('uses https:// but PEER_TLS_CERT, PEER_TLS_KEY and PEER_TLS_CA are not set (the CA peers are checked against)');
    if (nodeId === ownNodeId) continue;
    peers.set(nodeId, { nodeId, url: `${parsed.protocol}//${parsed.host}` });
  }
  return [...peers.values()];
}

export function isValidNodeId(id: string): boolean {
  return NODE_ID_PATTERN.test(id);
}
