// Renders what the session reports: each session event updates the panels it concerns.

import type { ChatMessage } from '../protocol';
import { messageHtml, systemHtml } from '../render';
import type { SessionEvent } from '../session/chat-session';
import { updateComposer } from './composer';
import { showConnStatus, showKnownNodes } from './connection-indicator';
import { ui } from './dom';
import { renderJoined, renderRoomList } from './lobby';
import { applyChange, renderOptions, renderTyping } from './message-actions';
import { notify } from './notices';
import { hasNotice, placeNotices, settleNotices } from './notice-placement';
import { rejoinSavedRooms, saveSession } from './saved-session';
import { logFor, logs, page, roomShown, unread, unreadUpTo } from './page-state';
import { renderLoadOlder, renderOutbox, renderRoomHead } from './room-view';
import { nearBottom, scrollToBottom } from './scroll';

export function onSessionEvent(ev: SessionEvent): void {
  render(ev);
  if (ev.kind === 'status' && ev.status === 'open') void rejoinSavedRooms();
  if (ev.kind === 'status' || ev.kind === 'room' || ev.kind === 'gone' || ev.kind === 'nodes') saveSession();
}

function render(ev: SessionEvent): void {
  switch (ev.kind) {
    case 'status': {
      showConnStatus(ev);
      // A refused upgrade (HTTP 401) is invisible to the page: a token that never got through is the likely cause.
      if (ev.status === 'open') page.everOpened = true;
      else if (ev.status === 'reconnecting' && page.session?.token && !page.everOpened) {
        notify('error', 'The node does not accept the connection. If your token is wrong or has expired, ask for a new one, then Disconnect and connect again.', 'token-refused');
      }
      const room = roomShown();
      if (room) renderRoomHead(room);
      updateComposer();
      return;
    }
    case 'rooms':
      renderRoomList(ev.list);
      return;
    case 'nodes':
      showKnownNodes(ev.nodes);
      return;
    case 'room':
      renderJoined();
      if (ev.room.id === page.current) renderRoomHead(ev.room);
      if (ev.room.id === page.current) renderOutbox(ev.room);
      return;
    case 'messages': {
      const log = logFor(ev.room.id);
      const stick = ev.room.id !== page.current || nearBottom();
      log.insertAdjacentHTML('beforeend', ev.messages.map((m) => messageHtml(m, renderOptions(ev.room))).join(''));
      settleNotices(log, ev.messages[0]?.timestamp); // a join reply's notices came before its replay
      if (ev.room.id === page.current) {
        renderOutbox(ev.room);
        if (stick) scrollToBottom();
        renderLoadOlder(ev.room);
        page.session?.markRead(ev.room.id);
      } else {
        countUnread(ev.room.id, ev.messages);
        renderJoined();
      }
      return;
    }
    case 'read':
      onReadMarker(ev);
      return;
    case 'older': {
      const log = logFor(ev.room.id);
      const before = ui.scroller.scrollHeight;
      const top = ui.scroller.scrollTop;
      log.insertAdjacentHTML('afterbegin', ev.messages.map((m) => messageHtml(m, renderOptions(ev.room))).join(''));
      settleNotices(log, ev.messages[0]?.timestamp);
      if (ev.room.id === page.current) {
        ui.scroller.scrollTop = top + (ui.scroller.scrollHeight - before);
        renderLoadOlder(ev.room);
      }
      return;
    }
    case 'changed':
      applyChange(ev.room, ev.change);
      return;
    case 'typing':
      renderTyping(ev.room);
      return;
    case 'notices': {
      const stick = ev.room.id === page.current && nearBottom();
      placeNotices(logFor(ev.room.id), ev.notices, page.session?.username ?? '');
      if (ev.room.id === page.current) {
        renderOutbox(ev.room);
        if (stick) scrollToBottom();
      }
      return;
    }
    case 'system':
    case 'member': {
      const log = logFor(ev.room.id);
      const key = ev.kind === 'system' ? ev.key : undefined;
      if (key && hasNotice(log, key)) return; // shown already (a join reply's moderation_log)
      const stick = ev.room.id === page.current && nearBottom();
      log.insertAdjacentHTML('beforeend', systemHtml(ev.text, ev.timestamp, { self: page.session?.username ?? '' }, key));
      if (ev.room.id === page.current) {
        renderOutbox(ev.room);
        if (stick) scrollToBottom();
      }
      return;
    }
    case 'notice':
      notify(ev.level, ev.text, ev.key);
      return;
    case 'gone':
      unread.delete(ev.room.id);
      if (ev.room.id === page.current) {
        page.shownGone = ev.room;
        renderRoomHead(ev.room);
        renderOutbox(ev.room);
      }
      if (ev.room.status === 'left' || ev.room.status === 'deleted') logs.delete(ev.room.id);
      renderJoined();
      return;
  }
}

/** Messages that arrived in a room not shown: those past what is counted already, others' and not deleted. */
function countUnread(roomId: string, messages: ChatMessage[]): void {
  const me = page.session?.username;
  let upTo = unreadUpTo.get(roomId) ?? 0;
  let added = 0;
  for (const m of messages) {
    if (m.sequence_number <= upTo) continue;
    upTo = m.sequence_number;
    if (m.username !== me && !m.deleted) added++;
  }
  unreadUpTo.set(roomId, upTo);
  if (added > 0) unread.set(roomId, (unread.get(roomId) ?? 0) + added);
}

/**
 * Our read marker: a join reply says how many messages up to its last are unread (the count starts
 * there); a marker from another of our tabs or devices at or past what we counted clears the room.
 */
function onReadMarker(ev: Extract<SessionEvent, { kind: 'read' }>): void {
  const id = ev.room.id;
  if (id === page.current) {
    page.session?.markRead(id);
    return;
  }
  if (ev.unread) {
    unreadUpTo.set(id, ev.unread.upTo);
    if (ev.unread.count > 0) unread.set(id, ev.unread.count);
    else unread.delete(id);
  } else if (ev.lastRead >= (unreadUpTo.get(id) ?? 0)) {
    unread.delete(id);
  }
  renderJoined();
}
