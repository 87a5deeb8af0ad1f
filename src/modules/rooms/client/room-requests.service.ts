import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { ChatError } from '../../../common/errors/chat-error';
import { ChatMetrics } from '../../../common/metrics/chat-metrics';
import { ClientErrorFrames } from '../../../common/metrics/client-error-frames';
import { RoomRepository } from '../../../common/store/room.repository';
import type { RoomRecord } from '../../../common/store/chat-records';
import type { ClientConnection } from '../../members/client-connection';
import { ClientRegistry } from '../../members/client-registry';
import { RequestLimiter } from '../../members/request-limiter';
import { type InactiveMemberListener, StaleMemberCleanupService } from '../../members/stale-member-cleanup.service';
import type { CreateRoomRequest, DeleteRoomRequest, GetHistoryRequest, JoinRoomRequest, LeaveRoomRequest, SendMessageRequest } from './dto/requests';
import { RoomHostService } from '../host/room-host.service';
import { RoomHistoryService } from './room-history.service';
import { RoomLocator } from '../routing/room-locator';
import { ReplicaService } from '../replica/replica.service';
import { ConnectionIdentity } from './connection-identity';
import { ReadStates } from './read-states';
import { ModeratorLists } from './moderator-lists';
import type { MemberLeftReason } from '../../../common/protocol/client-wire';
import type { HostJoin, RoomHost, SentMessage } from '../routing/room-host';
import type { ForwardItem } from '../../../common/protocol/peer-wire';
import { RoomHosts } from '../routing/room-hosts';
import type { Leadership } from '../consensus/core-types';
import { RoomLogs, type LeadershipListener } from '../replication/room-logs.service';
import { RoomVisibility } from '../replication/room-visibility';

/**
 * Client requests, whichever node hosts the room: each operation on a room asks RoomHosts.for(room)
 * once, which serves it here or at the room's host. Replies go out on the client's connection.
 */
@Injectable()
export class RoomRequestsService implements InactiveMemberListener, LeadershipListener, OnModuleInit {
  private readonly logger = new Logger(RoomRequestsService.name);
  /** Rooms this node stopped hosting whose new host is not known yet: its clients join there once it is. */
  private readonly steppedDown = new Set<string>();
  /** Per connection and room: the join again at the host in flight (see sendAsMember). */
  private readonly rejoins = new WeakMap<ClientConnection, Map<string, Promise<unknown>>>();

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly rooms: RoomRepository,
    private readonly clients: ClientRegistry,
    private readonly host: RoomHostService,
    private readonly replica: ReplicaService,
    private readonly locator: RoomLocator,
    private readonly hosts: RoomHosts,
    private readonly identity: ConnectionIdentity,
    private readonly history: RoomHistoryService,
    private readonly limits: RequestLimiter,
    private readonly metrics: ChatMetrics,
    private readonly errors: ClientErrorFrames,
    private readonly staleMembers: StaleMemberCleanupService,
    private readonly logs: RoomLogs,
    private readonly clock: Clock,
    private readonly readStates: ReadStates,
    private readonly visibility: RoomVisibility,
    private readonly moderatorLists: ModeratorLists,
  ) {}

  onModuleInit(): void {
    this.staleMembers.subscribe(this);
    this.logs.subscribe(this);
  }

  /**
   * This node stepped down as the room's host while its clients stayed connected (a pause or a
   * partition): the new host removed them as members of a node that did not answer, so they join
   * again there and keep chatting without doing anything.
   */
  onLeadership(roomId: string, now: Leadership, was: Leadership): void {
    if (was.role === 'leader' && now.role !== 'leader') this.steppedDown.add(roomId);
    if (now.role === 'leader') this.steppedDown.delete(roomId);
    if (!this.steppedDown.has(roomId) || !now.leader || now.leader === this.config.nodeId) return;
    this.steppedDown.delete(roomId);
    const room = this.rooms.getRoom(roomId);
    if (!room) return;
    const names = new Set(this.clients.inRoom(roomId).map((c) => c.rooms.get(roomId)?.username).filter((u): u is string => u !== undefined));
    const target = this.hosts.for(room);
    for (const username of names) {
      target.join(username).catch((e: Error) => this.logger.warn(`Could not join ${username} again to room ${roomId} at its new host ${target.nodeId}: ${e.message}`));
    }
  }

  /** The cleanup already told the socket and unregistered it; the room's host announces member_left. */
  onMemberInactive(conn: ClientConnection, roomId: string, username: string): Promise<void> {
    return this.removeMember(conn, roomId, username, 'Inactivity');
  }

  listRooms(conn: ClientConnection): void {
    const rooms = this.readStates.annotate(this.visibility.visibleTo(this.host.hostedRooms(), conn.username), conn.username, conn.rooms);
    conn.send('rooms_list', { rooms, total_count: rooms.length });
  }

  async discoverRooms(conn: ClientConnection): Promise<void> {
    this.limits.admitRequest(conn);
    const own = this.host.hostedRooms();
    const peers = await this.locator.discoverPeers();
    // peers list public rooms only; the private rooms this user may see come from this node's replica (every node applies every room's log)
    const listed = new Set([...own, ...peers.rooms].map((r) => r.room_id));
    const privateElsewhere = this.host.knownRooms(this.visibility.privateRoomIds().filter((id) => !listed.has(id)));
    const rooms = this.readStates.annotate(this.visibility.visibleTo([...own, ...peers.rooms, ...privateElsewhere], conn.username), conn.username, conn.rooms);
    conn.send('global_rooms_list', {
      rooms,
      total_count: rooms.length,
      nodes_queried: [this.config.nodeId, ...peers.queried],
      nodes_available: [this.config.nodeId, ...peers.available],
      nodes_unavailable: peers.unavailable,
    });
  }

  async createRoom(conn: ClientConnection, req: CreateRoomRequest): Promise<void> {
    this.limits.admitRoomOp(conn);
    await this.identity.assert(conn, req.creator_id);
    this.limits.admitHostedRoom(this.rooms.countRoomsHostedBy(this.config.nodeId));
    this.limits.admitRoomCreation(conn, req.creator_id);
    const room = await this.host.create(req.room_name, req.creator_id, req.description ?? null, req.private === true);
    this.limits.roomCreated(conn, room.roomId);
    conn.send('room_created', { room_id: room.roomId, room_name: room.roomName, admin_node: room.hostNode, members: [], created_at: room.createdAt });
  }

  async joinRoom(conn: ClientConnection, req: JoinRoomRequest): Promise<void> {
    this.limits.admitRoomOp(conn);
    this.limits.admitRoomMembership(conn, req.room_id);
    await this.identity.assert(conn, req.username);
    const { room, joined } = await this.joinAtHost(req);
    // the replay comes from this node's replica: let it catch up with what the host just said (at once on the host)
    await this.replica.waitForSequence(room.roomId, joined.lastSequence).catch((e: Error) => this.logger.warn(`Join replay of ${room.roomId} may start late: ${e.message}`));
    conn.username ??= req.username;
    this.clients.touch(conn);
    // what this node applied of the room is read in the same tick as the replay registers the connection: an entry applied later comes as its event
    conn.send('join_room_success', {
      ...joined.info,
      ...this.visibility.privacyMarks(room.roomId),
      creator_id: room.creatorId,
      first_sequence: joined.firstSequence,
      last_sequence: joined.lastSequence,
      ...this.readStates.of(room.roomId, req.username),
      ...this.moderatorLists.of(room.roomId, room.creatorId, req.username),
    });
    if (!this.rooms.getRoom(room.roomId)) return this.history.replayFromHost(conn, room.roomId, req.username, joined.hostHistory, joined.lastSequence);
    await this.history.streamReplay(conn, room.roomId, req.username, this.history.replayStart(req, joined.firstSequence, joined.lastSequence));
  }

  /**
   * The join, decided by the room's host. A private room this node does not see `username` invited
   * to may still be theirs: the host answers an invitation once a majority stored it, and this node
   * may not have applied it yet. So the host decides (it checks visibility first, from what it
   * applied); any refusal, retryable or not, is then ROOM_NOT_FOUND, the answer for a room that
   * does not exist, so nothing of a private room's state shows to a name it was not opened to.
   */
  private async joinAtHost(req: JoinRoomRequest): Promise<{ room: RoomRecord; joined: HostJoin }> {
    const atHost = async () => {
      const room = await this.locator.activeRoom(req.room_id);
      return { room, joined: await this.hosts.for(room).join(req.username) };
    };
    if (this.visibility.maySee(req.room_id, req.username)) return atHost();
    return atHost().catch(() => {
      throw new ChatError('ROOM_NOT_FOUND', 'Room not found');
    });
  }

  async sendMessage(conn: ClientConnection, req: SendMessageRequest): Promise<void> {
    this.limits.admitMessage(conn);
    await this.identity.assert(conn, req.username);
    if (!conn.rooms.has(req.room_id)) throw new ChatError('NOT_MEMBER', 'You are not a member of this room');
    this.clients.touch(conn);
    const received = this.clock.monotonic();
    const room = await this.locator.activeRoom(req.room_id);
    const clientMessageId = req.client_message_id ?? null;
    const target = this.hosts.for(room);
    // A send is not awaited (up to the host's maxSendsInFlight): the connection's next request may
    // go out while this one waits for its majority (the per-host forward queue, or the local send
    // batch, keeps their order), so one client is not limited to one round trip per message. Its
    // outcome is reported on its own.
    const item = { room_id: room.roomId, username: req.username, content: req.content, client_message_id: clientMessageId };
    const sending = this.answerSend(conn, target, room.roomId, this.sendAsMember(conn, target, item), clientMessageId, received);
    conn.lastForwardedSend = sending;
    if (++conn.pendingSends >= target.maxSendsInFlight) await sending;
  }

  /**
   * The join again of onHostChanged can fail (a node resumed from a pause still suspects the new
   * host for a moment), and a send can overtake it: a forwarded send refused NOT_MEMBER for a
   * connection still registered here joins that host again and is retried once. One join per
   * connection and room, so pipelined sends keep their order.
   */
  private async sendAsMember(conn: ClientConnection, target: RoomHost, item: ForwardItem): Promise<SentMessage> {
    try {
      return await target.send(item);
    } catch (e) {
      if (!(e instanceof ChatError) || e.code !== 'NOT_MEMBER' || target.nodeId === this.config.nodeId || !conn.rooms.has(item.room_id)) throw e;
      const pending = this.rejoins.get(conn) ?? new Map<string, Promise<unknown>>();
      this.rejoins.set(conn, pending);
      let rejoin = pending.get(item.room_id);
      if (!rejoin) {
        this.logger.warn(`${item.username} is no longer a member of ${item.room_id} at ${target.nodeId} but still connected here: joining again`);
        rejoin = target.join(item.username);
        pending.set(item.room_id, rejoin);
        const done = () => pending.delete(item.room_id);
        rejoin.then(done, done);
      }
      await rejoin;
      return target.send(item);
    }
  }

  /** Reports one send's outcome to the sender: message_sent once its new_message is here, else message_error. */
  private async answerSend(conn: ClientConnection, target: RoomHost, roomId: string, sending: Promise<SentMessage>, clientMessageId: string | null, received: number): Promise<void> {
    try {
      const sent = await sending;
      // The sender sees its new_message (through replication) before message_sent, as in the reference.
      // If the host went away after storing it, the message still counts: it arrives with the catch-up.
      await this.replica.waitForSequence(roomId, sent.sequence_number).catch((e: Error) =>
        this.logger.warn(`Message ${sent.sequence_number} in ${roomId} is stored on ${target.nodeId} but not here yet: ${e.message}`),
      );
      this.acknowledge(conn, roomId, clientMessageId, sent, received);
    } catch (e) {
      const err = e instanceof ChatError ? e : new ChatError('INTERNAL_ERROR', 'Failed to send message');
      if (!(e instanceof ChatError)) this.logger.error(`Sending a message failed: ${(e as Error)?.stack ?? e}`);
      const frame = { type: 'message_error', data: { room_id: roomId, error: err.message, error_code: err.code, ...err.details } } as const;
      conn.sendFrame(this.errors.serialise('send_message', err.code, err.message, frame));
    } finally {
      conn.pendingSends--;
    }
  }

  private acknowledge(conn: ClientConnection, roomId: string, clientMessageId: string | null, sent: SentMessage, received: number): void {
    conn.send('message_sent', {
      room_id: roomId,
      message_id: sent.message_id,
      sequence_number: sent.sequence_number,
      timestamp: sent.timestamp,
      ...(clientMessageId ? { client_message_id: clientMessageId } : {}),
      ...(sent.duplicate ? { duplicate: true } : {}),
    });
    this.metrics.messageAcknowledged((this.clock.monotonic() - received) / 1000);
  }

  /** Resolves when the connection's forwarded sends have been answered (used before leaving). */
  settled(conn: ClientConnection): Promise<void> {
    return conn.lastForwardedSend; // earlier forwards finish before it (one ordered queue per host)
  }

  async leaveRoom(conn: ClientConnection, req: LeaveRoomRequest): Promise<void> {
    this.limits.admitRequest(conn);
    await this.identity.assert(conn, req.username);
    if (!conn.rooms.has(req.room_id)) throw new ChatError('NOT_MEMBER', 'You are not a member of this room');
    this.clients.touch(conn);
    await this.settled(conn); // the member's messages in flight are delivered before it leaves
    this.clients.unregister(conn, req.room_id);
    await this.removeMember(conn, req.room_id, req.username);
    conn.send('leave_room_success', { room_id: req.room_id, username: req.username });
  }

  async deleteRoom(conn: ClientConnection, req: DeleteRoomRequest): Promise<void> {
    this.limits.admitRequest(conn);
    await this.identity.assert(conn, req.username);
    this.clients.touch(conn);
    const room = await this.locator.locate(req.room_id);
    if (!room) throw new ChatError('ROOM_NOT_FOUND', 'Room not found');
    const outcome = await this.hosts.for(room).deleteRoom(req.username, (txn) =>
      conn.send('delete_room_initiated', { room_id: room.roomId, transaction_id: txn, status: 'in_progress' }),
    );
    if (!outcome.success) throw new ChatError('DELETION_FAILED', outcome.reason, { transaction_id: outcome.transactionId });
    conn.send('delete_room_success', { room_id: room.roomId, transaction_id: outcome.transactionId, message: 'Room deleted successfully' });
  }

  async getHistory(conn: ClientConnection, req: GetHistoryRequest): Promise<void> {
    this.limits.admitRequest(conn);
    return this.history.getHistory(conn, req);
  }

  /** A socket closed: leave every room it was in (unless the same user is still there on another socket). */
  async disconnect(conn: ClientConnection): Promise<void> {
    const rooms = this.clients.disconnect(conn);
    await this.settled(conn); // messages it sent before closing are sequenced before it leaves
    await Promise.all([...rooms].map(([roomId, username]) => this.removeMember(conn, roomId, username, 'User disconnected')));
  }

  /** Removes `username` from the room at its host (locally or by a peer call); failures are logged, not thrown. */
  async removeMember(conn: ClientConnection, roomId: string, username: string, reason?: MemberLeftReason): Promise<void> {
    if (this.clients.usernameStillInRoom(roomId, username, conn)) return;
    const room = this.rooms.getRoom(roomId);
    if (!room) return;
    const target = this.hosts.for(room);
    try {
      await target.leave(username, reason);
    } catch (e) {
      if (!(e instanceof ChatError && e.code === 'NOT_IN_ROOM')) {
        this.logger.warn(`Could not remove ${username} from room ${roomId} at ${target.nodeId}: ${(e as Error).message}`);
      }
    }
  }
}
