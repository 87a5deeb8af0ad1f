import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { MessageRecord } from './chat-records';
import type { RoomRepository } from './room.repository';
import { toMessage, type Row } from './store-rows';
import type { StoreTransactions } from './store-transactions';

/** The messages table: every committed message of the rooms this node knows, in sequence order. */
export class MessageRepository {
  private readonly sql: Record<string, StatementSync>;

  constructor(
    db: DatabaseSync,
    private readonly tx: StoreTransactions,
    /** A stored message is counted as its room's last in the same write. */
    private readonly rooms: RoomRepository,
    /** Told of each stored message's room (the search index follows: SearchIndexing). */
    private readonly stored: (roomId: string) => void = () => undefined,
  ) {
    const p = (s: string) => db.prepare(s);
    this.sql = {
      insertMessage: p(`INSERT INTO messages (room_id, sequence_number, message_id, username, content, timestamp, client_message_id, edited_at, deleted_at)
      VALUES (@roomId, @sequenceNumber, @messageId, @username, @content, @timestamp, @clientMessageId, @editedAt, @deletedAt)`),
      byClientId: p('SELECT * FROM messages WHERE room_id = ? AND username = ? AND client_message_id = ?'),
      after: p('SELECT * FROM messages WHERE room_id = ? AND sequence_number > ? ORDER BY sequence_number LIMIT ?'),
      before: p('SELECT * FROM messages WHERE room_id = ? AND sequence_number < ? ORDER BY sequence_number DESC LIMIT ?'),
      firstSeq: p('SELECT min(sequence_number) AS s FROM messages WHERE room_id = ?'),
      firstSince: p('SELECT sequence_number AS s FROM messages WHERE room_id = ? AND timestamp >= ? ORDER BY sequence_number LIMIT 1'),
      byId: p('SELECT * FROM messages WHERE room_id = ? AND message_id = ?'),
      edit: p('UPDATE messages SET content = ?, edited_at = ? WHERE room_id = ? AND sequence_number = ? AND deleted_at IS NULL'),
      markDeleted: p(`UPDATE messages SET content = '', deleted_at = ? WHERE room_id = ? AND sequence_number = ? AND deleted_at IS NULL`),
      trimBefore: p('DELETE FROM messages WHERE room_id = ? AND sequence_number < ?'),
      deleteMessages: p('DELETE FROM messages WHERE room_id = ?'),
    };
  }

  /** A committed message, applied in sequence order: stored and counted as the room's last. */
  insertMessage(message: MessageRecord): void {
    this.tx.run(() => {
      this.sql.insertMessage.run({ editedAt: null, deletedAt: null, ...message });
      this.rooms.recordLastSequence(message.roomId, message.sequenceNumber);
    });
    this.stored(message.roomId);
  }

  findById(roomId: string, messageId: string): MessageRecord | null {
    const row = this.sql.byId.get(roomId, messageId) as Row | undefined;
    return row ? toMessage(row) : null;
  }

  /** A committed edit: the new text replaces the old (a deleted message stays deleted). Returns whether it changed a row. */
  edit(roomId: string, sequence: number, content: string, editedAt: string): boolean {
    return this.tx.run(() => Number(this.sql.edit.run(content, editedAt, roomId, sequence).changes) > 0);
  }

  /** A committed deletion: the message becomes a tombstone (no content) at its sequence number. Returns whether it changed a row. */
  markDeleted(roomId: string, sequence: number, deletedAt: string): boolean {
    return this.tx.run(() => Number(this.sql.markDeleted.run(deletedAt, roomId, sequence).changes) > 0);
  }

  findByClientMessageId(roomId: string, username: string, clientMessageId: string): MessageRecord | null {
    const row = this.sql.byClientId.get(roomId, username, clientMessageId) as Row | undefined;
    return row ? toMessage(row) : null;
  }
  messagesAfter(roomId: string, afterSequence: number, limit: number): MessageRecord[] {
    return (this.sql.after.all(roomId, afterSequence, limit) as Row[]).map(toMessage);
  }
  /** The `limit` messages just below `beforeSequence`, ascending. */
  messagesBefore(roomId: string, beforeSequence: number, limit: number): MessageRecord[] {
    return (this.sql.before.all(roomId, beforeSequence, limit) as Row[]).map(toMessage).reverse();
  }
  /**
   * The room's first stored message: 0 when the room never had one; above the room's last
   * sequence when retention removed every message it had (the next message will be the first).
   */
  firstSequence(roomId: string): number {
    const row = this.sql.firstSeq.get(roomId) as Row;
    if (row.s !== null) return Number(row.s);
    const last = this.rooms.getRoom(roomId)?.lastSequence ?? 0;
    return last === 0 ? 0 : last + 1;
  }

  /** The first message (in sequence order) stamped at or after `iso`; null when there is none. */
  firstSequenceSince(roomId: string, iso: string): number | null {
    const row = this.sql.firstSince.get(roomId, iso) as Row | undefined;
    return row ? Number(row.s) : null;
  }

  /**
   * Retention: the room's messages below `beforeSequence` go (only as a committed trim entry is
   * applied, so every node removes the same ones); the room's last sequence stays. Returns how many went.
   */
  trimBefore(roomId: string, beforeSequence: number): number {
    return this.tx.run(() => Number(this.sql.trimBefore.run(roomId, beforeSequence).changes));
  }

  /** The room's messages go: only inside the transaction that leaves its tombstone (TombstoneRepository.deleteRoom). */
  drop(roomId: string): void {
    this.sql.deleteMessages.run(roomId);
  }
}
