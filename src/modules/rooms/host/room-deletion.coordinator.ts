import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Clock } from '../../../common/clock/clock';
import { ChatError } from '../../../common/errors/chat-error';
import { ROOM_DELETED, type RoomDeletedData } from '../replication/room-entries';
import { RoomLogs } from '../replication/room-logs.service';
import { RoomVisibility } from '../replication/room-visibility';
import { RoomHostService } from './room-host.service';

export type DeletionOutcome = { success: true; transactionId: string } | { success: false; transactionId: string; reason: string };

/**
 * Deleting a room, on its host: one entry in the room's log. Once a majority stored it every node
 * applies it (the room, its members, messages and log go; a tombstone stays), so a deletion can
 * neither be lost in a failover nor happen on some nodes only. The requester is told when it is
 * written (delete_room_initiated); every member on every node when it is applied
 * (delete_room_initiated, then room_deleted: LogApplier).
 */
@Injectable()
export class RoomDeletionCoordinator {
  constructor(
    private readonly clock: Clock,
    private readonly logs: RoomLogs,
    private readonly host: RoomHostService,
    private readonly visibility: RoomVisibility,
  ) {}

  /** `onStarted` runs once the deletion is written (the requester is told first, as in the reference). */
  deleteRoom(roomId: string, username: string, onStarted: (transactionId: string) => void = () => undefined): Promise<DeletionOutcome> {
    return this.logs.serve(roomId, () => this.deleteNow(roomId, username, onStarted)); // a host just elected checks once it caught up
  }

  private async deleteNow(roomId: string, username: string, onStarted: (transactionId: string) => void): Promise<DeletionOutcome> {
    this.visibility.assertVisible(roomId, username);
    const room = this.host.servedRoom(roomId);
    // the pair's room id is fixed (directRoomId): deleted, its tombstone would keep them from ever opening it again
    if (this.visibility.isDirect(roomId)) throw new ChatError('INVALID_STATE', 'A direct conversation cannot be deleted');
    if (room.creatorId !== username) throw new ChatError('UNAUTHORIZED', 'Only the room creator can delete the room');
    if (room.state !== 'ACTIVE') throw new ChatError('INVALID_STATE', `Room is in ${room.state} state, cannot delete`);
    const txn = randomUUID();
    const data: RoomDeletedData = { transaction_id: txn, initiator: username, deleted_at: this.clock.iso() };
    const committed = this.logs.propose(roomId, { kind: ROOM_DELETED, data });
    this.host.markDeleting(roomId, true);
    onStarted(txn);
    try {
      await committed;
      return { success: true, transactionId: txn };
    } finally {
      this.host.markDeleting(roomId, false);
    }
  }
}
