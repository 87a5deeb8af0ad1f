import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Row } from './store-rows';
import type { StoreTransactions } from './store-transactions';

/**
 * How many moderation notices a room keeps (the latest ones): all of them go into every
 * join_room_success, so the list must stay small whatever a room's age; 100 covers a room's recent
 * moderation (what a member coming back wants to see) at a few tens of kilobytes at most (reasons
 * are at most 500 characters). Migration 11 keeps the same number.
 */
export const MODERATION_NOTICES_KEPT = 100;

/** One moderation notice as members in the room were shown it live: the event's name and its data. */
export interface ModerationNotice {
  event: string;
  data: Record<string, unknown>;
}

/**
 * The room_moderation table, as committed moderation entries left it: a room's moderators, its
 * banned names, and each muted member's expiry (the host's clock at proposal time plus the
 * duration, so every node compares against the same instant). Rows go with the room (migration 9).
 * And room_moderation_log (migration 11): the room's latest moderation notices, one per applied
 * moderation entry by its log index, written in the write that applies the entry, so every node
 * holds the same ones (made only from committed entries, pruned by index alike). Rows go with the room.
 */
export class RoomModerationRepository {
  private readonly sql: Record<string, StatementSync>;

  constructor(
    db: DatabaseSync,
    private readonly tx: StoreTransactions,
  ) {
    const p = (s: string) => db.prepare(s);
    const upsert = (column: string) =>
      p(`INSERT INTO room_moderation (room_id, username, ${column}) VALUES (?, ?, ?) ON CONFLICT(room_id, username) DO UPDATE SET ${column} = excluded.${column}`);
    this.sql = {
      moderator: upsert('moderator'),
      banned: upsert('banned'),
      mutedUntil: upsert('muted_until'),
      row: p('SELECT moderator, banned, muted_until FROM room_moderation WHERE room_id = ? AND username = ?'),
      moderators: p('SELECT username FROM room_moderation WHERE room_id = ? AND moderator = 1 ORDER BY username'),
      bannedNames: p('SELECT username FROM room_moderation WHERE room_id = ? AND banned = 1 ORDER BY username'),
      notice: p('INSERT INTO room_moderation_log (room_id, log_index, event, data) VALUES (?, ?, ?, ?) ON CONFLICT(room_id, log_index) DO UPDATE SET event = excluded.event, data = excluded.data'),
      pruneNotices: p(
        `DELETE FROM room_moderation_log WHERE room_id = ? AND log_index <= (SELECT log_index FROM room_moderation_log WHERE room_id = ? ORDER BY log_index DESC LIMIT 1 OFFSET ${MODERATION_NOTICES_KEPT})`,
      ),
      notices: p('SELECT event, data FROM room_moderation_log WHERE room_id = ? ORDER BY log_index'),
    };
  }

  addModerator(roomId: string, username: string): void {
    this.tx.run(() => this.sql.moderator.run(roomId, username, 1));
  }

  setBanned(roomId: string, username: string, banned: boolean): void {
    this.tx.run(() => this.sql.banned.run(roomId, username, banned ? 1 : 0));
  }

  /** `until` is an ISO time; a later entry replaces an earlier one (a shorter mute shortens it). */
  muteUntil(roomId: string, username: string, until: string): void {
    this.tx.run(() => this.sql.mutedUntil.run(roomId, username, until));
  }

  isModerator(roomId: string, username: string): boolean {
    return Number(this.row(roomId, username)?.moderator ?? 0) === 1;
  }

  isBanned(roomId: string, username: string): boolean {
    return Number(this.row(roomId, username)?.banned ?? 0) === 1;
  }

  /** The expiry of `username`'s last mute in the room (it may have passed), or null. */
  mutedUntil(roomId: string, username: string): string | null {
    const until = this.row(roomId, username)?.muted_until;
    return typeof until === 'string' ? until : null;
  }

  moderators(roomId: string): string[] {
    return (this.sql.moderators.all(roomId) as Row[]).map((r) => String(r.username));
  }

  /** The names banned from the room now. */
  bannedNames(roomId: string): string[] {
    return (this.sql.bannedNames.all(roomId) as Row[]).map((r) => String(r.username));
  }

  /** Keeps the notice of the moderation entry at `logIndex` (written again the same if applied again), dropping the oldest past MODERATION_NOTICES_KEPT. */
  recordNotice(roomId: string, logIndex: number, event: string, data: Record<string, unknown>): void {
    this.tx.run(() => {
      this.sql.notice.run(roomId, logIndex, event, JSON.stringify(data));
      this.sql.pruneNotices.run(roomId, roomId);
    });
  }

  /** The room's kept moderation notices, oldest first (log order). */
  notices(roomId: string): ModerationNotice[] {
    return (this.sql.notices.all(roomId) as Row[]).map((r) => ({ event: String(r.event), data: JSON.parse(String(r.data)) as Record<string, unknown> }));
  }

  private row(roomId: string, username: string): Row | undefined {
    return this.sql.row.get(roomId, username) as Row | undefined;
  }
}
