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
  ) {
    const p = (s: string) => db.prepare(s);
    this.sql = {
      insertMessage: p(`INSERT INTO messages (room_id, sequence_number, message_id, username, content, timestamp, client_message_id)
      VALUES (@roomId, @sequenceNumber, @messageId, @username, @content, @timestamp, @clientMessageId)`),
      byClientId: p('SELECT * FROM messages WHERE room_id = ? AND username = ? AND client_message_id = ?'),
      after: p('SELECT * FROM messages WHERE room_id = ? AND sequence_number > ? ORDER BY sequence_number LIMIT ?'),
      before: p('SELECT * FROM messages WHERE room_id = ? AND sequence_number < ? ORDER BY sequence_number DESC LIMIT ?'),
      firstSeq: p('SELECT min(sequence_number) AS s FROM messages WHERE room_id = ?'),
      deleteMessages: p('DELETE FROM messages WHERE room_id = ?'),
    };
  }

  /** A committed message, applied in sequence order: stored and counted as the room's last. */
  insertMessage(message: MessageRecord): void {
    this.tx.run(() => {
      this.sql.insertMessage.run({ ...message });
      this.rooms.recordLastSequence(message.roomId, message.sequenceNumber);
    });
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
  firstSequence(roomId: string): number {
    const row = this.sql.firstSeq.get(roomId) as Row;
    return row.s === null ? 0 : Number(row.s);
  }

  /** The room's messages go: only inside the transaction that leaves its tombstone (TombstoneRepository.deleteRoom). */
  drop(roomId: string): void {
    this.sql.deleteMessages.run(roomId);
  }
}
