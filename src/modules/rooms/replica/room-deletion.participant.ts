import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Clock } from '../../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { BurstWarning } from '../../../common/logging/burst-warning';
import type { Vote } from '../../../common/protocol/peer-wire';
import { RoomRepository } from '../../../common/store/room.repository';
import { TombstoneRepository } from '../../../common/store/tombstone.repository';
import { ClientRegistry } from '../../members/client-registry';
import { ReplicaService } from './replica.service';
import { PeerEventRefused, RoomHostAuthority } from './room-host-authority';

/**
 * Two-phase-commit room deletion, a replica's side: PREPARE, COMMIT and ROLLBACK from the room's
 * host (RoomDeletionCoordinator there). A prepared room that hears nothing more within
 * DELETE_PREPARE_TIMEOUT rolls back by itself.
 */
@Injectable()
export class RoomDeletionParticipant implements OnApplicationBootstrap {
  private readonly logger = new Logger(RoomDeletionParticipant.name);
  private readonly refusals: BurstWarning;

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly rooms: RoomRepository,
    private readonly tombstones: TombstoneRepository,
    clock: Clock,
    private readonly clients: ClientRegistry,
    private readonly replica: ReplicaService,
    private readonly authority: RoomHostAuthority,
    private readonly scheduler: SchedulerRegistry,
  ) {
    this.refusals = new BurstWarning(this.logger, () => clock.monotonic());
  }

  /** Prepared deletions of rooms hosted elsewhere that were left pending (e.g. before a restart) get their timer again; ScheduleModule clears the timers at shutdown. */
  onApplicationBootstrap(): void {
    for (const room of this.rooms.listRooms()) {
      if (!this.authority.hostsHere(room) && room.state !== 'ACTIVE' && room.deletionTxn) this.expireLater(room.roomId, room.deletionTxn);
    }
  }

  /** PREPARE from `coordinator`, which must be the room's host; the room waits for COMMIT or ROLLBACK, at most DELETE_PREPARE_TIMEOUT. */
  prepare(roomId: string, txn: string, coordinator: string, initiator: string | undefined): Vote {
    const room = this.rooms.getRoom(roomId);
    if (room && this.authority.hostsHere(room)) {
      return { vote: 'ABORT', node_id: this.config.nodeId, transaction_id: txn, reason: `Room is hosted by ${this.config.nodeId}, not the coordinator` };
    }
    this.authority.check('prepare_delete_room', roomId, coordinator);
    if (room) {
      this.rooms.setRoomState(roomId, 'DELETION_PENDING', txn);
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
  commit(roomId: string, txn: string, roomName: string | null, sender: string | null): { success: boolean; node_id: string } {
    const room = this.rooms.getRoom(roomId);
    if (!room && this.tombstones.getTombstone(roomId)?.transactionId === txn) return { success: true, node_id: this.config.nodeId }; // a repeated commit
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
  rollback(roomId: string, txn: string, sender: string | null): { success: boolean; node_id: string } {
    this.authority.check('rollback_delete_room', roomId, sender);
    this.rollBack(roomId, txn);
    return { success: true, node_id: this.config.nodeId };
  }

  private rollBack(roomId: string, txn: string): boolean {
    const room = this.rooms.getRoom(roomId);
    if (!room || this.authority.hostsHere(room) || room.state === 'ACTIVE' || room.deletionTxn !== txn) return false;
    this.cancelTimer(roomId);
    this.rooms.setRoomState(roomId, 'ACTIVE', null);
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
