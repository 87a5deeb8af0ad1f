import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { RoomMeta, RoomRecord, RoomState } from './chat-records';
import { toRoom, type Row } from './store-rows';
import type { StoreTransactions } from './store-transactions';

/** The rooms table: each room's description, host, deletion state and the last message applied here. */
export class RoomRepository {
  private readonly sql: Record<string, StatementSync>;
  /** Rooms are read on every send and every replicated event: a write-through cache. */
  private readonly cache = new Map<string, RoomRecord>();

  constructor(
    db: DatabaseSync,
    private readonly tx: StoreTransactions,
  ) {
    const p = (s: string) => db.prepare(s);
    this.sql = {
      getRoom: p('SELECT * FROM rooms WHERE room_id = ?'),
      roomByName: p('SELECT * FROM rooms WHERE room_name = ? LIMIT 1'),
      roomsByName: p('SELECT * FROM rooms WHERE room_name = ?'),
      allRooms: p('SELECT * FROM rooms ORDER BY created_at, room_id'),
      countByHost: p('SELECT count(*) AS n FROM rooms WHERE host_node = ?'),
      roomsByHost: p('SELECT * FROM rooms WHERE host_node = ? ORDER BY created_at, room_id'),
      roomsPage: p('SELECT * FROM rooms WHERE room_id > ? ORDER BY room_id LIMIT ?'),
      insertRoom: p(`INSERT INTO rooms (room_id, room_name, description, creator_id, host_node, host_epoch, state, created_at, last_sequence, deletion_txn)
      VALUES (@roomId, @roomName, @description, @creatorId, @hostNode, @hostEpoch, @state, @createdAt, @lastSequence, @deletionTxn)`),
      upsertRoomMeta: p(`INSERT INTO rooms (room_id, room_name, description, creator_id, host_node, host_epoch, state, created_at, last_sequence, deletion_txn)
      VALUES (@roomId, @roomName, @description, @creatorId, @hostNode, @hostEpoch, @state, @createdAt, 0, @deletionTxn)
      ON CONFLICT(room_id) DO UPDATE SET room_name = excluded.room_name, description = excluded.description,
        creator_id = excluded.creator_id, created_at = excluded.created_at, host_node = excluded.host_node, host_epoch = excluded.host_epoch, state = excluded.state, deletion_txn = excluded.deletion_txn`),
      setHost: p('UPDATE rooms SET host_node = ?, host_epoch = ? WHERE room_id = ?'),
      setState: p('UPDATE rooms SET state = ?, deletion_txn = ? WHERE room_id = ?'),
      setLastSequence: p('UPDATE rooms SET last_sequence = ? WHERE room_id = ?'),
      deleteRoom: p('DELETE FROM rooms WHERE room_id = ?'),
    };
    tx.onRollback(() => this.cache.clear());
  }

  getRoom(roomId: string): RoomRecord | null {
    let room = this.cache.get(roomId);
    if (!room) {
      const row = this.sql.getRoom.get(roomId) as Row | undefined;
      if (!row) return null;
      room = toRoom(row);
      this.cache.set(roomId, room);
    }
    return { ...room };
  }
  findRoomByName(roomName: string): RoomRecord | null {
    const row = this.sql.roomByName.get(roomName) as Row | undefined;
    return row ? toRoom(row) : null;
  }
  /** Every room of that name (a private room and another may share one: names are unique among what one user sees). */
  findRoomsByName(roomName: string): RoomRecord[] {
    return (this.sql.roomsByName.all(roomName) as Row[]).map(toRoom);
  }
  countRoomsHostedBy(hostNode: string): number {
    return Number((this.sql.countByHost.get(hostNode) as Row).n);
  }
  listRooms(hostNode?: string): RoomRecord[] {
    const rows = (hostNode === undefined ? this.sql.allRooms.all() : this.sql.roomsByHost.all(hostNode)) as Row[];
    return rows.map(toRoom);
  }
  /** Rooms with ids after `afterRoomId`, in id order (for paged catch-up replies). */
  roomsAfter(afterRoomId: string, limit: number): RoomRecord[] {
    return (this.sql.roomsPage.all(afterRoomId, limit) as Row[]).map(toRoom);
  }
  insertRoom(room: RoomRecord): void {
    this.tx.run(() => this.sql.insertRoom.run({ ...room }));
    this.cache.delete(room.roomId);
  }
  /** Creates or refreshes a replica's metadata; its messages, sequence and epochs are left alone. */
  upsertRoomMeta(room: RoomMeta): void {
    this.tx.run(() => this.sql.upsertRoomMeta.run({ ...room }));
    this.cache.delete(room.roomId);
  }
  /** The room's host as this node knows it now (routing). */
  setHost(roomId: string, hostNode: string, hostEpoch: number): void {
    this.tx.run(() => this.sql.setHost.run(hostNode, hostEpoch, roomId));
    this.cache.delete(roomId);
  }
  setRoomState(roomId: string, state: RoomState, deletionTxn: string | null): void {
    this.tx.run(() => this.sql.setState.run(state, deletionTxn, roomId));
    this.cache.delete(roomId);
  }

  /**
   * Counts a committed message as the room's last: only inside the transaction that stores it
   * (MessageRepository.insertMessage), or that applies a message entry retention already stripped.
   */
  recordLastSequence(roomId: string, sequenceNumber: number): void {
    this.sql.setLastSequence.run(sequenceNumber, roomId);
    const cached = this.cache.get(roomId);
    if (cached) cached.lastSequence = sequenceNumber;
  }

  /** The room's row goes: only inside the transaction that leaves its tombstone (TombstoneRepository.deleteRoom). */
  drop(roomId: string): void {
    this.sql.deleteRoom.run(roomId);
    this.cache.delete(roomId);
  }
}
