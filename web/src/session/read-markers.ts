// How far this user has read each room, shared with the user's other tabs and devices through the
// server (mark_read, read_marker): we mark a room read up to its newest message while it is on
// screen, and hear how far our other connections read. A node that does not know mark_read (an
// earlier version) is no longer told; the page then counts unread messages on its own.

import type { RoomState } from './room-state';
import type { SessionContext } from './session-context';
import { KeyedTimers } from './timers';

/**
 * A room on screen is marked at most this often (the last mark of a burst goes at the end of it):
 * mark_read shares the budget of our sends, which a busy room must not use up.
 */
const MARK_EVERY_MS = 1000;

export class ReadMarkers {
  private readonly ctx: SessionContext;
  /** Per room: the highest sequence we asked the server to mark (or it told us), to send each mark once. */
  private readonly marked = new Map<string, number>();
  private unsupported = false;
  /** Rooms marked within the last MARK_EVERY_MS: a mark asked for meanwhile waits for the timer. */
  private readonly spacing: KeyedTimers;
  private readonly waiting = new Set<string>();

  constructor(ctx: SessionContext) {
    this.ctx = ctx;
    this.spacing = new KeyedTimers(ctx.timers);
  }

  /** A join reply: where our marker stands and how many messages up to the room's last are unread. */
  onJoined(room: RoomState, d: Record<string, unknown>): void {
    if (typeof d.last_read !== 'number' || typeof d.unread_count !== 'number' || typeof d.last_sequence !== 'number') return;
    this.marked.set(room.id, Math.max(this.marked.get(room.id) ?? 0, d.last_read));
    this.ctx.emit({ kind: 'read', room, lastRead: d.last_read, unread: { count: d.unread_count, upTo: d.last_sequence } });
  }

  /** The room is on screen: everything in it up to its newest message is read. Sent only when it moves. */
  markRead(roomId: string): void {
    const room = this.ctx.rooms.get(roomId);
    const newest = room?.buffer.lastSeq ?? 0;
    if (!room || room.status !== 'joined' || this.unsupported || newest <= (this.marked.get(roomId) ?? 0) || !this.ctx.isOpen()) return;
    if (this.spacing.has(roomId)) {
      this.waiting.add(roomId);
      return;
    }
    this.marked.set(roomId, newest);
    this.ctx.send({ type: 'mark_read', data: { room_id: roomId, username: this.ctx.username, sequence_number: newest } });
    this.spacing.schedule(roomId, MARK_EVERY_MS, () => {
      if (this.waiting.delete(roomId)) this.markRead(roomId);
    });
  }

  cancelAll(): void {
    this.spacing.cancelAll();
    this.waiting.clear();
  }

  /** Our marker moved (through this connection or another of ours). */
  onMarker(room: RoomState, d: Record<string, unknown>): void {
    if (d.username !== this.ctx.username || typeof d.sequence_number !== 'number') return;
    this.marked.set(room.id, Math.max(this.marked.get(room.id) ?? 0, d.sequence_number));
    this.ctx.emit({ kind: 'read', room, lastRead: d.sequence_number });
  }

  /** A refusal of a mark: nothing to tell the user (a mark is a hint); a node that does not know it is no longer told. */
  isRefusal(d: Record<string, unknown>): boolean {
    const unknown = d.error_code === 'UNKNOWN_TYPE' && d.message === 'Unknown message type: mark_read';
    if (unknown) this.unsupported = true;
    return unknown || d.request === 'mark_read';
  }
}
