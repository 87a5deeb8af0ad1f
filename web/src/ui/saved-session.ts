// Survives a page reload: the user, the nodes and the rooms this tab is in are kept in
// sessionStorage (per tab, gone when the tab closes). After a reload the page connects again on
// its own and re-joins those rooms, which replays their recent history like a fresh join.

import type { ChatSession } from '../session/chat-session';
import { page } from './page-state';
import { showRoom } from './room-view';
import { joinRoom } from './lobby';

const KEY = 'chat.session';

export interface SavedSession {
  username: string;
  /** The client token, if the cluster requires one (kept per tab, like the rest). */
  token?: string;
  /** The node connected to last, then the others known. */
  nodes: string[];
  rooms: { id: string; name: string; adminNode: string; creatorId: string | null }[];
  current: string | null;
}

/** Rooms to join once the restored session is connected (null when nothing is pending). */
let pending: SavedSession | null = null;

/** Writes what this tab would need after a reload; called as the session changes and on pagehide. */
export function saveSession(session: ChatSession | null = page.session): void {
  // While a restore is under way, what was saved stays as it was; a closed session (Disconnect) is
  // not saved again by its own last status event.
  if (!session || pending || session.status === 'closed') return;
  const rooms = [...session.rooms.values()]
    .filter((r) => r.status === 'joining' || r.status === 'joined' || r.status === 'unavailable')
    .map((r) => ({ id: r.id, name: r.name, adminNode: r.adminNode, creatorId: r.creatorId }));
  const nodes = [session.node, ...session.nodes.filter((n) => n !== session.node)];
  write({ username: session.username, ...(session.token ? { token: session.token } : {}), nodes, rooms, current: page.current });
}

export function forgetSession(): void {
  pending = null;
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    /* storage disabled */
  }
}

/** The session this tab had before a reload, if any. */
export function loadSavedSession(): SavedSession | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    const saved = raw ? (JSON.parse(raw) as SavedSession) : null;
    if (!saved || typeof saved.username !== 'string' || !Array.isArray(saved.nodes) || saved.nodes.length === 0 || !Array.isArray(saved.rooms)) return null;
    return saved;
  } catch {
    return null;
  }
}

/** Remembers which rooms to re-join when the restored session opens. */
export function rejoinWhenOpen(saved: SavedSession): void {
  pending = saved;
}

/** Called when the session is open: re-joins the saved rooms (once) and shows the one that was shown. */
export async function rejoinSavedRooms(): Promise<void> {
  const saved = pending;
  if (!saved || !page.session) return;
  pending = null;
  for (const room of saved.rooms) {
    await joinRoom(room.id, { room_id: room.id, room_name: room.name, description: null, admin_node: room.adminNode, creator_id: room.creatorId ?? '', member_count: 0 });
  }
  const current = saved.current && page.session.rooms.has(saved.current) ? saved.current : null;
  showRoom(current);
  saveSession();
}

function write(saved: SavedSession): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(saved));
  } catch {
    /* storage disabled or full: a reload then starts at the connect screen */
  }
}
