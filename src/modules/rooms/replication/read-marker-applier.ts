import type { ReadMarkerRepository } from '../../../common/store/read-marker.repository';
import type { StoreTransactions } from '../../../common/store/store-transactions';
import type { ClientRegistry } from '../../members/client-registry';
import type { Entry } from '../consensus/log-entry';
import type { ReadMarkerData } from './room-entries';
import type { SequenceWaiters } from './sequence-waiters';

/**
 * Committed read markers, applied the same way on every node (LogApplier hands them here): the
 * marker moves forward in the write that records the entry as applied, and once that write has
 * committed every connection of that user in the room on this node gets `read_marker`. Owned by
 * LogApplier.
 */
export class ReadMarkerApplier {
  constructor(
    private readonly transactions: StoreTransactions,
    private readonly markers: ReadMarkerRepository,
    private readonly clients: ClientRegistry,
    /** Requesters waiting for their change to be applied here, by log index (shared with message changes). */
    private readonly applied: SequenceWaiters,
  ) {}

  apply(roomId: string, entry: Entry, roomKnown: boolean): void {
    const d = entry.data as ReadMarkerData | null;
    if (d && roomKnown && typeof d.username === 'string' && Number.isSafeInteger(d.sequence_number) && this.markers.advance(roomId, d.username, d.sequence_number, d.read_at)) {
      const event = { room_id: roomId, username: d.username, sequence_number: d.sequence_number };
      this.transactions.afterCommit(() => this.clients.sendToUserInRoom(roomId, d.username, 'read_marker', event));
    }
    this.transactions.afterCommit(() => this.applied.reached(roomId, entry.index, 0));
  }
}
