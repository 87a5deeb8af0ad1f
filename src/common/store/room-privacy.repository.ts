import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Row } from './store-rows';
import type { StoreTransactions } from './store-transactions';

/** How a private room is kept apart: `direct` rooms are the two-person conversations of open_direct. */
export interface RoomPrivacy {
  direct: boolean;
}

/**
 * The room_privacy and room_invites tables, as committed room and invite_user entries left them.
 * A room without a row here is public. Rows go with the room's own row (trigger of migration 8).
 */
export class RoomPrivacyRepository {
  private readonly sql: Record<string, StatementSync>;

  constructor(
    db: DatabaseSync,
    private readonly tx: StoreTransactions,
  ) {
    const p = (s: string) => db.prepare(s);
    this.sql = {
      markPrivate: p('INSERT INTO room_privacy (room_id, direct) VALUES (?, ?) ON CONFLICT(room_id) DO UPDATE SET direct = excluded.direct'),
      privacy: p('SELECT direct FROM room_privacy WHERE room_id = ?'),
      invite: p('INSERT INTO room_invites (room_id, username, invited_by, invited_at) VALUES (?, ?, ?, ?) ON CONFLICT(room_id, username) DO NOTHING'),
      invited: p('SELECT 1 AS yes FROM room_invites WHERE room_id = ? AND username = ?'),
      invitees: p('SELECT username FROM room_invites WHERE room_id = ? ORDER BY username'),
      privateRooms: p('SELECT room_id FROM room_privacy ORDER BY room_id'),
    };
  }

  markPrivate(roomId: string, direct: boolean): void {
    this.tx.run(() => this.sql.markPrivate.run(roomId, direct ? 1 : 0));
  }

  /** Null: the room is public (or unknown here). */
  privacyOf(roomId: string): RoomPrivacy | null {
    const row = this.sql.privacy.get(roomId) as Row | undefined;
    return row ? { direct: Number(row.direct) === 1 } : null;
  }

  /** Records an invitation; false when `username` was invited already (nothing written). */
  invite(roomId: string, username: string, invitedBy: string, invitedAt: string): boolean {
    return this.tx.run(() => Number(this.sql.invite.run(roomId, username, invitedBy, invitedAt).changes) > 0);
  }

  isInvited(roomId: string, username: string): boolean {
    return this.sql.invited.get(roomId, username) !== undefined;
  }

  invitees(roomId: string): string[] {
    return (this.sql.invitees.all(roomId) as Row[]).map((r) => String(r.username));
  }

  privateRoomIds(): string[] {
    return (this.sql.privateRooms.all() as Row[]).map((r) => String(r.room_id));
  }
}
