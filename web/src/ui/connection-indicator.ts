// The header's connection indicator: its status (for styling) and a sentence saying where we are.

import type { StatusEvent } from '../session/chat-session';
import { ui } from './dom';

export function setConn(status: string, text: string): void {
  ui.conn.dataset.status = status;
  ui.conn.textContent = text;
}

export function showConnStatus(ev: StatusEvent): void {
  if (ev.status === 'open') setConn('open', `connected to ${ev.node}`);
  else if (ev.status === 'reconnecting')
    setConn('reconnecting', ev.delayMs !== undefined ? `reconnecting to ${ev.node}…` : `connecting to ${ev.node}…`);
  else if (ev.status === 'connecting') setConn('connecting', `connecting to ${ev.node}…`);
  else setConn('closed', 'not connected');
}

/** Hovering the indicator tells where the page would go if this node went away. */
export function showKnownNodes(nodes: readonly string[]): void {
  ui.conn.title = `Nodes this page can reconnect to: ${nodes.join(', ')}`;
  ui.conn.dataset.nodes = nodes.join(',');
}
