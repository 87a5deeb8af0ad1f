import type { RoomPrivacyRepository } from '../../../common/store/room-privacy.repository';
import type { RoomRepository } from '../../../common/store/room.repository';
import type { StoreTransactions } from '../../../common/store/store-transactions';
import type { ClientRegistry } from '../../members/client-registry';
import type { Entry } from '../consensus/log-entry';
import type { RoomData, RoomInviteData } from './room-entries';
import type { SequenceWaiters } from './sequence-waiters';

/**
 * Who may see a private room, as its committed entries say, applied the same way on every node
 * (LogApplier hands them here): the room's first entry makes it private and invites its creator
 * (and a direct room's two people); each room_invite entry adds one user, whose connections on
 * this node are told `room_invitation` once the write has committed. Owned by LogApplier.
 */
export class RoomInviteApplier {
  constructor(
    private readonly transactions: StoreTransactions,
    private readonly rooms: RoomRepository,
    private readonly privacy: RoomPrivacyRepository,
    private readonly clients: ClientRegistry,
    /** Requesters waiting for their change to be applied here, by log index (shared with message changes). */
    private readonly applied: SequenceWaiters,
  ) {}

  /** The room's first entry (already applied to rooms): nothing to do for a public room. */
  applyRoom(roomId: string, d: RoomData): void {
    if (d.private !== true) return;
    this.privacy.markPrivate(roomId, d.direct === true);
    for (const username of new Set([d.creator_id, ...(Array.isArray(d.invited) ? d.invited : [])])) {
      if (typeof username === 'string') this.privacy.invite(roomId, username, d.creator_id, d.created_at);
    }
  }

  applyInvite(roomId: string, entry: Entry): void {
    const d = entry.data as RoomInviteData | null;
    const room = this.rooms.getRoom(roomId);
    if (d && room && typeof d.username === 'string' && this.privacy.invite(roomId, d.username, d.invited_by, d.invited_at)) {
      const event = { room_id: roomId, room_name: room.roomName, invited_by: d.invited_by };
      this.transactions.afterCommit(() => this.clients.sendToUser(d.username, 'room_invitation', event));
    }
    this.transactions.afterCommit(() => this.applied.reached(roomId, entry.index, 0));
  }
}
