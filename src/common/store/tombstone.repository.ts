import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { TombstoneRecord } from './chat-records';
import type { MemberRepository } from './member.repository';
import type { MessageRepository } from './message.repository';
import type { ReadMarkerRepository } from './read-marker.repository';
import type { RoomLogRepository } from './room-log.repository';
import type { RoomRepository } from './room.repository';
import { toTombstone, type Row } from './store-rows';
import type { StoreTransactions } from './store-transactions';

/** What a deletion removes besides the room's tombstone (every table that holds the room). */
export interface RoomTables {
  rooms: RoomRepository;
  members: MemberRepository;
  messages: MessageRepository;
  logs: RoomLogRepository;
  readMarkers: ReadMarkerRepository;
}

/**
 * The tombstones table, and the one write that makes a tombstone: the room leaves every table in
 * the same transaction, so peers that missed the deletion learn it and nothing of the room is left.
 */
export class TombstoneRepository {
  private readonly sql: Record<string, StatementSync>;

  constructor(
    db: DatabaseSync,
    private readonly tx: StoreTransactions,
    private readonly tables: RoomTables,
  ) {
    const p = (s: string) => db.prepare(s);
    this.sql = {
      insertTombstone: p(`INSERT OR REPLACE INTO tombstones (room_id, room_name, host_node, deleted_at, transaction_id)
      VALUES (@roomId, @roomName, @hostNode, @deletedAt, @transactionId)`),
      tombstone: p('SELECT * FROM tombstones WHERE room_id = ?'),
      tombstonesPage: p('SELECT * FROM tombstones WHERE room_id > ? ORDER BY room_id LIMIT ?'),
    };
  }

  /** Removes a room with its members, messages and log, and leaves a tombstone for peers that missed it. */
  deleteRoom(tombstone: TombstoneRecord): void {
    const { rooms, members, messages, logs, readMarkers } = this.tables;
    this.tx.run(() => {
      members.drop(tombstone.roomId);
      messages.drop(tombstone.roomId);
      rooms.drop(tombstone.roomId);
      logs.drop(tombstone.roomId);
      readMarkers.drop(tombstone.roomId);
      this.sql.insertTombstone.run({ ...tombstone });
    });
  }
  getTombstone(roomId: string): TombstoneRecord | null {
    const row = this.sql.tombstone.get(roomId) as Row | undefined;
    return row ? toTombstone(row) : null;
  }
  tombstonesAfter(afterRoomId: string, limit: number): TombstoneRecord[] {
    return (this.sql.tombstonesPage.all(afterRoomId, limit) as Row[]).map(toTombstone);
  }
}
