import { Logger } from '@nestjs/common';
import { ChatError, hostUnavailable, type ChatErrorCode } from '../../../common/errors/chat-error';
import type { MemberLeftReason } from '../../../common/protocol/client-wire';
import type { ForwardItem, MarkReadResult, MessageChangeResult, PeerMethod, PeerParams, PeerResult } from '../../../common/protocol/peer-wire';
import type { RoomRecord } from '../../../common/store/chat-records';
import type { PeerDirectory } from '../../peers/peer-directory';
import { pageHasMore } from '../host/room-host.service';
import { fromMessageWire, toChatMessage } from '../../../common/protocol/record-mappers';
import type { DeletionOutcome, HistoryRange, HostHistoryPage, HostJoin, Invitation, MessageChange, ModerationOutcome, ModerationRequest, ReadMark, RoomHost, SentMessage } from './room-host';

/** Forwarded sends one connection may have in flight before its next request waits. */
const MAX_PENDING_SENDS_PER_CONNECTION = 64;

/**
 * The room is hosted by another node: each request is a peer call to it. A host known to be down,
 * or a call that fails or times out, is ADMIN_NODE_UNAVAILABLE; the host's own refusals keep
 * their codes.
 */
export class RemoteRoomHost implements RoomHost {
  // the per-host forward queue keeps a connection's sends in order, so they may be pipelined
  readonly maxSendsInFlight = MAX_PENDING_SENDS_PER_CONNECTION;
  private readonly logger = new Logger(RemoteRoomHost.name);

  constructor(
    private readonly room: RoomRecord,
    readonly nodeId: string,
    private readonly selfId: string,
    private readonly bootId: string,
    private readonly peers: PeerDirectory,
  ) {}

  async join(username: string): Promise<HostJoin> {
    const reply = await this.call('join_room', [this.room.roomId, username, this.selfId, this.bootId, this.room.hostEpoch]);
    if (!reply.success || !reply.room_info) throw refusal(reply.error_code, 'ROOM_NOT_FOUND', reply.message || 'Room not found');
    const hostHistory = (reply.messages ?? []).map(fromMessageWire);
    return {
      info: reply.room_info,
      hostHistory,
      firstSequence: reply.first_sequence ?? (hostHistory[0]?.sequenceNumber ?? 0),
      lastSequence: reply.last_sequence ?? (hostHistory.at(-1)?.sequenceNumber ?? 0),
    };
  }

  async send(item: ForwardItem): Promise<SentMessage> {
    const reply = await this.viaHost(() => this.peers.forwardMessage(this.nodeId, { ...item, host_epoch: this.room.hostEpoch }));
    if (!reply.success) throw refusal(reply.error_code, 'INTERNAL_ERROR', reply.error);
    return reply;
  }

  async leave(username: string, reason?: MemberLeftReason): Promise<void> {
    // the host's answer is not checked, as before: the member is gone from this node either way
    if (reason) await this.call('notify_member_disconnect', [this.room.roomId, username, this.selfId, reason]);
    else await this.call('leave_room', [this.room.roomId, username, this.selfId]);
  }

  async editMessage(username: string, messageId: string, content: string): Promise<MessageChange> {
    return changed(await this.call('edit_message', [this.room.roomId, messageId, username, content, this.selfId]));
  }

  async deleteMessage(username: string, messageId: string): Promise<MessageChange> {
    return changed(await this.call('delete_message', [this.room.roomId, messageId, username, this.selfId]));
  }

  async markRead(username: string, sequence: number): Promise<ReadMark> {
    const reply: MarkReadResult = await this.call('mark_read', [this.room.roomId, username, sequence, this.selfId]);
    if (!reply.success) throw refusal(reply.error_code, 'INTERNAL_ERROR', reply.error);
    return { sequence: Number(reply.sequence_number) || 0, logIndex: Number(reply.log_index) || 0 };
  }

  async invite(username: string, member: string): Promise<Invitation> {
    const reply = await this.call('invite_user', [this.room.roomId, username, member, this.selfId]);
    if (!reply.success) throw refusal(reply.error_code, 'INTERNAL_ERROR', reply.error);
    return { logIndex: Number(reply.log_index) || 0 };
  }

  async moderate(req: ModerationRequest): Promise<ModerationOutcome> {
    const reply = await this.call('moderate_member', [this.room.roomId, req.username, req.action, req.member, this.selfId, req.reason ?? null, req.seconds ?? null]);
    if (!reply.success) throw refusal(reply.error_code, 'INTERNAL_ERROR', reply.error);
    return { logIndex: Number(reply.log_index) || 0, ...(reply.muted_until ? { mutedUntil: reply.muted_until } : {}) };
  }

  async deleteRoom(username: string, onStarted: (transactionId: string) => void): Promise<DeletionOutcome> {
    const reply = await this.call('delete_room', [this.room.roomId, username, this.selfId]);
    if (!reply.transaction_id) throw new ChatError(asCode(reply.error_code, 'DELETION_FAILED'), reply.reason ?? 'Deletion failed');
    onStarted(reply.transaction_id);
    return reply.success
      ? { success: true, transactionId: reply.transaction_id }
      : { success: false, transactionId: reply.transaction_id, reason: reply.reason ?? 'Deletion failed' };
  }

  /** The host is authoritative; a replica may lag behind it under load. Null: answer from the replica. */
  async history(range: HistoryRange, limit: number): Promise<HostHistoryPage | null> {
    if (this.peers.isFailed(this.nodeId)) return null;
    try {
      const before = range.after === undefined ? (range.before ?? this.room.lastSequence + 1_000_000_000) : null;
      const page = await this.peers.call(this.nodeId, 'get_messages', [this.room.roomId, range.after ?? 0, before, limit, true]);
      if (!page.success) return null;
      const messages = page.messages.map((m) => toChatMessage(fromMessageWire(m)));
      const hasMore = pageHasMore(messages.map((m) => m.sequence_number), range.after !== undefined, page.first_sequence, page.last_sequence);
      return { messages, hasMore, firstSequence: page.first_sequence, lastSequence: page.last_sequence };
    } catch (e) {
      this.logger.debug(`History from ${this.nodeId} failed, answering from the replica: ${(e as Error).message}`);
      return null;
    }
  }

  private call<M extends PeerMethod>(method: M, params: PeerParams<M>): Promise<PeerResult<M>> {
    return this.viaHost(() => this.peers.call(this.nodeId, method, params));
  }

  /**
   * Runs a call to the room's host; a failed, suspected or unreachable host is a retryable
   * ADMIN_NODE_UNAVAILABLE (a failover may be under way: the retry goes to the new host).
   */
  private async viaHost<T>(call: () => Promise<T>): Promise<T> {
    if (!this.peers.has(this.nodeId)) throw new ChatError('ADMIN_NODE_UNAVAILABLE', 'Administrator node unavailable');
    if (this.peers.isFailed(this.nodeId) || this.peers.isSuspected(this.nodeId)) throw hostUnavailable('Administrator node unavailable');
    try {
      return await call();
    } catch (e) {
      throw hostUnavailable(`Failed to contact administrator node: ${(e as Error).message}`);
    }
  }
}

/** The host's answer to an edit or deletion: the message as it is now, or its refusal. */
const changed = (reply: MessageChangeResult): MessageChange => {
  if (!reply.success) throw refusal(reply.error_code, 'INTERNAL_ERROR', reply.error);
  return { message: fromMessageWire(reply.message), logIndex: Number(reply.log_index) || 0 };
};

/** The host's refusal as a ChatError; ADMIN_NODE_UNAVAILABLE from a host stays retryable. */
const refusal = (code: string | undefined, fallback: ChatErrorCode, message: string): ChatError =>
  code === 'ADMIN_NODE_UNAVAILABLE' ? hostUnavailable(message) : new ChatError(asCode(code, fallback), message);

const KNOWN_CODES = new Set<ChatErrorCode>(['INVALID_REQUEST', 'INVALID_CONTENT', 'ROOM_NOT_FOUND', 'NOT_MEMBER', 'NOT_IN_ROOM', 'UNAUTHORIZED', 'INVALID_STATE', 'ADMIN_NODE_UNAVAILABLE', 'DELETION_FAILED', 'INTERNAL_ERROR', 'USERNAME_TAKEN', 'STORE_UNAVAILABLE', 'LIMIT_EXCEEDED', 'MESSAGE_NOT_FOUND', 'NOT_AUTHOR', 'NOT_MODERATOR', 'BANNED', 'MUTED']);
/** A host's error_code as ours, when it is one we know; `fallback` otherwise. */
const asCode = (code: string | undefined, fallback: ChatErrorCode): ChatErrorCode =>
  code && KNOWN_CODES.has(code as ChatErrorCode) ? (code as ChatErrorCode) : fallback;
