// The message log's scroll position, shared by the views that add to it.

import { ui } from './dom';

export function nearBottom(): boolean {
  const s = ui.scroller;
  return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
}

export function scrollToBottom(): void {
  ui.scroller.scrollTop = ui.scroller.scrollHeight;
}
