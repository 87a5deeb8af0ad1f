import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Row } from './store-rows';
import type { StoreTransactions } from './store-transactions';

/**
 * The room_moderation table, as committed moderation entries left it: a room's moderators, its
 * banned names, and each muted member's expiry (the host's clock at proposal time plus the
 * duration, so every node compares against the same instant). Rows go with the room (migration 9).
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

  private row(roomId: string, username: string): Row | undefined {
    return this.sql.row.get(roomId, username) as Row | undefined;
  }
}
