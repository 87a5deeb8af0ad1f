import { MessageRepository } from '../../../common/store/message.repository';
import { RoomLogRepository } from '../../../common/store/room-log.repository';
import { RoomRepository } from '../../../common/store/room.repository';
import { StoreTransactions } from '../../../common/store/store-transactions';
import { ClientRegistry } from '../../members/client-registry';
import type { Entry } from '../consensus/log-entry';
import type { MessageDeletedData, MessageEditedData } from './room-entries';
import { SequenceWaiters } from './sequence-waiters';

/**
 * Committed edits and deletions of messages, applied the same way on every node (LogApplier hands
 * them here): the stored message changes in the write that records the entry as applied, and the
 * room's members here are told once that write has committed. Neither touches the room's sequence
 * numbers. Owned by LogApplier.
 */
export class MessageChangeApplier {
  /**
   * Requesters on this node waiting for their change to be applied here (so they see their own
   * message_edited / message_deleted before the answer), by the change's log index.
   */
  readonly applied = new SequenceWaiters();

  constructor(
    private readonly transactions: StoreTransactions,
    private readonly rooms: RoomRepository,
    private readonly messages: MessageRepository,
    private readonly storedLogs: RoomLogRepository,
    private readonly clients: ClientRegistry,
  ) {}

  applyEdit(roomId: string, entry: Entry): void {
    const d = entry.data as MessageEditedData | null;
    // an edit retention or a later deletion stripped (no content) changes nothing: the message is gone or a tombstone by now
    if (d && typeof d.content === 'string' && this.rooms.getRoom(roomId) && this.messages.edit(roomId, d.sequence_number, d.content, d.edited_at)) {
      const event = { room_id: roomId, message_id: d.message_id, sequence_number: d.sequence_number, username: d.username, content: d.content, edited_at: d.edited_at };
      this.transactions.afterCommit(() => this.clients.broadcast(roomId, 'message_edited', event));
    }
    this.reached(roomId, entry.index);
  }

  applyDelete(roomId: string, entry: Entry): void {
    const d = entry.data as MessageDeletedData | null;
    const room = this.rooms.getRoom(roomId);
    if (d && room) {
      // not stored here: retention removed it first (a node that caught up from a log the deletion
      // had already stripped stored the tombstone from the message's entry: LogApplier)
      this.messages.markDeleted(roomId, d.sequence_number, d.deleted_at);
      // the text goes from the log too, as retention strips it (earlier entries only: committed and applied here)
      this.storedLogs.stripMessageAt(roomId, d.sequence_number, entry.index, d.deleted_at);
      const event = { room_id: roomId, message_id: d.message_id, sequence_number: d.sequence_number, username: d.username, deleted_by: d.deleted_by, deleted_at: d.deleted_at };
      this.transactions.afterCommit(() => this.clients.broadcast(roomId, 'message_deleted', event));
    }
    this.reached(roomId, entry.index);
  }

  private reached(roomId: string, index: number): void {
    this.transactions.afterCommit(() => this.applied.reached(roomId, index, 0));
  }
}
