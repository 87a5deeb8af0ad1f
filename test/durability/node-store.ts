import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { NodeProcess } from '../../src/cluster/node-process';

/**
 * The one place the fault tests read a node's database (everything else they check goes through
 * the WebSocket protocol). When the store's schema changes, change readRooms and nothing else:
 * callers get the same shapes.
 */

/** A message row as every node must hold it. */
export interface StoredMessage {
  sequence_number: number;
  message_id: string;
  content: string;
  client_message_id: string | null;
  /** Set once the message was edited (content is then the latest edit's); absent when not. */
  edited_at?: string | null;
  /** Set once the message was deleted: a tombstone with empty content at its sequence; absent when not. */
  deleted_at?: string | null;
}

/** What a node's copy says about a room: who hosts it at which epoch, and how far its log goes. */
export interface StoredRoom {
  room_id: string;
  host_node: string;
  host_epoch: number;
  /** The highest sequence this copy holds (its messages must be exactly 1..last_sequence). */
  last_sequence: number;
}

/** One node's copy of a room: undefined `room` when the node does not know it. */
export interface RoomCopy {
  node: string;
  room: StoredRoom | undefined;
  /** Ascending by sequence; empty when read with `{ messages: false }`. */
  messages: StoredMessage[];
}

/**
 * Reads `roomIds` from a node's data directory, read-only (safe while the node runs: WAL).
 * `messages: false` reads only the rooms (cheap enough to sample every few ms). Throws while the
 * file cannot be opened (a node creating it right now): callers that sample retry.
 */
export function readRooms(node: NodeProcess, roomIds: string[], options: { messages?: boolean } = {}): RoomCopy[] {
  const db = new DatabaseSync(path.join(node.env.DATA_DIR, 'chat.db'), { readOnly: true, timeout: 2000 });
  try {
    const roomQuery = db.prepare('SELECT room_id, host_node, host_epoch, last_sequence FROM rooms WHERE room_id = ?');
    const messageQuery = db.prepare('SELECT sequence_number, message_id, content, client_message_id, edited_at, deleted_at FROM messages WHERE room_id = ? ORDER BY sequence_number');
    return roomIds.map((id) => {
      const row = roomQuery.get(id) as Record<string, unknown> | undefined;
      const room = row && { room_id: String(row.room_id), host_node: String(row.host_node), host_epoch: Number(row.host_epoch), last_sequence: Number(row.last_sequence) };
      // edited_at / deleted_at only when set: an untouched message keeps the shape it always had
      const messages = options.messages === false || !row ? [] : (messageQuery.all(id) as unknown as StoredMessage[]).map(({ edited_at, deleted_at, ...m }) => ({ ...m, sequence_number: Number(m.sequence_number), ...(edited_at ? { edited_at } : {}), ...(deleted_at ? { deleted_at } : {}) }));
      return { node: node.spec.nodeId, room, messages };
    });
  } finally {
    db.close();
  }
}

/** What one node's copy says about a room beyond its messages: moderation, read markers, invitations, members. */
export interface RoomStateCopy {
  node: string;
  /** room_moderation rows (a row may say neither: an unban leaves banned 0), by username. */
  moderation: { username: string; moderator: boolean; banned: boolean; muted_until: string | null }[];
  /** read_markers rows, by username. */
  markers: { username: string; sequence_number: number; read_at: string }[];
  /** room_invites rows (a private room's creator is invited by its first entry), by username. */
  invites: { username: string; invited_by: string; invited_at: string }[];
  /** The room's members (usernames, sorted). */
  members: string[];
}

/** The moderation, read markers, invitations and members of `roomIds` on one node, read-only (as readRooms). */
export function readRoomStates(node: NodeProcess, roomIds: string[]): RoomStateCopy[] {
  const db = new DatabaseSync(path.join(node.env.DATA_DIR, 'chat.db'), { readOnly: true, timeout: 2000 });
  try {
    const q = (sql: string) => db.prepare(sql);
    const moderation = q('SELECT username, moderator, banned, muted_until FROM room_moderation WHERE room_id = ? ORDER BY username');
    const markers = q('SELECT username, sequence_number, read_at FROM read_markers WHERE room_id = ? ORDER BY username');
    const invites = q('SELECT username, invited_by, invited_at FROM room_invites WHERE room_id = ? ORDER BY username');
    const members = q('SELECT username FROM members WHERE room_id = ? ORDER BY username');
    return roomIds.map((id) => ({
      node: node.spec.nodeId,
      moderation: (moderation.all(id) as Record<string, any>[]).map((r) => ({ username: String(r.username), moderator: Number(r.moderator) === 1, banned: Number(r.banned) === 1, muted_until: r.muted_until ?? null })),
      markers: (markers.all(id) as Record<string, any>[]).map((r) => ({ username: String(r.username), sequence_number: Number(r.sequence_number), read_at: String(r.read_at) })),
      invites: (invites.all(id) as Record<string, any>[]).map((r) => ({ username: String(r.username), invited_by: String(r.invited_by), invited_at: String(r.invited_at) })),
      members: (members.all(id) as Record<string, any>[]).map((r) => String(r.username)),
    }));
  } finally {
    db.close();
  }
}

/**
 * What a copy of a data directory holds, all rooms together: log entries and messages (zeros when
 * it has no database). For copies only: opening a database may recover its write-ahead log.
 */
export function countStored(dataDir: string): { entries: number; messages: number } {
  const file = path.join(dataDir, 'chat.db');
  if (!fs.existsSync(file)) return { entries: 0, messages: 0 };
  const db = new DatabaseSync(file, { timeout: 2000 });
  try {
    const count = (table: string) => Number((db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
    return { entries: count('log_entries'), messages: count('messages') };
  } finally {
    db.close();
  }
}
