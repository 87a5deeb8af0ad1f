// The operators' status page (/status): polls GET /status.json on the node serving it (same origin only).
import { renderStatus } from './status-render';
import type { ClusterStatusView } from './status-types';

const REFRESH_MS = 3000;
const $ = (id: string) => document.getElementById(id) as HTMLElement;
const source = $('status-source');
const updated = $('status-updated');
const error = $('status-error');
const root = { cards: $('node-cards'), replication: $('replication-rows'), failovers: $('failover-list') };

async function refresh(): Promise<void> {
  try {
    const res = await fetch('/status.json', { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const status = (await res.json()) as ClusterStatusView;
    renderStatus(status, root);
    source.textContent = `from ${status.node_id}`;
    source.dataset.status = 'open';
    updated.textContent = `updated ${new Date(status.generated_at).toLocaleTimeString()}`;
    error.hidden = true;
  } catch (e) {
    // the node serving the page is unreachable: keep the last view, say so
    source.textContent = 'node unreachable';
    source.dataset.status = 'closed';
    error.textContent = `Could not read /status.json: ${(e as Error).message}. Retrying every ${REFRESH_MS / 1000} s.`;
    error.hidden = false;
  } finally {
    setTimeout(() => void refresh(), REFRESH_MS);
  }
}

void refresh();
