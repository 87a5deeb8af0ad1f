import { Injectable } from '@nestjs/common';
import type { NodeStatusView } from './status-view';

const FETCH_TIMEOUT_MS = 1500;

/**
 * Reads a peer's own status view over HTTP from the client address it advertises (CLIENT_URL,
 * ws:// turned into http://): only what that node already serves to anyone.
 */
@Injectable()
export class PeerStatusFetcher {
  async fetch(clientUrl: string): Promise<NodeStatusView> {
    const url = new URL('/status.json?scope=node', clientUrl.replace(/^ws/i, 'http'));
    const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status} from ${url.origin}`);
    const body = (await res.json()) as NodeStatusView;
    if (!isNodeStatusView(body)) throw new Error(`not a status view from ${url.origin}`);
    return body;
  }
}

/** The shape the status page relies on, so a peer of another version cannot break the page. */
function isNodeStatusView(v: NodeStatusView | null): v is NodeStatusView {
  const numbers = (xs: unknown) => Array.isArray(xs) && xs.every((x) => typeof x === 'number');
  return (
    typeof v?.node_id === 'string' &&
    ['uptime_s', 'connections', 'rooms_hosted', 'rooms_replica', 'messages_total', 'deliveries_total'].every((k) => typeof (v as unknown as Record<string, unknown>)[k] === 'number') &&
    Array.isArray(v.peers) &&
    Array.isArray(v.replication) &&
    Array.isArray(v.failovers) &&
    typeof v.rates?.interval_s === 'number' &&
    numbers(v.rates.messages_per_s) &&
    numbers(v.rates.deliveries_per_s)
  );
}
