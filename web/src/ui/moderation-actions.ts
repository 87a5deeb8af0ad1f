// Moderator actions in the member list: Kick, Ban and Mute beside each member's name (room-view.ts
// draws them for a room we moderate). Plain buttons, so Tab and Enter work; the outcome shows as
// the room's own line about it (the event every member gets) or as an error notice.

import type { ModerationRequestType } from '../session/moderation';
import { ui } from './dom';
import { notify } from './notices';
import { page } from './page-state';

const DONE: Record<ModerationRequestType, string> = { kick_member: 'kicked', ban_member: 'banned', mute_member: 'muted' };

export function initModerationActions(): void {
  ui.memberList.addEventListener('click', (e) => {
    const btn = (e.target as HTMLElement).closest<HTMLButtonElement>('[data-moderate]');
    if (btn) void moderate(btn, btn.dataset.moderate as ModerationRequestType, btn.dataset.member!);
  });
}

async function moderate(btn: HTMLButtonElement, type: ModerationRequestType, member: string): Promise<void> {
  const session = page.session;
  const roomId = page.current;
  if (!session || !roomId) return;
  btn.disabled = true;
  try {
    await session.moderate(roomId, type, member);
  } catch (err) {
    notify('error', `${member} could not be ${DONE[type]}: ${(err as Error).message}`);
  } finally {
    btn.disabled = false;
  }
}
