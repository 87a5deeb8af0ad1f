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
    if (typeof body?.node_id !== 'string') throw new Error(`not a status view from ${url.origin}`);
    return body;
  }
}
