import { Inject, Injectable } from '@nestjs/common';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { Clock } from '../../../common/clock/clock';
import { ChatError, hostUnavailable, type ChatErrorCode } from '../../../common/errors/chat-error';
import { directRoomId } from '../../../common/protocol/direct-rooms';
import { RoomRepository } from '../../../common/store/room.repository';
import type { ClientConnection } from '../../members/client-connection';
import { RequestLimiter } from '../../members/request-limiter';
import { PeerDirectory } from '../../peers/peer-directory';
import { DirectRoomFounder } from '../host/direct-room-founder.service';
import { ConnectionIdentity } from './connection-identity';
import type { InviteUserRequest, OpenDirectRequest } from './dto/requests';
import { RoomChangeRequests } from './room-change-requests';
import { RoomRequestsService } from './room-requests.service';

/** How often open_direct looks for the pair's new room in this node's replica (for at most PEER_CALL_TIMEOUT). */
const ROOM_ARRIVAL_POLL_MS = 25;

/**
 * A client's invite_user and open_direct, whichever node hosts the room. An invitation is decided
 * and written by the room's host (RoomInvites) and answered once this node applied it. open_direct
 * has the pair's room founded where it must be (DirectRoomFounder: here or by an open_direct peer
 * call), waits for it to reach this node, then joins it as join_room does.
 */
@Injectable()
export class PrivateRoomRequests {
  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly rooms: RoomRepository,
    private readonly identity: ConnectionIdentity,
    private readonly limits: RequestLimiter,
    private readonly founder: DirectRoomFounder,
    private readonly peers: PeerDirectory,
    private readonly requests: RoomRequestsService,
    private readonly clock: Clock,
    private readonly changes: RoomChangeRequests,
  ) {}

  async invite(conn: ClientConnection, req: InviteUserRequest): Promise<void> {
    const { room } = await this.changes.change(conn, req, 'room-op', (host) => host.invite(req.username, req.member));
    conn.send('invite_user_success', { room_id: room.roomId, member: req.member });
  }

  async openDirect(conn: ClientConnection, req: OpenDirectRequest): Promise<void> {
    await this.identity.assert(conn, req.username);
    if (req.username === req.with) throw new ChatError('INVALID_REQUEST', 'A direct conversation needs two different users');
    const roomId = directRoomId(req.username, req.with);
    if (!this.rooms.getRoom(roomId)) {
      // founding costs what a create_room costs (the join below is charged on its own)
      this.limits.admitRoomOp(conn);
      await this.found(roomId, req.username, req.with);
    }
    await this.requests.joinRoom(conn, { room_id: roomId, username: req.username, ...(req.history_limit !== undefined ? { history_limit: req.history_limit } : {}) });
  }

  /** Has the pair's room founded (by its one founder) and waits until this node has applied its first entry. */
  private async found(roomId: string, username: string, other: string): Promise<void> {
    const founder = this.founder.founderOf(roomId);
    if (founder === this.config.nodeId) await this.founder.ensure(username, other);
    else await this.askFounder(founder, username, other);
    // committed on a majority, which is not yet applied here: it is, within a replication round trip
    const deadline = this.clock.monotonic() + this.config.peerCallTimeoutMs;
    while (!this.rooms.getRoom(roomId)) {
      if (this.clock.monotonic() > deadline) throw hostUnavailable('The direct room was created but has not reached this node yet; retry shortly');
      await new Promise((resolve) => setTimeout(resolve, ROOM_ARRIVAL_POLL_MS));
    }
  }

  /** The open_direct peer call; a founder that is down, unreachable or not ready is a retryable refusal. */
  private async askFounder(founder: string, username: string, other: string): Promise<void> {
    if (this.peers.isFailed(founder)) throw hostUnavailable(`Direct rooms of this pair are created by ${founder}, which is down; retry later`);
    const reply = await this.peers.call(founder, 'open_direct', [username, other, this.config.nodeId]).catch((e: Error) => {
      throw hostUnavailable(`Could not reach ${founder} to create the direct room: ${e.message}`);
    });
    if (reply.success) return;
    if (reply.error_code === 'ADMIN_NODE_UNAVAILABLE') throw hostUnavailable(reply.error);
    throw new ChatError(reply.error_code as ChatErrorCode, reply.error);
  }
}
