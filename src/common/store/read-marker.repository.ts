import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Row } from './store-rows';
import type { StoreTransactions } from './store-transactions';

/** How far one user has read one room, and what is left to read. */
export interface ReadState {
  /** The highest sequence number the user marked read (0: none yet). */
  lastRead: number;
  /** Messages after lastRead that are not deleted. */
  unreadCount: number;
}

/**
 * The read_markers table: per room and user, the last sequence number read, as committed
 * read_marker entries left it. A marker only moves forward, whatever order entries race in.
 */
export class ReadMarkerRepository {
  private readonly sql: Record<string, StatementSync>;

  constructor(
    db: DatabaseSync,
    private readonly tx: StoreTransactions,
  ) {
    const p = (s: string) => db.prepare(s);
    this.sql = {
      advance: p(`INSERT INTO read_markers (room_id, username, sequence_number, read_at) VALUES (?, ?, ?, ?)
      ON CONFLICT(room_id, username) DO UPDATE SET sequence_number = excluded.sequence_number, read_at = excluded.read_at
      WHERE excluded.sequence_number > read_markers.sequence_number`),
      marker: p('SELECT sequence_number AS s FROM read_markers WHERE room_id = ? AND username = ?'),
      // a range of the messages' primary key: costs what is unread, not the room's length
      unread: p('SELECT count(*) AS n FROM messages WHERE room_id = ? AND sequence_number > ? AND deleted_at IS NULL'),
      drop: p('DELETE FROM read_markers WHERE room_id = ?'),
    };
  }

  /** Moves the user's marker up to `sequence`; false (nothing written) when it is already there or beyond. */
  advance(roomId: string, username: string, sequence: number, readAt: string): boolean {
    return this.tx.run(() => Number(this.sql.advance.run(roomId, username, sequence, readAt).changes) > 0);
  }

  lastRead(roomId: string, username: string): number {
    const row = this.sql.marker.get(roomId, username) as Row | undefined;
    return row ? Number(row.s) : 0;
  }

  readState(roomId: string, username: string): ReadState {
    const lastRead = this.lastRead(roomId, username);
    return { lastRead, unreadCount: Number((this.sql.unread.get(roomId, lastRead) as Row).n) };
  }

  /** The room's markers go: only inside the transaction that leaves its tombstone (TombstoneRepository.deleteRoom). */
  drop(roomId: string): void {
    this.sql.drop.run(roomId);
  }
}
