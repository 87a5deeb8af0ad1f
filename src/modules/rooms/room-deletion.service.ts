import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { randomUUID } from 'node:crypto';
import { Clock } from '../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { ChatError } from '../../common/errors/chat-error';
import type { RoomRecord } from '../../common/store/chat-records';
import { CHAT_STORE, ChatStore } from '../../common/store/chat-store';
import { ClientRegistry } from '../members/client-registry';
import { PeerDirectory } from '../peers/peer-directory';
import type { Vote } from '../../common/protocol/peer-wire';
import { BurstWarning } from '../../common/logging/burst-warning';
import { RoomEventPublisher } from './room-events.publisher';
import { PeerEventRefused, RoomHostAuthority } from './room-host-authority';
import { ReplicaService } from './replica.service';
import { RoomHostService } from './room-host.service';

export type DeletionOutcome = { success: true; transactionId: string } | { success: false; transactionId: string; reason: string };

/**
 * Two-phase-commit room deletion. The host coordinates over the peers not known to be failed;
 * a peer that cannot be reached and has no members in the room counts as READY (it learns of the
 * deletion from the tombstone when it returns). Every member on every node sees the same events.
 */
@Injectable()
export class RoomDeletionService implements OnApplicationBootstrap {
  private readonly logger = new Logger(RoomDeletionService.name);
  private readonly refusals: BurstWarning;

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    @Inject(CHAT_STORE) private readonly store: ChatStore,
    private readonly clock: Clock,
    private readonly clients: ClientRegistry,
    private readonly peers: PeerDirectory,
    private readonly events: RoomEventPublisher,
    private readonly replica: ReplicaService,
    private readonly host: RoomHostService,
    private readonly authority: RoomHostAuthority,
    private readonly scheduler: SchedulerRegistry,
  ) {
    this.refusals = new BurstWarning(this.logger, () => clock.now());
  }

  /**
   * Coordinator: validates, then runs PREPARE/COMMIT (or ROLLBACK). `onStarted` runs once the
   * transaction exists (the requester is told first, as in the reference).
   */
  async deleteRoom(roomId: string, username: string, onStarted: (transactionId: string) => void = () => undefined): Promise<DeletionOutcome> {
    const room = this.host.hostedRoom(roomId);
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
      await Promise.all(participants.map((id) => this.peers.call(id, 'rollback_delete_room', [roomId, txn]).catch(() => undefined)));
      this.setState(room, 'ACTIVE', null);
      this.clients.broadcast(roomId, 'delete_room_cancelled', { room_id: roomId, transaction_id: txn });
      return { success: false, transactionId: txn, reason: refusal.reason ?? 'Deletion failed' };
    }

    this.setState(room, 'COMMITTING', txn);
    await Promise.all(participants.map((id) => this.peers.call(id, 'commit_delete_room', [roomId, txn, room.roomName]).catch(() => undefined)));
    this.store.deleteRoom({ roomId, roomName: room.roomName, hostNode: room.hostNode, deletedAt: this.clock.iso(), transactionId: txn });
    this.events.roomDeleted(room, txn);
    this.logger.log(`Room '${room.roomName}' (${roomId}) deleted by ${username} (transaction ${txn})`);
    return { success: true, transactionId: txn };
  }

  private async prepare(nodeId: string, room: RoomRecord, txn: string, initiator: string): Promise<Vote> {
    try {
      const vote = await this.peers.call(nodeId, 'prepare_delete_room', [room.roomId, txn, this.config.nodeId, initiator]);
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

  // --- participant side ------------------------------------------------------------------------

  /** Prepared deletions of rooms hosted elsewhere that were left pending (e.g. before a restart) get their timer again; ScheduleModule clears the timers at shutdown. */
  onApplicationBootstrap(): void {
    for (const room of this.store.listRooms()) {
      if (!this.authority.hostsHere(room) && room.state !== 'ACTIVE' && room.deletionTxn) this.expireLater(room.roomId, room.deletionTxn);
    }
  }

  /** PREPARE from `coordinator`, which must be the room's host; the room waits for COMMIT or ROLLBACK, at most DELETE_PREPARE_TIMEOUT. */
  prepareParticipant(roomId: string, txn: string, coordinator: string, initiator: string | undefined): Vote {
    const room = this.store.getRoom(roomId);
    if (room && this.authority.hostsHere(room)) {
      return { vote: 'ABORT', node_id: this.config.nodeId, transaction_id: txn, reason: `Room is hosted by ${this.config.nodeId}, not the coordinator` };
    }
    this.authority.check('prepare_delete_room', roomId, coordinator);
    if (room) {
      this.store.setRoomState(roomId, 'DELETION_PENDING', txn);
      this.expireLater(roomId, txn);
      this.clients.broadcast(roomId, 'delete_room_initiated', {
        room_id: roomId,
        status: 'in_progress',
        transaction_id: txn,
        ...(initiator ? { initiator } : {}),
      });
    }
    return { vote: 'READY', node_id: this.config.nodeId, transaction_id: txn };
  }

  /** COMMIT: only of the transaction the room's host prepared here (`sender` null = unsigned calls: the transaction id must still match). */
  commitParticipant(roomId: string, txn: string, roomName: string | null, sender: string | null): { success: boolean; node_id: string } {
    const room = this.store.getRoom(roomId);
    if (!room && this.store.getTombstone(roomId)?.transactionId === txn) return { success: true, node_id: this.config.nodeId }; // a repeated commit
    this.authority.check('commit_delete_room', roomId, sender);
    if (!room || room.state === 'ACTIVE' || room.deletionTxn !== txn) {
      this.refusals.note(`Refused commit_delete_room for room ${roomId} from ${sender ?? 'an unsigned caller'}: no deletion prepared by its host under transaction ${txn}`);
      throw new PeerEventRefused(`no deletion of room ${roomId} was prepared under transaction ${txn.slice(0, 64)}`);
    }
    this.cancelTimer(roomId);
    this.replica.applyDeleted(roomId, roomName ?? room.roomName, txn);
    return { success: true, node_id: this.config.nodeId };
  }

  /** ROLLBACK from the room's host; one for another transaction, or for a room not pending here, changes nothing. */
  rollbackParticipant(roomId: string, txn: string, sender: string | null): { success: boolean; node_id: string } {
    this.authority.check('rollback_delete_room', roomId, sender);
    this.rollBack(roomId, txn);
    return { success: true, node_id: this.config.nodeId };
  }

  private rollBack(roomId: string, txn: string): boolean {
    const room = this.store.getRoom(roomId);
    if (!room || this.authority.hostsHere(room) || room.state === 'ACTIVE' || room.deletionTxn !== txn) return false;
    this.cancelTimer(roomId);
    this.store.setRoomState(roomId, 'ACTIVE', null);
    this.clients.broadcast(roomId, 'delete_room_cancelled', { room_id: roomId, transaction_id: txn });
    return true;
  }

  private expireLater(roomId: string, txn: string): void {
    this.cancelTimer(roomId);
    const timer = setTimeout(() => {
      this.scheduler.deleteTimeout(PREPARE_TIMER + roomId);
      if (this.rollBack(roomId, txn)) {
        this.logger.warn(`Deletion of room ${roomId} (transaction ${txn}) was prepared but neither committed nor rolled back within ${this.config.deletePrepareTimeoutMs / 1000} s; rolled back here`);
      }
    }, this.config.deletePrepareTimeoutMs);
    this.scheduler.addTimeout(PREPARE_TIMER + roomId, timer);
  }

  private cancelTimer(roomId: string): void {
    if (this.scheduler.doesExist('timeout', PREPARE_TIMER + roomId)) this.scheduler.deleteTimeout(PREPARE_TIMER + roomId);
  }
}

/** SchedulerRegistry name prefix of a prepared deletion's rollback timer (one per room). */
const PREPARE_TIMER = 'delete-prepare:';
