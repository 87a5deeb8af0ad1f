import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Clock } from '../../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { ChatError } from '../../../common/errors/chat-error';
import type { RoomRecord } from '../../../common/store/chat-records';
import { CHAT_STORE, ChatStore } from '../../../common/store/chat-store';
import { ClientRegistry } from '../../members/client-registry';
import { PeerDirectory } from '../../peers/peer-directory';
import type { Vote } from '../../../common/protocol/peer-wire';
import { RoomEventPublisher } from './room-events.publisher';
import { RoomHostService } from './room-host.service';

export type DeletionOutcome = { success: true; transactionId: string } | { success: false; transactionId: string; reason: string };

/**
 * Two-phase-commit room deletion, the host's side. The host coordinates over the peers not known
 * to be failed; a peer that cannot be reached and has no members in the room counts as READY (it
 * learns of the deletion from the tombstone when it returns). Every member on every node sees the
 * same events. The peers' side is RoomDeletionParticipant.
 */
@Injectable()
export class RoomDeletionCoordinator {
  private readonly logger = new Logger(RoomDeletionCoordinator.name);

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    @Inject(CHAT_STORE) private readonly store: ChatStore,
    private readonly clock: Clock,
    private readonly clients: ClientRegistry,
    private readonly peers: PeerDirectory,
    private readonly events: RoomEventPublisher,
    private readonly host: RoomHostService,
  ) {}

  /**
   * Coordinator: validates, then runs PREPARE/COMMIT (or ROLLBACK). `onStarted` runs once the
   * transaction exists (the requester is told first, as in the reference).
   */
  async deleteRoom(roomId: string, username: string, onStarted: (transactionId: string) => void = () => undefined): Promise<DeletionOutcome> {
    const room = this.host.servedRoom(roomId);
    if (room.creatorId !== username) throw new ChatError('UNAUTHORIZED', 'Only the room creator can delete the room');
    if (room.state !== 'ACTIVE') throw new ChatError('INVALID_STATE', `Room is in ${room.state} state, cannot delete`);

    const txn = randomUUID();
    this.setState(room, 'DELETION_PENDING', txn);
    onStarted(txn);
    this.clients.broadcast(roomId, 'delete_room_initiated', { room_id: roomId, initiator: username, status: 'in_progress', transaction_id: txn });

    const participants = this.peers.nodeIds.filter((id) => !this.peers.isFailed(id));
    const votes = await Promise.all(participants.map((id) => this.prepare(id, room, txn, username)));
    const refusal = votes.find((v) => v.vote !== 'READY');

    if (refusal) {
      this.logger.warn(`Deletion of '${room.roomName}' aborted: ${refusal.reason}`);
      this.setState(room, 'ROLLING_BACK', txn);
      await Promise.all(participants.map((id) => this.peers.call(id, 'rollback_delete_room', [roomId, txn, room.hostEpoch]).catch(() => undefined)));
      this.setState(room, 'ACTIVE', null);
      this.clients.broadcast(roomId, 'delete_room_cancelled', { room_id: roomId, transaction_id: txn });
      return { success: false, transactionId: txn, reason: refusal.reason ?? 'Deletion failed' };
    }

    this.setState(room, 'COMMITTING', txn);
    await Promise.all(participants.map((id) => this.peers.call(id, 'commit_delete_room', [roomId, txn, room.roomName, room.hostEpoch]).catch(() => undefined)));
    this.store.deleteRoom({ roomId, roomName: room.roomName, hostNode: room.hostNode, deletedAt: this.clock.iso(), transactionId: txn });
    const stored = this.events.roomDeleted(room, txn);
    this.logger.log(`Room '${room.roomName}' (${roomId}) deleted by ${username} (transaction ${txn})`);
    // the outcome is told only once a majority has it, so a failover cannot bring the room back
    await stored.catch((e: Error) => this.logger.warn(`Deletion of '${room.roomName}' is decided, but not yet confirmed by a majority: ${e.message}`));
    return { success: true, transactionId: txn };
  }

  private async prepare(nodeId: string, room: RoomRecord, txn: string, initiator: string): Promise<Vote> {
    try {
      const vote = await this.peers.call(nodeId, 'prepare_delete_room', [room.roomId, txn, this.config.nodeId, initiator, room.hostEpoch]);
      return vote?.vote === 'READY' ? vote : { vote: 'ABORT', node_id: nodeId, transaction_id: txn, reason: vote?.reason ?? `Node ${nodeId} voted ABORT` };
    } catch (e) {
      const hasMembers = this.store.listMembers(room.roomId).some((m) => m.nodeId === nodeId);
      if (!hasMembers) {
        this.logger.warn(`Node ${nodeId} did not answer PREPARE (${(e as Error).message}); it has no members in the room, counted READY`);
        return { vote: 'READY', node_id: nodeId, transaction_id: txn };
      }
      return { vote: 'ABORT', node_id: nodeId, transaction_id: txn, reason: `Node ${nodeId} timed out` };
    }
  }

  private setState(room: RoomRecord, state: RoomRecord['state'], txn: string | null): void {
    this.store.setRoomState(room.roomId, state, txn);
    room.state = state;
    room.deletionTxn = txn;
  }
}
