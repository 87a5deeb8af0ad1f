import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { ChatError } from '../../../common/errors/chat-error';
import { MemberRepository } from '../../../common/store/member.repository';
import type { ClientConnection } from '../../members/client-connection';
import { ClientRegistry } from '../../members/client-registry';
import { PeerDirectory } from '../../peers/peer-directory';
import { RoomLogOutbox } from '../replication/room-log-outbox';
import { TypingThrottle } from './typing-throttle';

/** How long clients show "is typing" after a notice (a member still typing sends another within it). */
export const TYPING_EXPIRES_MS = 4000;
/** A typing notice to a peer that takes longer than this is not worth delivering any more. */
const PEER_NOTICE_TIMEOUT_MS = 1000;
/** Above this many bytes queued for a socket, it gets no typing notices (messages matter more). */
const BUSY_SOCKET_BYTES = 256 * 1024;
/** A peer whose room-log messages have waited longer than this is backed up: typing notices to it are dropped. */
const BACKED_UP_MS = 500;

/**
 * "alice is typing": ephemeral notices, never stored, never in a room's log, never waiting for a
 * majority. The member's node tells its own members of the room, and sends one fire-and-forget
 * `typing_notice` to each other node the room's members are connected through (the replicated
 * member list says which). Dropped first under load: at most one per connection and room per
 * second, none to a peer that is down, still busy with the previous notice or whose replication
 * queue is backed up, none to a socket with a backlog.
 */
@Injectable()
export class TypingNotices {
  private readonly logger = new Logger(TypingNotices.name);
  private readonly throttle = new TypingThrottle<ClientConnection>();
  /** Peers with a typing notice in flight: the next one to them is dropped, not queued. */
  private readonly inFlight = new Set<string>();

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly clock: Clock,
    private readonly members: MemberRepository,
    private readonly clients: ClientRegistry,
    private readonly peers: PeerDirectory,
    private readonly outbox: RoomLogOutbox,
  ) {}

  /** A member's `typing`: refused only when the connection is not in the room as `username`; a throttled one is dropped silently. */
  fromClient(conn: ClientConnection, roomId: string, username: string): void {
    const member = conn.rooms.get(roomId)?.username;
    if (member === undefined) throw new ChatError('NOT_MEMBER', 'You are not a member of this room');
    if (member !== username) throw new ChatError('UNAUTHORIZED', `Username does not match this connection (joined as '${member}')`);
    if (!this.throttle.admit(conn, roomId, this.clock.monotonic())) return;
    this.clients.touch(conn);
    this.tellLocal(roomId, username);
    for (const node of this.memberNodes(roomId)) this.tellPeer(node, roomId, username);
  }

  /**
   * A peer's `typing_notice`: shown only for a member the room's replicated member list places on
   * that peer (a peer cannot make another node's member type). Returns whether it was shown.
   */
  fromPeer(roomId: string, username: string, senderNode: string): boolean {
    if (this.members.getMember(roomId, username)?.nodeId !== senderNode) return false;
    this.tellLocal(roomId, username);
    return true;
  }

  private tellLocal(roomId: string, username: string): void {
    const frame = Buffer.from(JSON.stringify({ type: 'user_typing', data: { room_id: roomId, username, expires_in_ms: TYPING_EXPIRES_MS } }));
    for (const conn of this.clients.inRoom(roomId)) {
      if (conn.rooms.get(roomId)?.username === username || conn.bufferedBytes > BUSY_SOCKET_BYTES) continue;
      conn.sendFrame(frame);
    }
  }

  /** The other nodes the room's members are connected through. */
  private memberNodes(roomId: string): Set<string> {
    const nodes = new Set(this.members.listMembers(roomId).map((m) => m.nodeId));
    nodes.delete(this.config.nodeId);
    return nodes;
  }

  /** The peer's room-log queue is not keeping up (or its calls fail): what matters goes first. */
  private backedUp(node: string): boolean {
    const lane = this.outbox.backlog().find((b) => b.peer === node);
    return lane !== undefined && (lane.failing || (lane.oldestPendingMs ?? 0) > BACKED_UP_MS);
  }

  private tellPeer(node: string, roomId: string, username: string): void {
    if (!this.peers.has(node) || this.inFlight.has(node) || this.peers.isFailed(node) || this.peers.isSuspected(node) || this.backedUp(node)) return;
    this.inFlight.add(node);
    this.peers
      .call(node, 'typing_notice', [roomId, username, this.config.nodeId], PEER_NOTICE_TIMEOUT_MS)
      .catch((e: Error) => this.logger.debug(`Typing notice to ${node} dropped: ${e.message}`))
      .finally(() => this.inFlight.delete(node));
  }
}
