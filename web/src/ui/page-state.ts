// What the page is showing: the session (null on the connect screen), the room on screen, and per
// room its message log and unread count.

import type { ChatSession, RoomState } from '../session/chat-session';

export const page = {
  session: null as ChatSession | null,
  /** Id of the room shown, null for none. */
  current: null as string | null,
  /** A room deleted/left while shown: its view stays (read-only) until the user moves on. */
  shownGone: null as RoomState | null,
  /** The session's socket has opened at least once (a first failure then is not a refused token). */
  everOpened: false,
};

export const logs = new Map<string, HTMLOListElement>();
export const unread = new Map<string, number>();
/** Per room: the newest sequence number counted into `unread` (the server's count at a join covers up to its last_sequence). */
export const unreadUpTo = new Map<string, number>();

export function logFor(id: string): HTMLOListElement {
  let log = logs.get(id);
  if (!log) {
    log = document.createElement('ol');
    log.className = 'log';
    logs.set(id, log);
  }
  return log;
}

export function roomShown(): RoomState | null {
  const { current, session, shownGone } = page;
  if (!current || !session) return null;
  return session.rooms.get(current) ?? (shownGone?.id === current ? shownGone : null);
}

/** Forgets everything shown (on logout). */
export function resetPage(): void {
  page.session = null;
  page.current = null;
  page.shownGone = null;
  page.everOpened = false;
  logs.clear();
  unread.clear();
  unreadUpTo.clear();
}
