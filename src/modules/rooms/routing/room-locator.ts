import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { ChatError } from '../../../common/errors/chat-error';
import type { RoomRecord } from '../../../common/store/chat-records';
import { RoomRepository } from '../../../common/store/room.repository';
import { TombstoneRepository } from '../../../common/store/tombstone.repository';
import { PeerDirectory } from '../../peers/peer-directory';
import type { RoomSummary } from '../../../common/protocol/client-wire';

/** Discovery's per-call bound, as in the reference. */
const DISCOVERY_TIMEOUT_MS = 3000;
/**
 * A discovery (every peer's whole room list) is shared by everything that asks within this long,
 * and by everything that asks while it runs: a client asking for rooms that do not exist (a
 * delete_room with random ids) costs the peers one list per second, not one per request.
 */
export const DISCOVERY_REUSE_MS = 1000;

export interface Discovery {
  rooms: RoomSummary[];
  queried: string[];
  available: string[];
  unavailable: string[];
}

/**
 * Knows which node hosts a room: from the local replica first, asking the peers only for a room
 * this node has never heard of.
 */
@Injectable()
export class RoomLocator {
  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly rooms: RoomRepository,
    private readonly tombstones: TombstoneRepository,
    private readonly peers: PeerDirectory,
    private readonly clock: Clock,
  ) {}

  private recent: { at: number; discovery: Promise<Discovery> } | null = null;

  async locate(roomId: string): Promise<RoomRecord | null> {
    const known = this.rooms.getRoom(roomId);
    if (known || this.tombstones.getTombstone(roomId)) return known;
    await this.discoverPeers();
    return this.rooms.getRoom(roomId);
  }

  /** The room a request changes, located as above: ROOM_NOT_FOUND when nobody knows it, INVALID_STATE while it is being deleted. */
  async activeRoom(roomId: string): Promise<RoomRecord> {
    const room = await this.locate(roomId);
    if (!room) throw new ChatError('ROOM_NOT_FOUND', 'Room not found');
    if (room.state !== 'ACTIVE') throw new ChatError('INVALID_STATE', `Room is in ${room.state} state`);
    return room;
  }

  /** Every peer's rooms: a discovery started less than DISCOVERY_REUSE_MS ago (or still running), else a new one. */
  discoverPeers(): Promise<Discovery> {
    const now = this.clock.monotonic();
    if (this.recent && now - this.recent.at < DISCOVERY_REUSE_MS) return this.recent.discovery;
    const discovery = this.askPeers();
    this.recent = { at: now, discovery };
    return discovery;
  }

  /** Asks every peer not known to be failed for its rooms, in parallel and bounded in time. */
  private async askPeers(): Promise<Discovery> {
    const result: Discovery = { rooms: [], queried: [], available: [], unavailable: [] };
    const timeout = Math.min(DISCOVERY_TIMEOUT_MS, this.config.peerCallTimeoutMs);
    await Promise.all(
      this.peers.nodeIds.map(async (nodeId) => {
        if (this.peers.isFailed(nodeId)) {
          result.queried.push(nodeId);
          result.unavailable.push(nodeId);
          return;
        }
        try {
          const rooms = await this.peers.call(nodeId, 'get_hosted_rooms', [], timeout);
          result.queried.push(nodeId);
          result.available.push(nodeId);
          // a peer's answer reaches our clients' room lists: only entries shaped like a room summary
          for (const r of Array.isArray(rooms) ? rooms.filter(isRoomSummary) : []) {
            result.rooms.push(r);
            this.remember(r, nodeId);
          }
        } catch {
          result.queried.push(nodeId);
          result.unavailable.push(nodeId);
        }
      }),
    );
    return result;
  }

  /** Keeps routing information for rooms learned through discovery (their replica fills in later). */
  private remember(r: RoomSummary, nodeId: string): void {
    if (typeof r?.room_id !== 'string' || r.admin_node !== nodeId) return;
    if (this.rooms.getRoom(r.room_id) || this.tombstones.getTombstone(r.room_id)) return;
    this.rooms.upsertRoomMeta({
      roomId: r.room_id,
      roomName: String(r.room_name),
      description: typeof r.description === 'string' ? r.description : null,
      creatorId: String(r.creator_id ?? ''),
      hostNode: nodeId,
      hostEpoch: 1,
      state: 'ACTIVE',
      createdAt: new Date(0).toISOString(),
      deletionTxn: null,
    });
  }
}

const isRoomSummary = (r: unknown): r is RoomSummary =>
  typeof r === 'object' && r !== null && typeof (r as RoomSummary).room_id === 'string' && typeof (r as RoomSummary).room_name === 'string' && typeof (r as RoomSummary).admin_node === 'string';
