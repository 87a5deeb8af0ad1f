// Direct messages: the Message button beside a member's name (room-view.ts draws it) opens our
// direct conversation with them, created by the server the first time, and shows it.

import { ui } from './dom';
import { renderJoined } from './lobby';
import { showRoom } from './navigation';
import { notify } from './notices';
import { page } from './page-state';

export function initDirectMessages(): void {
  ui.memberList.addEventListener('click', (e) => {
    const btn = (e.target as HTMLElement).closest<HTMLButtonElement>('[data-direct]');
    if (btn) void openDirect(btn, btn.dataset.direct!);
  });
}

async function openDirect(btn: HTMLButtonElement, other: string): Promise<void> {
  const session = page.session;
  if (!session) return;
  btn.disabled = true;
  try {
    const room = await session.openDirect(other);
    showRoom(room.id);
    renderJoined();
    session.discover().catch(() => undefined);
  } catch (err) {
    notify('error', `Could not open a conversation with ${other}: ${(err as Error).message}`);
  } finally {
    btn.disabled = false;
  }
}
