import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { toChatMessage } from '../../../common/protocol/record-mappers';
import type { MessageRecord, RoomRecord } from '../../../common/store/chat-records';
import { RoomLogRepository } from '../../../common/store/room-log.repository';
import { RoomRepository } from '../../../common/store/room.repository';
import { TombstoneRepository } from '../../../common/store/tombstone.repository';
import { ClientRegistry } from '../../members/client-registry';
import { LogApplier } from '../replication/log-applier';
import { RoomLogs } from '../replication/room-logs.service';
import { RoomLogPeers } from '../replication/room-log-peers';

/**
 * This node's copy of rooms as their members here see it: waiting until a message the host
 * committed has been applied here (so its sender sees new_message before message_sent), rooms
 * deleted elsewhere (tombstones from catch-up, a reference host's commit), and messages of rooms
 * a reference node hosts (not stored: this node holds no log of them).
 */
@Injectable()
export class ReplicaService {
  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly rooms: RoomRepository,
    private readonly tombstones: TombstoneRepository,
    private readonly clock: Clock,
    private readonly clients: ClientRegistry,
    private readonly applier: LogApplier,
    private readonly logs: RoomLogs,
    private readonly logPeers: RoomLogPeers,
    private readonly storedLogs: RoomLogRepository,
  ) {}

  /**
   * Resolves once this node has applied the room's messages up to `sequence` (its host sends the
   * commit right after it commits); rejects when that takes longer than a majority may take.
   */
  async waitForSequence(roomId: string, sequence: number): Promise<void> {
    const room = this.rooms.getRoom(roomId);
    if (!room || room.lastSequence >= sequence) return;
    if (!(await this.inTime(this.applier.sequences.wait(roomId, sequence, 0)))) throw new Error(`message ${sequence} of room ${roomId} has not reached this node yet`);
  }

  /**
   * Resolves once this node has applied the edit or deletion the host wrote at `logIndex` (so its
   * requester sees message_edited / message_deleted before the answer); 0: nothing was written.
   */
  async waitForChange(roomId: string, logIndex: number): Promise<void> {
    if (logIndex <= 0 || !this.rooms.getRoom(roomId) || (this.storedLogs.state(roomId)?.applied ?? 0) >= logIndex) return;
    if (!(await this.inTime(this.applier.changes.applied.wait(roomId, logIndex, 0)))) throw new Error(`the change at log index ${logIndex} of room ${roomId} has not reached this node yet`);
  }

  /** False when `waiting` takes longer than a majority may take. */
  private async inTime(waiting: Promise<boolean>): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), this.config.quorumTimeoutMs)));
    return Promise.race([waiting, late]).finally(() => clearTimeout(timer));
  }

  /** A message of a room this node holds no log of (a reference node hosts it): its members here get it, nothing is stored. */
  deliverForeign(message: MessageRecord): void {
    if (this.logs.hostOf(message.roomId) === null) this.clients.deliverMessage(toChatMessage(message));
  }

  /** A room deleted elsewhere (a peer's tombstone, a reference host's commit): drop it here, tell local members, keep the tombstone. */
  applyDeleted(roomId: string, roomName: string, transactionId: string | null, fromHost?: string): void {
    const room = this.rooms.getRoom(roomId);
    if (!room && this.tombstones.getTombstone(roomId)) return;
    this.logPeers.applyTombstone(roomId, room?.roomName ?? roomName, transactionId, room?.hostNode ?? fromHost ?? 'unknown');
  }

  /** Rooms hosted by `nodeId` that have sockets on this node. */
  roomsWithLocalMembers(nodeId: string): RoomRecord[] {
    return this.rooms.listRooms().filter((r) => (this.logs.hostOf(r.roomId)?.node ?? r.hostNode) === nodeId && this.clients.hasRoom(r.roomId));
  }
}
