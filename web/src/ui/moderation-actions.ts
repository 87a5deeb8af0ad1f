// Moderator actions in the member list (room-view.ts draws it with memberHtml): Kick…, Ban… and
// Mute… beside each member we may act on, Make moderator… for the creator, and the Banned list with
// Unban for the room's moderators; Invite… in a private room's header. Plain buttons, so Tab and
// Enter work; each "…" opens the confirmation dialog (action-dialog.ts) with a reason, a duration or
// a name. The outcome shows as the room's own line (the event every member gets), or in the dialog.

import { escapeHtml } from '../format';
import { MAX_USERNAME, nameProblem, normalizeName } from '../protocol';
import type { ModerationRequestType, RoomState } from '../session/chat-session';
import { openActionDialog, type ActionSpec } from './action-dialog';
import { ui } from './dom';
import { notify } from './notices';
import { page, roomShown } from './page-state';

type DialogAction = Exclude<ModerationRequestType, 'unban_member'>;

const BUTTONS: [DialogAction, string, string][] = [
  ['kick_member', 'Kick…', 'Remove from the room (they may join again)'],
  ['ban_member', 'Ban…', 'Remove from the room and keep out'],
  ['mute_member', 'Mute…', 'No messages for a while'],
];

export function initModerationActions(): void {
  ui.memberList.addEventListener('click', (e) => {
    const btn = (e.target as HTMLElement).closest<HTMLButtonElement>('[data-moderate]');
    if (btn) askModeration(btn.dataset.moderate as DialogAction, btn.dataset.member!);
  });
  ui.bannedList.addEventListener('click', (e) => {
    const btn = (e.target as HTMLElement).closest<HTMLButtonElement>('[data-unban]');
    if (btn) void unban(btn, btn.dataset.unban!);
  });
  ui.invite.addEventListener('click', askInvite);
}

/** One member's line: the name, its role, and the buttons we may use on it. */
export function memberHtml(room: RoomState, member: string): string {
  const session = page.session;
  const name = escapeHtml(member);
  // a direct conversation has two equal people (its "creator" opened it first): no roles, no moderation
  const role = room.direct ? '' : member === room.creatorId ? 'creator' : room.moderators.has(member) ? 'moderator' : '';
  const badge = role ? ` <span class="role">${role}</span>` : '';
  if (member === session?.username) return `<li class="me"><span class="member-name">${name}</span>${badge}</li>`;
  const joined = room.status === 'joined' && !room.direct;
  // in our direct conversation with them, Message would open the room shown
  const buttons = room.direct ? [] : [`<button type="button" class="direct" data-direct="${name}" title="Direct message" aria-label="Message ${name}">Message</button>`];
  if (joined && session?.mayActOn(room, member)) {
    for (const [type, label, title] of BUTTONS) buttons.push(`<button type="button" class="moderate" data-moderate="${type}" data-member="${name}" title="${title}" aria-label="${label.slice(0, -1)} ${name}">${label}</button>`);
  }
  if (joined && room.creatorId === session?.username && !role) {
    buttons.push(`<button type="button" class="moderate" data-moderate="add_moderator" data-member="${name}" title="Let them kick, ban and mute members" aria-label="Make ${name} a moderator">Make moderator…</button>`);
  }
  return `<li><span class="member-name">${name}</span>${badge}${buttons.length ? `<span class="member-actions">${buttons.join(' ')}</span>` : ''}</li>`;
}

/** The Banned list, with Unban beside each name: only for the room's moderators. */
export function renderBanned(room: RoomState): void {
  const show = room.status === 'joined' && !room.direct && page.session?.mayModerate(room) === true && room.banned.size > 0;
  ui.banned.hidden = !show;
  if (!show) return ui.bannedList.replaceChildren();
  ui.bannedList.innerHTML = [...room.banned]
    .sort((a, b) => a.localeCompare(b))
    .map((m) => `<li><span class="member-name">${escapeHtml(m)}</span> <button type="button" class="moderate" data-unban="${escapeHtml(m)}" aria-label="Unban ${escapeHtml(m)}">Unban</button></li>`)
    .join('');
}

/** Invite… shows in a private room we are in (a direct room has its two people for good). */
export function renderInvite(room: RoomState): void {
  ui.invite.hidden = !(room.private && !room.direct && room.status === 'joined');
}

function askModeration(type: DialogAction, member: string): void {
  const session = page.session;
  const room = roomShown();
  if (!session || !room) return;
  const roomId = room.id;
  const spec: Record<DialogAction, Omit<ActionSpec, 'run'>> = {
    kick_member: { title: `Kick ${member}?`, text: `${member} is removed from “${room.name}” and may join it again. Everyone in the room sees the reason.`, confirm: 'Kick', danger: true, field: 'reason' },
    ban_member: { title: `Ban ${member}?`, text: `${member} is removed from “${room.name}” and cannot join it again until a moderator lifts the ban. Everyone in the room sees the reason.`, confirm: 'Ban', danger: true, field: 'reason' },
    mute_member: { title: `Mute ${member}?`, text: `${member} can still read “${room.name}” but cannot send or edit messages until the time is up.`, confirm: 'Mute', field: 'duration' },
    add_moderator: { title: `Make ${member} a moderator?`, text: `${member} may then kick, ban and mute members of “${room.name}” (not you, nor other moderators) and delete their messages. Moderators cannot be removed.`, confirm: 'Make moderator' },
  };
  openActionDialog({
    ...spec[type],
    run: (v) => session.moderate(roomId, type, member, { reason: v.reason || undefined, seconds: v.seconds }),
    // the member list is redrawn by the action's own event: find the same button again, or the next useful place
    returnFocus: () => ui.memberList.querySelector<HTMLElement>(`[data-moderate="${type}"][data-member="${CSS.escape(member)}"]`) ?? ui.input,
  });
}

function askInvite(): void {
  const session = page.session;
  const room = roomShown();
  if (!session || !room) return;
  const roomId = room.id;
  openActionDialog({
    title: `Invite someone to “${room.name}”`,
    text: 'They will see this private room in their room list and may join it. Invitations cannot be withdrawn.',
    confirm: 'Invite',
    field: 'name',
    check: (v) => (normalizeName(v.name) === session.username ? 'You are in this room already.' : nameProblem(normalizeName(v.name), MAX_USERNAME, 'The name')),
    run: async (v) => {
      const member = normalizeName(v.name);
      await session.invite(roomId, member);
      notify('success', `${member} may now join “${room.name}”.`);
    },
    returnFocus: () => ui.invite,
  });
}

async function unban(btn: HTMLButtonElement, member: string): Promise<void> {
  const session = page.session;
  const roomId = page.current;
  if (!session || !roomId) return;
  btn.disabled = true;
  try {
    await session.moderate(roomId, 'unban_member', member);
    // the list lost that name: stay in it (the next Unban), or go back to the members
    (ui.bannedList.querySelector<HTMLElement>('button') ?? ui.memberList.querySelector<HTMLElement>('button') ?? ui.input).focus();
  } catch (err) {
    notify('error', `${member} could not be unbanned: ${(err as Error).message}`);
  } finally {
    btn.disabled = false;
  }
}
