// The header's connection indicator: its status (for styling) and a sentence saying where we are.

import type { StatusEvent } from '../session';
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
