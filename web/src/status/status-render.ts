// Renders GET /status.json into the page: one card per node, the backlog table, failovers.
import { rateChart } from './rate-chart';
import type { ClusterNodeStatus, ClusterStatusView, NodeStatusView } from './status-types';

type CardState = 'up' | 'degraded' | 'down';

/** How the serving node sees a node: itself and healthy peers are up, failed or never seen ones down. */
export function cardState(node: ClusterNodeStatus): CardState {
  if (node.status === 'self' || node.status === 'healthy') return node.view?.peers.some((p) => p.status === 'failed') ? 'degraded' : 'up';
  if (node.status === 'degraded') return 'degraded';
  return 'down';
}

const STATE_TEXT: Record<CardState, string> = { up: 'up', degraded: 'degraded', down: 'down' };

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function facts(rows: [string, string][]): HTMLElement {
  const dl = el('dl', 'facts');
  for (const [k, v] of rows) dl.append(el('dt', undefined, k), el('dd', undefined, v));
  return dl;
}

function nodeCard(node: ClusterNodeStatus, servedBy: string): HTMLElement {
  const state = cardState(node);
  const card = el('article', 'node-card');
  card.dataset.node = node.node_id;
  card.dataset.state = state;
  const head = el('header');
  const badge = el('span', 'badge', STATE_TEXT[state]);
  badge.dataset.state = state;
  head.append(el('h3', undefined, node.node_id), badge);
  if (node.status === 'self') head.append(el('span', 'note', '(serving this page)'));
  card.append(head);
  const view = node.view;
  if (!view) {
    card.append(el('p', 'note', `As seen by ${servedBy}: ${node.status}${node.view_error ? ` (${node.view_error})` : ''}.`));
    return card;
  }
  card.append(viewFacts(view));
  const peers = el('ul', 'peer-list');
  for (const p of view.peers) {
    const peerState: CardState = p.status === 'healthy' ? 'up' : p.status === 'degraded' ? 'degraded' : 'down';
    const b = el('li', 'badge', `${p.node_id}: ${p.status}`);
    b.dataset.state = peerState;
    peers.append(b);
  }
  card.append(el('span', 'note', 'Peers as this node sees them'), peers);
  card.append(rateChart('messages', view.rates.messages_per_s, view.rates.interval_s), rateChart('deliveries', view.rates.deliveries_per_s, view.rates.interval_s));
  return card;
}

function viewFacts(view: NodeStatusView): HTMLElement {
  return facts([
    ['connections', String(view.connections)],
    ['rooms', `${view.rooms_hosted} hosted, ${view.rooms_replica} replica`],
    ['messages', `${view.messages_total} sequenced here`],
    ['deliveries', String(view.deliveries_total)],
    ['uptime', formatDuration(view.uptime_s)],
  ]);
}

function formatDuration(s: number): string {
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

export function renderStatus(status: ClusterStatusView, root: { cards: HTMLElement; replication: HTMLElement; failovers: HTMLElement }): void {
  root.cards.replaceChildren(...status.nodes.map((n) => nodeCard(n, status.node_id)));
  const rows: HTMLElement[] = [];
  for (const node of status.nodes) {
    for (const b of node.view?.replication ?? []) {
      const tr = el('tr');
      tr.dataset.state = b.failing ? 'failing' : 'ok';
      for (const cell of [node.node_id, b.peer, String(b.pending), b.oldest_pending_s === null ? '-' : `${b.oldest_pending_s} s`, b.failing ? 'calls failing' : 'ok']) tr.append(el('td', undefined, cell));
      rows.push(tr);
    }
  }
  if (rows.length === 0) {
    const tr = el('tr');
    const td = el('td', 'note', 'No node reported a backlog.');
    td.colSpan = 5;
    tr.append(td);
    rows.push(tr);
  }
  root.replication.replaceChildren(...rows);
  const failovers = status.nodes.flatMap((n) => n.view?.failovers ?? []);
  root.failovers.replaceChildren(
    ...(failovers.length === 0
      ? [el('li', 'empty', 'None recorded.')]
      : failovers.map((f) => el('li', undefined, `${f.at}: room ${f.room_id} moved from ${f.from_node} to ${f.to_node}`))),
  );
}
