// The room on screen: title, host, members, the banner for its state (host down, removed, deleted),
// the message log with unsent messages at the end, loading older history, leaving and deleting.

import { pendingHtml } from '../render';
import type { RoomState } from '../session/chat-session';
import { updateComposer } from './composer';
import { ui } from './dom';
import { joinRoom, renderJoined } from './lobby';
import { cancelEdit, isEditing, renderTyping } from './message-actions';
import { memberHtml, renderBanned, renderInvite } from './moderation-actions';
import { provideShowRoom } from './navigation';
import { notify } from './notices';
import { logFor, page, roomShown, unread } from './page-state';
import { nearBottom, scrollToBottom } from './scroll';
import { closeSearch } from './room-search';

let confirmTimer: ReturnType<typeof setTimeout> | undefined;

export function initRoomView(): void {
  provideShowRoom(showRoom);
  ui.loadOlder.addEventListener('click', () => void loadOlder());
  ui.scroller.addEventListener('scroll', () => {
    // near the top, and not because we just scrolled a log that barely overflows to its bottom (the
    // replay of a late join would load older history unasked); the button does it there
    if (ui.scroller.scrollTop < 40 && !nearBottom()) void loadOlder();
  });

  ui.back.addEventListener('click', () => showRoom(null));
  ui.membersToggle.addEventListener('click', () => {
    const open = ui.members.classList.toggle('open');
    ui.membersToggle.setAttribute('aria-expanded', String(open));
  });

  ui.leave.addEventListener('click', () => {
    const room = roomShown();
    if (!page.session || !room) return;
    page.session.leave(room.id);
    notify('info', `You left “${room.name}”.`);
    showRoom(null);
  });

  // Deleting takes two clicks: the first arms the button for a few seconds.
  ui.del.addEventListener('click', () => {
    const room = roomShown();
    if (!page.session || !room) return;
    if (!ui.del.classList.contains('confirm')) {
      ui.del.classList.add('confirm');
      ui.del.textContent = 'Confirm delete';
      clearTimeout(confirmTimer);
      confirmTimer = setTimeout(resetDelete, 5000);
      return;
    }
    resetDelete();
    page.session.deleteRoom(room.id);
  });

  ui.messages.addEventListener('click', (e) => {
    const t = e.target as HTMLElement;
    const room = roomShown();
    if (!page.session || !room) return;
    if (t.dataset.retry) page.session.retryMessage(room.id, t.dataset.retry, true);
    if (t.dataset.discard) page.session.retryMessage(room.id, t.dataset.discard, false);
  });
}

/** Shows a room we are in, or the empty view for null. */
export function showRoom(id: string | null): void {
  if (isEditing()) cancelEdit();
  if (id !== page.current) closeSearch();
  page.current = id;
  page.shownGone = null;
  ui.app.classList.toggle('in-room', id !== null);
  ui.members.classList.remove('open');
  ui.membersToggle.setAttribute('aria-expanded', 'false');
  const room = roomShown();
  ui.roomView.hidden = !room;
  ui.emptyView.hidden = !!room;
  // read before the room list is drawn, so its badge goes at once
  if (room) unread.delete(room.id);
  renderJoined();
  renderTyping(room);
  if (!room) return;
  page.session?.markRead(room.id);
  ui.messages.replaceChildren(logFor(room.id));
  renderRoomHead(room);
  renderOutbox(room);
  renderLoadOlder(room);
  renderTyping(room);
  scrollToBottom();
  ui.input.focus();
}

export function renderRoomHead(room: RoomState): void {
  const session = page.session;
  ui.roomTitle.textContent = room.name;
  ui.roomDesc.textContent = room.description ?? '';
  const members = [...room.members].sort((a, b) => a.localeCompare(b));
  ui.roomMeta.dataset.host = room.adminNode;
  ui.roomMeta.textContent = `host ${room.adminNode || '?'} · ${members.length} member${members.length === 1 ? '' : 's'}`;
  ui.membersTitle.textContent = `Members (${members.length})`;
  ui.membersToggle.textContent = `Members (${members.length})`;
  const me = session?.username;
  // everyone but us gets a button that opens our direct conversation (direct-messages.ts); a
  // moderator also gets the moderator actions, and the Banned list (moderation-actions.ts)
  ui.memberList.innerHTML = members.map((m) => memberHtml(room, m)).join('');
  renderBanned(room);
  renderInvite(room);
  const gone = room.status === 'deleted' || room.status === 'left';
  ui.del.hidden = !(room.creatorId && room.creatorId === me) || gone || room.direct; // a direct room cannot be deleted
  ui.del.disabled = room.deleting;
  ui.leave.hidden = gone;
  let banner = room.notice;
  let bad = room.status === 'unavailable' || room.status === 'removed' || room.status === 'deleted';
  if (!banner && room.status === 'joining' && session?.status !== 'open') banner = 'Connection lost: reconnecting…';
  if (!banner && room.status === 'deleted') banner = 'This room was deleted.';
  if (room.status === 'removed') {
    banner = `${room.notice ?? 'You were removed from this room.'} `;
  }
  ui.banner.hidden = !banner;
  ui.banner.textContent = banner ?? '';
  ui.banner.classList.toggle('bad', bad);
  if (room.status === 'removed') {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'ghost small';
    b.textContent = 'Join again';
    b.addEventListener('click', () => void joinRoom(room.id, { room_id: room.id, room_name: room.name, description: room.description, admin_node: room.adminNode, creator_id: room.creatorId ?? '', member_count: 0 }));
    ui.banner.append(b);
  }
  updateComposer();
}

/** Our unconfirmed messages, always at the end of the log. */
export function renderOutbox(room: RoomState): void {
  const log = logFor(room.id);
  log.querySelectorAll('.pending').forEach((el) => el.remove());
  if (room.outbox.size === 0) return;
  const me = page.session?.username ?? '';
  log.insertAdjacentHTML(
    'beforeend',
    [...room.outbox.values()].map((o) => pendingHtml(o.clientId, o.content, me, o.state === 'failed' ? o.error ?? 'Not sent.' : undefined, o.note)).join(''),
  );
}

export function renderLoadOlder(room: RoomState): void {
  ui.loadOlder.hidden = !room.hasOlder;
  ui.loadOlder.disabled = room.loadingOlder;
}


async function loadOlder(): Promise<void> {
  const room = roomShown();
  if (!page.session || !room || !room.hasOlder || room.loadingOlder) return;
  ui.loadOlder.disabled = true;
  try {
    await page.session.loadOlder(room.id);
  } catch (err) {
    notify('error', `Could not load older messages: ${(err as Error).message}`);
  } finally {
    renderLoadOlder(room);
  }
}

function resetDelete(): void {
  ui.del.classList.remove('confirm');
  ui.del.textContent = 'Delete';
}
