import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { ChatError, hostUnavailable } from '../../../common/errors/chat-error';
import { directRoomFounder, directRoomId, directRoomName } from '../../../common/protocol/direct-rooms';
import { RoomLogRepository } from '../../../common/store/room-log.repository';
import { RoomRepository } from '../../../common/store/room.repository';
import { TombstoneRepository } from '../../../common/store/tombstone.repository';
import { PeerDirectory } from '../../peers/peer-directory';
import { ROOM, type RoomData } from '../replication/room-entries';
import { RoomLogPeers } from '../replication/room-log-peers';
import { RoomLogs } from '../replication/room-logs.service';

/**
 * Founds direct rooms, on the one node allowed to (directRoomFounder): idempotent, so the second
 * of two opens (from the other end, any node, at the same time) finds the room founded or being
 * founded and gets the same id. Serves this node's clients and peers' open_direct calls.
 */
@Injectable()
export class DirectRoomFounder {
  private readonly logger = new Logger(DirectRoomFounder.name);
  /** Foundings in flight, by room id: a concurrent open waits for the same one. */
  private readonly founding = new Map<string, Promise<void>>();

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly rooms: RoomRepository,
    private readonly tombstones: TombstoneRepository,
    private readonly storedLogs: RoomLogRepository,
    private readonly peers: PeerDirectory,
    private readonly logs: RoomLogs,
    private readonly logPeers: RoomLogPeers,
    private readonly clock: Clock,
  ) {}

  /** The node that founds the pair's room. */
  founderOf(roomId: string): string {
    return directRoomFounder(roomId, [this.config.nodeId, ...this.peers.nodeIds]);
  }

  /** Resolves with the room's id once it exists (committed on a majority), founding it here if nobody has. */
  async ensure(username: string, other: string): Promise<string> {
    if (username === other) throw new ChatError('INVALID_REQUEST', 'A direct conversation needs two different users');
    const roomId = directRoomId(username, other);
    if (this.founderOf(roomId) !== this.config.nodeId) throw hostUnavailable(`Direct rooms of this pair are founded by ${this.founderOf(roomId)}`);
    if (this.tombstones.getTombstone(roomId)) throw new ChatError('ROOM_NOT_FOUND', 'Room not found');
    if (this.logPeers.learning) throw hostUnavailable('This node is still learning its rooms (it came back without its data); retry shortly');
    const inFlight = this.founding.get(roomId);
    if (inFlight) {
      await inFlight;
      return roomId;
    }
    // a log here (founded before, or replicated from a host that took it over) means it exists
    if (this.rooms.getRoom(roomId) || this.storedLogs.state(roomId)) return roomId;
    const pending = this.found(roomId, username, other);
    this.founding.set(roomId, pending);
    const forget = () => this.founding.delete(roomId);
    pending.then(forget, forget);
    await pending;
    return roomId;
  }

  private async found(roomId: string, username: string, other: string): Promise<void> {
    const data: RoomData = { room_name: directRoomName(username, other), description: null, creator_id: username, created_at: this.clock.iso(), private: true, direct: true, invited: [username, other] };
    await this.logs.found(roomId, { kind: ROOM, data });
    this.logger.log(`Direct room ${roomId} founded for ${username} and ${other}`);
  }
}
