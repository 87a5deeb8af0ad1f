// Toast notices in the corner: newest last, at most four, each dismissable and gone after a while.

import { escapeHtml } from '../format';
import { ui } from './dom';

export function notify(level: 'info' | 'success' | 'error', text: string, key?: string): void {
  // The same sentence twice (e.g. an event and a failed send saying the host is down), or a newer
  // notice on the same subject (unavailable -> available again): keep only the latest.
  for (const old of [...ui.notices.children] as HTMLElement[]) {
    if (old.querySelector('p')?.textContent === text || (key && old.dataset.key === key)) old.remove();
  }
  const el = document.createElement('div');
  if (key) el.dataset.key = key;
  el.className = `notice ${level}`;
  el.setAttribute('role', level === 'error' ? 'alert' : 'status');
  el.innerHTML = `<p>${escapeHtml(text)}</p><button type="button" aria-label="Dismiss">×</button>`;
  el.querySelector('button')!.addEventListener('click', () => el.remove());
  ui.notices.append(el);
  while (ui.notices.children.length > 4) ui.notices.firstElementChild!.remove();
  setTimeout(() => el.remove(), level === 'error' ? 10000 : 6000);
}
