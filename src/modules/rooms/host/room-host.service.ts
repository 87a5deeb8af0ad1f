import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Clock } from '../../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { ChatError, hostUnavailable } from '../../../common/errors/chat-error';
import { PeerDirectory } from '../../peers/peer-directory';
import { CommitLedger } from './commit-ledger';
import { LocalWrites } from './local-writes';
import type { MemberRecord, MessageRecord, RoomRecord } from '../../../common/store/chat-records';
import { CHAT_STORE, ChatStore } from '../../../common/store/chat-store';
import { RoomEventPublisher } from './room-events.publisher';
import { toRoomSummary } from '../../../common/protocol/record-mappers';
import type { MemberLeftReason, RoomSummary } from '../../../common/protocol/client-wire';

/** Messages replayed on a plain join, as in the reference. */
export const JOIN_HISTORY = 100;

export interface JoinResult {
  room: RoomRecord;
  members: MemberRecord[];
  joined: boolean;
  history: MessageRecord[];
  firstSequence: number;
}

/** Whether older (paging back) or newer (paging forward) messages exist beyond a page. */
export function pageHasMore(sequences: number[], forward: boolean, firstSequence: number, lastSequence: number): boolean {
  if (sequences.length === 0) return false;
  return forward ? sequences[sequences.length - 1] < lastSequence : sequences[0] > firstSequence;
}

export interface HistoryPage {
  messages: MessageRecord[];
  hasMore: boolean;
  firstSequence: number;
  lastSequence: number;
}

/** A message the host has sequenced; `acked` resolves when the sender may be told (a majority stored it). */
export interface SentRecord {
  message: MessageRecord;
  duplicate: boolean;
  acked: Promise<void>;
}

/**
 * The authority for the rooms this node hosts: membership, sequencing, history. The same
 * methods serve local clients (through RoomRequestsService) and peers (through HostPeerRequests).
 * Every change is answered only once a majority of the cluster stored it (RoomEventPublisher).
 */
@Injectable()
export class RoomHostService implements OnApplicationBootstrap {
  private readonly logger = new Logger(RoomHostService.name);
  /**
   * Hosted rooms this process serves: created here, or claimed from a majority (at boot or in a
   * failover; see FailoverCoordinator). A host back from a restart may have been replaced while
   * it was away, so it serves nothing before a majority confirms its epoch.
   */
  private readonly serving = new Set<string>();
  /** Rooms still hosted here that this node stopped serving (a restart, or a newer epoch promised elsewhere): they need a claim. */
  private readonly unconfirmed = new Set<string>();

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    @Inject(CHAT_STORE) private readonly store: ChatStore,
    private readonly clock: Clock,
    private readonly events: RoomEventPublisher,
    private readonly ledger: CommitLedger,
    private readonly peers: PeerDirectory,
    private readonly writes: LocalWrites,
  ) {}

  /** Without failover (or peers) nobody else can take a room over: everything hosted here is served at once. */
  get claimsAtBoot(): boolean {
    return this.config.failoverTimeoutMs > 0 && this.peers.nodeIds.length > 0;
  }

  isServing(roomId: string): boolean {
    return this.serving.has(roomId);
  }

  /** Finishes a deletion this node decided (COMMITTING) before it stopped; the participants that missed the commit get the tombstone. */
  finishDeletion(room: RoomRecord): void {
    this.store.deleteRoom({ roomId: room.roomId, roomName: room.roomName, hostNode: room.hostNode, deletedAt: this.clock.iso(), transactionId: room.deletionTxn });
    void this.events.roomDeleted(room, room.deletionTxn);
  }

  /** A majority granted this node the room's current epoch. */
  startServing(roomId: string): void {
    this.serving.add(roomId);
    this.unconfirmed.delete(roomId);
  }

  /** Rooms hosted here that wait for a majority to confirm this node (FailoverCoordinator claims them). */
  roomsToConfirm(): string[] {
    for (const roomId of this.unconfirmed) if (this.store.getRoom(roomId)?.hostNode !== this.config.nodeId) this.unconfirmed.delete(roomId);
    return [...this.unconfirmed];
  }

  /**
   * Another node hosts the room now, or a newer epoch was promised to one: what this node
   * sequenced and no majority stored is never shown. If no other host is known yet, the room
   * waits for a claim (this node's, or the one the promise was for).
   */
  stopServing(roomId: string, moved: { adminNode: string; hostEpoch: number }): void {
    this.serving.delete(roomId);
    if (moved.adminNode === this.config.nodeId) this.unconfirmed.add(roomId);
    this.ledger.dropRoom(roomId, `Room moved to ${moved.adminNode} (epoch ${moved.hostEpoch}); retry`, moved);
    this.peers.discardRoom(roomId);
  }

  /** The highest sequence local members may be shown: the host's uncommitted messages are not. */
  visibleUpTo(roomId: string): number {
    const room = this.store.getRoom(roomId);
    return room ? this.ledger.visibleUpTo(roomId, room.lastSequence) : 0;
  }

  /** After a restart: our own clients' connections are gone, and no deletion can still be in flight (with failover: once confirmed). */
  onApplicationBootstrap(): void {
    for (const room of this.store.listRooms(this.config.nodeId)) {
      if (this.claimsAtBoot) {
        this.unconfirmed.add(room.roomId); // a deletion in flight is finished or cancelled once a majority confirms this node (RoomClaim)
        continue;
      }
      if (room.state === 'COMMITTING') {
        this.finishDeletion(room);
        continue;
      }
      this.serving.add(room.roomId);
      if (room.state !== 'ACTIVE') {
        this.store.setRoomState(room.roomId, 'ACTIVE', null);
        void this.events.roomChanged({ ...room, state: 'ACTIVE', deletionTxn: null });
      }
    }
    const stale = this.store.membersOnNode(this.config.nodeId, this.config.nodeId);
    if (stale.length > 0) this.logger.log(`Removing ${stale.length} member(s) whose connections ended while this node was down`);
    for (const m of stale) this.removeMember(this.store.getRoom(m.roomId)!, m, 'User disconnected');
  }

  /**
   * A room this node hosts. ROOM_NOT_FOUND for a room it never heard of; a room that another node
   * hosts now (a failover) is ADMIN_NODE_UNAVAILABLE naming that node, so the caller retries there.
   */
  hostedRoom(roomId: string): RoomRecord {
    const room = this.store.getRoom(roomId);
    if (!room) throw new ChatError('ROOM_NOT_FOUND', 'Room not found');
    if (room.hostNode !== this.config.nodeId) {
      if (room.hostEpoch > 1) throw hostUnavailable(`Room is hosted by ${room.hostNode} now`, { adminNode: room.hostNode, hostEpoch: room.hostEpoch });
      throw new ChatError('ROOM_NOT_FOUND', 'Room not found');
    }
    return room;
  }

  /** A hosted room this node may change now: claimed in this run, and no newer epoch promised to another node. */
  servedRoom(roomId: string): RoomRecord {
    const room = this.hostedRoom(roomId);
    if (!this.serving.has(roomId)) throw hostUnavailable('The room\'s host is confirming it with the other nodes; retry shortly');
    if (room.promisedEpoch > room.hostEpoch) throw hostUnavailable('The room\'s host is being replaced; retry shortly');
    return room;
  }

  hostedRooms(): RoomSummary[] {
    return this.store.listRooms(this.config.nodeId).map((r) => toRoomSummary(r, this.store.memberCount(r.roomId)));
  }

  /** Resolves once a majority stored the new room (nobody is told of a room that a failover could lose). */
  async create(roomName: string, creatorId: string, description: string | null): Promise<RoomRecord> {
    const room = await this.writes.run(() => this.insertRoom(roomName, creatorId, description));
    this.logger.log(`Room '${roomName}' (${room.roomId}) created by ${creatorId}`);
    await this.committed(this.events.roomChanged(room));
    return room;
  }

  private insertRoom(roomName: string, creatorId: string, description: string | null): RoomRecord {
    if (this.store.findRoomByName(roomName)) {
      throw new ChatError('ROOM_EXISTS', `Room with name '${roomName}' already exists`);
    }
    const room: RoomRecord = {
      roomId: randomUUID(),
      roomName,
      description,
      creatorId,
      hostNode: this.config.nodeId,
      hostEpoch: 1,
      promisedEpoch: 1,
      epochStart: 1,
      logEpoch: 1,
      state: 'ACTIVE',
      createdAt: this.clock.iso(),
      lastSequence: 0,
      deletionTxn: null,
    };
    this.store.insertRoom(room);
    this.serving.add(room.roomId);
    return room;
  }

  /** `memberBootId`: the member node's boot id, if it said (see removeMembersOf). */
  async join(roomId: string, username: string, memberNode: string, memberBootId: string | null = null): Promise<JoinResult> {
    const room = this.activeHostedRoom(roomId);
    const before = this.store.getMember(roomId, username);
    const joined = this.store.addMember(roomId, username, memberNode, this.clock.iso(), memberBootId);
    const members = this.store.listMembers(roomId);
    // A member that rejoined through another node (its old one closed or died) moves on every replica
    // too: replicas tell the guard against name takeover which node holds the name.
    if (joined || before?.nodeId !== memberNode) {
      await this.committed(this.events.memberChanged('member_joined', { room_id: roomId, username, member_count: members.length, timestamp: this.clock.iso() }, memberNode, room.hostEpoch));
    }
    const visible = { ...room, lastSequence: this.visibleUpTo(roomId) };
    const history = this.store.messagesBefore(roomId, visible.lastSequence + 1, JOIN_HISTORY);
    return { room: visible, members, joined, history, firstSequence: this.store.firstSequence(roomId) };
  }

  /**
   * Removes a member; `reason` is left out for an explicit leave, as in the reference.
   * `throughNode` scopes a disconnect to the node whose connection ended: a user who has meanwhile
   * joined again through another node (their node went down and the client moved, or a second tab)
   * keeps that newer membership when the old node's notice arrives late.
   */
  async leave(roomId: string, username: string, reason?: MemberLeftReason, throughNode?: string): Promise<void> {
    const room = this.servedRoom(roomId);
    const member = this.store.getMember(roomId, username);
    if (!member) throw new ChatError('NOT_IN_ROOM', 'Not in room');
    if (throughNode !== undefined && member.nodeId !== throughNode) {
      throw new ChatError('NOT_IN_ROOM', `Connected through ${member.nodeId}, not ${throughNode}`);
    }
    await this.committed(this.removeMember(room, member, reason));
  }

  private removeMember(room: RoomRecord, member: MemberRecord, reason?: MemberLeftReason): Promise<void> {
    this.store.removeMember(room.roomId, member.username);
    const event = { room_id: room.roomId, username: member.username, member_count: this.store.memberCount(room.roomId), timestamp: this.clock.iso(), ...(reason ? { reason } : {}) };
    return this.events.memberChanged('member_left', event, member.nodeId, room.hostEpoch);
  }

  /**
   * Sequences a message. A retry of one already sequenced (same client_message_id) is answered
   * with that message, once a majority has it: if it is still waiting, it is replicated again.
   */
  send(roomId: string, username: string, content: string, clientMessageId: string | null): SentRecord {
    const room = this.activeHostedRoom(roomId);
    if (!this.store.getMember(roomId, username)) throw new ChatError('NOT_MEMBER', 'You are not a member of this room');
    if (clientMessageId) {
      const earlier = this.store.findByClientMessageId(roomId, username, clientMessageId);
      if (earlier) {
        const acked = this.ledger.isPending(roomId, earlier.sequenceNumber) ? this.events.messageResent(earlier, room.hostEpoch) : Promise.resolve();
        return { message: earlier, duplicate: true, acked };
      }
    }
    const message = this.store.appendMessage({ messageId: randomUUID(), roomId, username, content, timestamp: this.clock.iso(), clientMessageId });
    // inside a batch (forward_messages) the message exists only once the batch commits
    const acked = new Promise<void>((resolve, reject) => this.store.afterCommit(() => this.events.messageSequenced(message, room.hostEpoch).then(resolve, reject)));
    return { message, duplicate: false, acked };
  }

  /** Waits for a majority; a change it could not confirm is a retryable refusal (it may still take effect). */
  private async committed(stored: Promise<void>): Promise<void> {
    try {
      await stored;
    } catch (e) {
      throw hostUnavailable(`Not confirmed by a majority of nodes (${(e as Error).message}); retry`);
    }
  }

  /**
   * Removes every member connected through `nodeId` from the rooms hosted here. With `currentBootId`
   * (the node restarted), members who joined through its new run are kept: its clients may have
   * joined again before this node noticed the restart.
   */
  removeMembersOf(nodeId: string, reason: MemberLeftReason, currentBootId?: string): number {
    const members = this.store.membersOnNode(nodeId, this.config.nodeId).filter((m) => currentBootId === undefined || m.bootId !== currentBootId);
    for (const m of members) void this.removeMember(this.store.getRoom(m.roomId)!, m, reason);
    if (members.length > 0) this.logger.warn(`Removed ${members.length} member(s) connected through ${nodeId} (${reason})`);
    return members.length;
  }

  /**
   * A page of a room's history from this node's store (host or replica). `visibleOnly`: for a
   * client, without the host's messages no majority has stored yet (peers catching up get them).
   */
  page(roomId: string, opts: { after?: number; before?: number; limit: number }, visibleOnly = false): HistoryPage {
    const room = this.store.getRoom(roomId);
    if (!room) throw new ChatError('ROOM_NOT_FOUND', 'Room not found');
    const last = visibleOnly ? this.ledger.visibleUpTo(roomId, room.lastSequence) : room.lastSequence;
    const firstSequence = this.store.firstSequence(roomId);
    const forward = opts.after !== undefined;
    const messages = forward
      ? this.store.messagesAfter(roomId, opts.after!, Math.max(0, Math.min(opts.limit, last - opts.after!)))
      : this.store.messagesBefore(roomId, Math.min(opts.before ?? last + 1, last + 1), opts.limit);
    return { messages, hasMore: pageHasMore(messages.map((m) => m.sequenceNumber), forward, firstSequence, last), firstSequence, lastSequence: last };
  }

  private activeHostedRoom(roomId: string): RoomRecord {
    const room = this.servedRoom(roomId);
    if (room.state !== 'ACTIVE') throw new ChatError('INVALID_STATE', `Room is in ${room.state} state`);
    return room;
  }
}
