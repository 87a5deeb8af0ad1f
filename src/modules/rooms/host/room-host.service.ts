import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Clock } from '../../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { ChatError, hostUnavailable } from '../../../common/errors/chat-error';
import type { MemberLeftReason, RoomSummary } from '../../../common/protocol/client-wire';
import { toRoomSummary } from '../../../common/protocol/record-mappers';
import type { MemberRecord, MessageRecord, RoomRecord } from '../../../common/store/chat-records';
import { MemberRepository } from '../../../common/store/member.repository';
import { MessageRepository } from '../../../common/store/message.repository';
import { RoomLogRepository } from '../../../common/store/room-log.repository';
import { RoomRepository } from '../../../common/store/room.repository';
import { StoreTransactions } from '../../../common/store/store-transactions';
import { STORE_UNAVAILABLE_MESSAGE } from '../../../common/store/store-write-health';
import { TombstoneRepository } from '../../../common/store/tombstone.repository';
import { clientKeyOf, isTrimmedMessage, MEMBER_JOINED, MEMBER_LEFT, MESSAGE, ROOM, type MemberJoinedData, type MemberLeftData, type MessageData, type RoomData, type StoredMessageData } from '../replication/room-entries';
import { RoomLogs } from '../replication/room-logs.service';
import { RoomLogPeers } from '../replication/room-log-peers';
import { RoomModerationRepository } from '../../../common/store/room-moderation.repository';
import { banRefusal, muteRefusal } from './moderation-rights';
import { RoomVisibility } from '../replication/room-visibility';

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

/** A message the room's log committed (`duplicate`: a retry, answered with the first attempt's message). */
export interface SentRecord {
  message: MessageRecord;
  duplicate: boolean;
}

/**
 * What the host of a room does for its clients and its peers' clients: every change (creation,
 * join, leave, message) is an entry in the room's log, answered once a majority stored it (the
 * log is committed there: RoomLogs). Reads come from what every node applied (LogApplier). The
 * same methods serve local clients (RoomRequestsService) and peers (HostPeerRequests). Each change
 * is checked and proposed inside RoomLogs.serve, so a host just elected checks it only once it has
 * applied what was committed before it (the other host services do the same).
 */
@Injectable()
export class RoomHostService {
  private readonly logger = new Logger(RoomHostService.name);
  /** Rooms whose deletion this host has written but not yet committed: no joins or messages meanwhile. */
  private readonly deleting = new Set<string>();

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly transactions: StoreTransactions,
    private readonly rooms: RoomRepository,
    private readonly messages: MessageRepository,
    private readonly members: MemberRepository,
    private readonly tombstones: TombstoneRepository,
    private readonly storedLogs: RoomLogRepository,
    private readonly clock: Clock,
    private readonly logs: RoomLogs,
    private readonly logPeers: RoomLogPeers,
    private readonly visibility: RoomVisibility,
    private readonly moderation: RoomModerationRepository,
  ) {}

  /**
   * A room this node hosts now. ROOM_NOT_FOUND for a room it never heard of; a room hosted
   * elsewhere (or waiting for an election) is a retryable ADMIN_NODE_UNAVAILABLE naming the host when known.
   */
  hostedRoom(roomId: string): RoomRecord {
    const room = this.rooms.getRoom(roomId);
    if (!room) throw this.unknownRoom(roomId);
    if (this.transactions.writesFailing) throw new ChatError('STORE_UNAVAILABLE', STORE_UNAVAILABLE_MESSAGE); // not "host unavailable": this node is the host, its disk is not
    if (!this.logs.hosts(roomId)) {
      const host = this.logs.hostOf(roomId);
      if (host && host.node !== this.config.nodeId) throw hostUnavailable(`Room is hosted by ${host.node} now`, { adminNode: host.node, hostEpoch: host.epoch });
      throw hostUnavailable('The room has no host right now (an election is under way); retry shortly');
    }
    return room;
  }

  /**
   * A peer sent a request for a room this node has not applied: deleted (not found), or this node
   * is still learning it (a log without its first entry, or a data directory it came back with
   * empty): then the caller retries, and finds the room's real host meanwhile.
   */
  private unknownRoom(roomId: string): ChatError {
    if (!this.tombstones.getTombstone(roomId) && (this.storedLogs.state(roomId) || this.logPeers.learning)) {
      return hostUnavailable('This node is still learning this room (it came back without its data); retry shortly');
    }
    return new ChatError('ROOM_NOT_FOUND', 'Room not found');
  }

  /** Kept for the deletion coordinator: a hosted room that may change now. */
  servedRoom(roomId: string): RoomRecord {
    return this.hostedRoom(roomId);
  }

  hostedRooms(): RoomSummary[] {
    return this.logs
      .hostedRooms()
      .map((id) => this.rooms.getRoom(id))
      .filter((r): r is RoomRecord => r !== null)
      .map((r) => toRoomSummary(r, this.members.memberCount(r.roomId)));
  }

  /** The rooms this node knows (hosted here or elsewhere), as room lists show them: with the host it knows. */
  knownRooms(roomIds: string[]): RoomSummary[] {
    return roomIds
      .map((id) => this.rooms.getRoom(id))
      .filter((r): r is RoomRecord => r !== null && r.state === 'ACTIVE')
      .map((r) => toRoomSummary({ ...r, hostNode: this.logs.hostOf(r.roomId)?.node ?? r.hostNode }, this.members.memberCount(r.roomId)));
  }

  /**
   * Resolves once a majority stored the new room (nobody is told of a room that a failover could
   * lose). Names are unique among the rooms the creator may see: a private room's name must not
   * tell others it exists.
   */
  async create(roomName: string, creatorId: string, description: string | null, isPrivate = false): Promise<RoomRecord> {
    if (this.rooms.findRoomsByName(roomName).some((r) => this.visibility.maySee(r.roomId, creatorId))) throw new ChatError('ROOM_EXISTS', `Room with name '${roomName}' already exists`);
    const roomId = randomUUID();
    const data: RoomData = { room_name: roomName, description, creator_id: creatorId, created_at: this.clock.iso(), ...(isPrivate ? { private: true as const } : {}) };
    await this.logs.found(roomId, { kind: ROOM, data });
    this.logger.log(`Room '${roomName}' (${roomId}) created by ${creatorId}`);
    return this.rooms.getRoom(roomId)!;
  }

  /** `memberBootId`: the member node's boot id, if it said (see removeMembersOf). */
  join(roomId: string, username: string, memberNode: string, memberBootId: string | null = null): Promise<JoinResult> {
    return this.logs.serve(roomId, () => this.joinNow(roomId, username, memberNode, memberBootId));
  }

  private async joinNow(roomId: string, username: string, memberNode: string, memberBootId: string | null): Promise<JoinResult> {
    this.visibility.assertVisible(roomId, username); // before any other answer: a private room's state is nobody else's business
    this.activeHostedRoom(roomId);
    const banned = banRefusal(this.moderation.isBanned(roomId, username));
    if (banned) throw banned;
    const before = this.members.getMember(roomId, username);
    const data: MemberJoinedData = { username, node_id: memberNode, joined_at: this.clock.iso(), boot_id: memberBootId };
    await this.logs.propose(roomId, { kind: MEMBER_JOINED, data });
    const room = this.rooms.getRoom(roomId);
    if (!room) throw new ChatError('ROOM_NOT_FOUND', 'Room not found');
    const history = this.messages.messagesBefore(roomId, room.lastSequence + 1, JOIN_HISTORY);
    return { room, members: this.members.listMembers(roomId), joined: !before, history, firstSequence: this.messages.firstSequence(roomId) };
  }

  /**
   * Removes a member; `reason` is left out for an explicit leave, as in the reference.
   * `throughNode` scopes a disconnect to the node whose connection ended: a user who has meanwhile
   * joined again through another node (their node went down and the client moved, or a second tab)
   * keeps that newer membership when the old node's notice arrives late.
   */
  leave(roomId: string, username: string, reason?: MemberLeftReason, throughNode?: string): Promise<void> {
    return this.logs.serve(roomId, async () => {
      this.hostedRoom(roomId);
      const member = this.members.getMember(roomId, username);
      if (!member) throw new ChatError('NOT_IN_ROOM', 'Not in room');
      if (throughNode !== undefined && member.nodeId !== throughNode) {
        throw new ChatError('NOT_IN_ROOM', `Connected through ${member.nodeId}, not ${throughNode}`);
      }
      await this.removeMember(roomId, username, reason, throughNode === undefined ? undefined : { node_id: throughNode });
    });
  }

  /** `membership`: the connection the removal is for; a newer membership of the same user is kept (see MemberLeftData). */
  private removeMember(roomId: string, username: string, reason?: MemberLeftReason, membership?: Pick<MemberLeftData, 'node_id' | 'boot_id'>): Promise<unknown> {
    const data: MemberLeftData = { username, timestamp: this.clock.iso(), ...(reason ? { reason } : {}), ...membership };
    return this.logs.propose(roomId, { kind: MEMBER_LEFT, data });
  }

  /**
   * Writes a message into the room's log (synchronously: sends proposed in one turn keep their
   * order) and resolves once it is committed. A retry with the same client_message_id is answered
   * with the first attempt's entry once that one is committed.
   */
  send(roomId: string, username: string, content: string, clientMessageId: string | null): Promise<SentRecord> {
    return this.logs.serve(roomId, () => this.sendNow(roomId, username, content, clientMessageId));
  }

  private sendNow(roomId: string, username: string, content: string, clientMessageId: string | null): Promise<SentRecord> {
    this.activeHostedRoom(roomId);
    if (!this.members.getMember(roomId, username)) throw new ChatError('NOT_MEMBER', 'You are not a member of this room');
    const muted = muteRefusal(this.moderation.mutedUntil(roomId, username), this.clock.now());
    if (muted) throw muted;
    const data: MessageData = { message_id: randomUUID(), username, content, timestamp: this.clock.iso(), client_message_id: clientMessageId };
    return this.logs.propose(roomId, { kind: MESSAGE, data, clientKey: clientKeyOf(username, clientMessageId) }).then(({ entry, duplicate }) => {
      // a retry of a message retention has since removed finds a stripped entry: acknowledged by id, sequence and timestamp (content is never read from here)
      const d = entry.data as StoredMessageData;
      const content = isTrimmedMessage(d) ? '' : d.content;
      const message: MessageRecord = { messageId: d.message_id, roomId, username: d.username, content, sequenceNumber: entry.sequence, timestamp: d.timestamp, clientMessageId: d.client_message_id ?? null };
      return { message, duplicate };
    });
  }

  /**
   * Removes every member connected through `nodeId` from the rooms hosted here. With `currentBootId`
   * (the node restarted), members who joined through its new run are kept: its clients may have
   * joined again before this node noticed the restart.
   */
  removeMembersOf(nodeId: string, reason: MemberLeftReason, currentBootId?: string): number {
    let removed = 0;
    for (const roomId of this.logs.hostedRooms()) removed += this.removeMembersIn(roomId, (m) => m.nodeId === nodeId && (currentBootId === undefined || m.bootId !== currentBootId), reason);
    if (removed > 0) this.logger.warn(`Removed ${removed} member(s) connected through ${nodeId} (${reason})`);
    return removed;
  }

  /**
   * Removes the room's members that `which` picks (fire and forget: each is its own entry). A host
   * just elected picks them once it has caught up (RoomLogs.serve: a member whose join it has not
   * applied yet is one too); the result counts only those removed at once.
   */
  removeMembersIn(roomId: string, which: (m: MemberRecord) => boolean, reason: MemberLeftReason): number {
    let removed = 0;
    const remove = async () => {
      const members = this.members.listMembers(roomId).filter(which);
      for (const m of members) this.removeMember(roomId, m.username, reason, { node_id: m.nodeId, boot_id: m.bootId }).catch((e: Error) => this.logger.debug(`Removing ${m.username} from ${roomId}: ${e.message}`));
      removed = members.length;
    };
    this.logs.serve(roomId, remove).catch((e: Error) => this.logger.debug(`Removing members from ${roomId}: ${e.message}`)); // run in this turn unless the host catches up
    return removed;
  }

  /** A page of the room's committed history from this node's store (host or not). */
  page(roomId: string, opts: { after?: number; before?: number; limit: number }): HistoryPage {
    const room = this.rooms.getRoom(roomId);
    if (!room) throw new ChatError('ROOM_NOT_FOUND', 'Room not found');
    const last = room.lastSequence;
    const firstSequence = this.messages.firstSequence(roomId);
    const forward = opts.after !== undefined;
    const messages = forward
      ? this.messages.messagesAfter(roomId, opts.after!, Math.max(0, Math.min(opts.limit, last - opts.after!)))
      : this.messages.messagesBefore(roomId, Math.min(opts.before ?? last + 1, last + 1), opts.limit);
    return { messages, hasMore: pageHasMore(messages.map((m) => m.sequenceNumber), forward, firstSequence, last), firstSequence, lastSequence: last };
  }

  /** The room's last message shown to members (everything stored here is committed). */
  visibleUpTo(roomId: string): number {
    return this.rooms.getRoom(roomId)?.lastSequence ?? 0;
  }

  /** The deletion coordinator marks a room whose deletion is in flight (joins and messages are refused meanwhile). */
  markDeleting(roomId: string, deleting: boolean): void {
    if (deleting) this.deleting.add(roomId);
    else this.deleting.delete(roomId);
  }

  /** A hosted room that takes changes now (not being deleted). */
  activeHostedRoom(roomId: string): RoomRecord {
    const room = this.hostedRoom(roomId);
    if (room.state !== 'ACTIVE' || this.deleting.has(roomId)) throw new ChatError('INVALID_STATE', `Room is in ${this.deleting.has(roomId) ? 'DELETION_PENDING' : room.state} state`);
    return room;
  }
}
