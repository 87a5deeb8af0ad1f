import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Clock } from '../../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { ChatError } from '../../../common/errors/chat-error';
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

/**
 * The authority for the rooms this node hosts: membership, sequencing, history. The same
 * methods serve local clients (through RoomRequestsService) and peers (through HostPeerRequests).
 */
@Injectable()
export class RoomHostService implements OnApplicationBootstrap {
  private readonly logger = new Logger(RoomHostService.name);

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    @Inject(CHAT_STORE) private readonly store: ChatStore,
    private readonly clock: Clock,
    private readonly events: RoomEventPublisher,
  ) {}

  /** After a restart: our own clients' connections are gone, and no deletion can still be in flight. */
  onApplicationBootstrap(): void {
    for (const room of this.store.listRooms(this.config.nodeId)) {
      if (room.state === 'COMMITTING') {
        this.store.deleteRoom({ roomId: room.roomId, roomName: room.roomName, hostNode: room.hostNode, deletedAt: this.clock.iso(), transactionId: room.deletionTxn });
        this.events.roomDeleted(room, room.deletionTxn);
        continue;
      }
      if (room.state !== 'ACTIVE') {
        this.store.setRoomState(room.roomId, 'ACTIVE', null);
        this.events.roomChanged({ ...room, state: 'ACTIVE', deletionTxn: null });
      }
    }
    const stale = this.store.membersOnNode(this.config.nodeId, this.config.nodeId);
    if (stale.length > 0) this.logger.log(`Removing ${stale.length} member(s) whose connections ended while this node was down`);
    for (const m of stale) this.leave(m.roomId, m.username, 'User disconnected');
  }

  /** A room this node hosts, or ROOM_NOT_FOUND: the host's own refusal of rooms it does not serve. */
  hostedRoom(roomId: string): RoomRecord {
    const room = this.store.getRoom(roomId);
    if (!room || room.hostNode !== this.config.nodeId) throw new ChatError('ROOM_NOT_FOUND', 'Room not found');
    return room;
  }

  hostedRooms(): RoomSummary[] {
    return this.store.listRooms(this.config.nodeId).map((r) => toRoomSummary(r, this.store.memberCount(r.roomId)));
  }

  create(roomName: string, creatorId: string, description: string | null): RoomRecord {
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
      state: 'ACTIVE',
      createdAt: this.clock.iso(),
      lastSequence: 0,
      deletionTxn: null,
    };
    this.store.insertRoom(room);
    this.events.roomChanged(room);
    this.logger.log(`Room '${roomName}' (${room.roomId}) created by ${creatorId}`);
    return room;
  }

  /** `memberBootId`: the member node's boot id, if it said (see removeMembersOf). */
  join(roomId: string, username: string, memberNode: string, memberBootId: string | null = null): JoinResult {
    const room = this.activeHostedRoom(roomId);
    const before = this.store.getMember(roomId, username);
    const joined = this.store.addMember(roomId, username, memberNode, this.clock.iso(), memberBootId);
    const members = this.store.listMembers(roomId);
    // A member that rejoined through another node (its old one closed or died) moves on every replica
    // too: replicas tell the guard against name takeover which node holds the name.
    if (joined || before?.nodeId !== memberNode) {
      this.events.memberChanged('member_joined', { room_id: roomId, username, member_count: members.length, timestamp: this.clock.iso() }, memberNode);
    }
    const history = this.store.messagesBefore(roomId, room.lastSequence + 1, JOIN_HISTORY);
    return { room, members, joined, history, firstSequence: this.store.firstSequence(roomId) };
  }

  /**
   * Removes a member; `reason` is left out for an explicit leave, as in the reference.
   * `throughNode` scopes a disconnect to the node whose connection ended: a user who has meanwhile
   * joined again through another node (their node went down and the client moved, or a second tab)
   * keeps that newer membership when the old node's notice arrives late.
   */
  leave(roomId: string, username: string, reason?: MemberLeftReason, throughNode?: string): void {
    this.hostedRoom(roomId);
    const member = this.store.getMember(roomId, username);
    if (!member) throw new ChatError('NOT_IN_ROOM', 'Not in room');
    if (throughNode !== undefined && member.nodeId !== throughNode) {
      throw new ChatError('NOT_IN_ROOM', `Connected through ${member.nodeId}, not ${throughNode}`);
    }
    this.store.removeMember(roomId, username);
    const event = { room_id: roomId, username, member_count: this.store.memberCount(roomId), timestamp: this.clock.iso(), ...(reason ? { reason } : {}) };
    this.events.memberChanged('member_left', event, member.nodeId);
  }

  send(roomId: string, username: string, content: string, clientMessageId: string | null): { message: MessageRecord; duplicate: boolean } {
    this.activeHostedRoom(roomId);
    if (!this.store.getMember(roomId, username)) throw new ChatError('NOT_MEMBER', 'You are not a member of this room');
    if (clientMessageId) {
      const earlier = this.store.findByClientMessageId(roomId, username, clientMessageId);
      if (earlier) return { message: earlier, duplicate: true };
    }
    const message = this.store.appendMessage({ messageId: randomUUID(), roomId, username, content, timestamp: this.clock.iso(), clientMessageId });
    // inside a batch (forward_messages) the message exists only once the batch commits
    this.store.afterCommit(() => this.events.messageSequenced(message));
    return { message, duplicate: false };
  }

  /**
   * Removes every member connected through `nodeId` from the rooms hosted here. With `currentBootId`
   * (the node restarted), members who joined through its new run are kept: its clients may have
   * joined again before this node noticed the restart.
   */
  removeMembersOf(nodeId: string, reason: MemberLeftReason, currentBootId?: string): number {
    const members = this.store.membersOnNode(nodeId, this.config.nodeId).filter((m) => currentBootId === undefined || m.bootId !== currentBootId);
    for (const m of members) this.leave(m.roomId, m.username, reason);
    if (members.length > 0) this.logger.warn(`Removed ${members.length} member(s) connected through ${nodeId} (${reason})`);
    return members.length;
  }

  /** A page of a room's history from this node's store (host or replica). */
  page(roomId: string, opts: { after?: number; before?: number; limit: number }): HistoryPage {
    const room = this.store.getRoom(roomId);
    if (!room) throw new ChatError('ROOM_NOT_FOUND', 'Room not found');
    const firstSequence = this.store.firstSequence(roomId);
    const forward = opts.after !== undefined;
    const messages = forward
      ? this.store.messagesAfter(roomId, opts.after!, opts.limit)
      : this.store.messagesBefore(roomId, opts.before ?? room.lastSequence + 1, opts.limit);
    return { messages, hasMore: pageHasMore(messages.map((m) => m.sequenceNumber), forward, firstSequence, room.lastSequence), firstSequence, lastSequence: room.lastSequence };
  }

  private activeHostedRoom(roomId: string): RoomRecord {
    const room = this.hostedRoom(roomId);
    if (room.state !== 'ACTIVE') throw new ChatError('INVALID_STATE', `Room is in ${room.state} state`);
    return room;
  }
}
