import { Inject, Injectable, Logger } from '@nestjs/common';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { ChatError } from '../../../common/errors/chat-error';
import type { MemberLeftReason } from '../../../common/protocol/client-wire';
import type { ForwardItem, MarkReadResult, MessageChangeResult, PeerResult } from '../../../common/protocol/peer-wire';
import { toMessageWire, toRoomInfo } from '../../../common/protocol/record-mappers';
import { codePoints, contentProblem, LIMITS } from '../../../common/protocol/text-limits';
import { messageWireBytes, withinBudget } from '../../peers/reply-budget';
import { UsernameGuard } from '../identity/username-guard';
import { MessageEdits, type MessageChange } from './message-edits.service';
import { ReadMarkers } from './read-markers.service';
import { RoomDeletionCoordinator } from './room-deletion.coordinator';
import { RoomHostService, type SentRecord } from './room-host.service';
import { RoomVisibility } from '../replication/room-visibility';
import { peerRefusal } from './peer-request-checks';

/** A refusal because the room moved names its new host and epoch, so the caller can follow. */
const movedTo = (err: ChatError): { admin_node?: string; host_epoch?: number } =>
  typeof err.details.admin_node === 'string' ? { admin_node: err.details.admin_node, host_epoch: Number(err.details.host_epoch) } : {};

const LEAVE_REASONS = new Set<string>(['User disconnected', 'Node unreachable', 'Inactivity']);

/**
 * What a room's host does for a peer's request (reference-protocol.md §2.2 plus ours): the same
 * RoomHostService methods the local client path uses, with the peer's checks and the reference's
 * result structs. Refusals are results (success false + error_code), not faults.
 */
@Injectable()
export class HostPeerRequests {
  private readonly logger = new Logger(HostPeerRequests.name);

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly host: RoomHostService,
    private readonly deletion: RoomDeletionCoordinator,
    private readonly names: UsernameGuard,
    private readonly edits: MessageEdits,
    private readonly readMarkers: ReadMarkers,
    private readonly visibility: RoomVisibility,
  ) {}

  /** A peer's room list is for nobody in particular: public rooms only (its node adds the private rooms its user may see from its own replica). */
  hostedRooms(): PeerResult<'get_hosted_rooms'> {
    return this.visibility.publicOnly(this.host.hostedRooms()).map((r) => ({ ...r, node_address: this.config.xmlrpcAddress }));
  }

  /** The caller's host epoch is not needed: this node answers only while it hosts the room (RoomLogs). */
  async join(roomId: string, username: string, nodeId: string, bootId: string | null): Promise<PeerResult<'join_room'>> {
    try {
      this.validate('join_room', roomId, username);
      await this.names.assertFreeForPeer(nodeId, username);
      const r = await this.host.join(roomId, username, nodeId, bootId);
      return {
        success: true,
        message: r.joined ? 'Successfully joined room' : 'Already in room, re-registered',
        room_info: toRoomInfo(r.room, r.members),
        messages: withinBudget(r.history.map(toMessageWire), messageWireBytes, { fromEnd: true }),
        creator_id: r.room.creatorId,
        first_sequence: r.firstSequence,
        last_sequence: r.room.lastSequence,
      };
    } catch (e) {
      const err = this.refusal(e);
      return { success: false, message: err.message, error_code: err.code, room_info: null, ...movedTo(err) };
    }
  }

  async leave(roomId: string, username: string, nodeId: string): Promise<PeerResult<'leave_room'>> {
    try {
      // a peer can take out only the members connected through it (client_node_id is the signer)
      await this.host.leave(roomId, username, undefined, nodeId);
      return { success: true, message: 'Successfully left room' };
    } catch (e) {
      const err = this.refusal(e);
      return { success: false, message: err.message, error_code: err.code };
    }
  }

  async memberDisconnected(roomId: string, username: string, memberNode: string, reason: string | null): Promise<PeerResult<'notify_member_disconnect'>> {
    const why = (reason && LEAVE_REASONS.has(reason) ? reason : 'User disconnected') as MemberLeftReason;
    try {
      await this.host.leave(roomId, username, why, memberNode);
      return { success: true, message: 'Member removed successfully' };
    } catch (e) {
      const err = this.refusal(e);
      if (err.code === 'NOT_IN_ROOM') return { success: true, message: 'User not in room' };
      return { success: false, message: err.message };
    }
  }

  /**
   * Writes a batch of forwarded messages into their rooms' logs in the order given (all in this
   * turn, so one write stores them all), and answers each once it is committed.
   */
  sequenceAll(items: ForwardItem[]): Promise<PeerResult<'forward_messages'>> {
    return Promise.all(items.map((item) =>
      typeof item === 'object' && item !== null && typeof item.room_id === 'string' && typeof item.username === 'string'
        ? this.answer(this.sequence(item.room_id, item.username, item.content, item.client_message_id ?? null))
        : { success: false as const, error: 'Each item needs room_id, username and content', error_code: 'INVALID_REQUEST' },
    ));
  }

  private async answer(sending: Promise<SentRecord>): Promise<PeerResult<'forward_message'>> {
    try {
      const { message, duplicate } = await sending;
      return { success: true, message_id: message.messageId, sequence_number: message.sequenceNumber, timestamp: message.timestamp, ...(duplicate ? { duplicate } : {}) };
    } catch (e) {
      const err = this.refusal(e);
      return { success: false, error: err.message, error_code: err.code, ...movedTo(err) };
    }
  }

  /** Proposes at once (not after an await), so a batch keeps its order; refusals come back as rejected promises. */
  private sequence(roomId: string, username: string, content: unknown, clientMessageId: string | null): Promise<SentRecord> {
    try {
      // the same content rules as a client's send, without building a DTO per forwarded message
      const problem = contentProblem(content);
      if (problem) throw new ChatError('INVALID_CONTENT', problem);
      if (clientMessageId !== null && (typeof clientMessageId !== 'string' || clientMessageId.length > LIMITS.clientMessageId)) {
        throw new ChatError('INVALID_REQUEST', `client_message_id must be 1-${LIMITS.clientMessageId} characters`);
      }
      return this.host.send(roomId, username, content as string, clientMessageId ?? null);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** A page after `after`, or before `before` when that is given, cut to the reply budget. */
  messages(roomId: string, after: number, before: number | null | undefined, limit: number): PeerResult<'get_messages'> {
    try {
      const backwards = before !== null && before !== undefined;
      const page = this.host.page(roomId, backwards ? { before, limit: clamp(limit) } : { after, limit: clamp(limit) });
      const messages = withinBudget(page.messages.map(toMessageWire), messageWireBytes, { fromEnd: backwards });
      return { success: true, messages, first_sequence: page.firstSequence, last_sequence: page.lastSequence };
    } catch (e) {
      return { success: false, messages: [], first_sequence: 0, last_sequence: 0, error_code: this.refusal(e).code };
    }
  }

  async deleteRoom(roomId: string, username: string, nodeId: string): Promise<PeerResult<'delete_room'>> {
    try {
      await this.names.assertFreeForPeer(nodeId, username);
      const outcome = await this.deletion.deleteRoom(roomId, username);
      return outcome.success
        ? { success: true, transaction_id: outcome.transactionId }
        : { success: false, transaction_id: outcome.transactionId, reason: outcome.reason, error_code: 'DELETION_FAILED' };
    } catch (e) {
      const err = this.refusal(e);
      return { success: false, reason: err.message, error_code: err.code };
    }
  }

  /** A member's edit through another node: the same content rules as a send (INVALID_CONTENT), the same checks as a local edit. */
  editMessage(roomId: string, messageId: string, username: string, content: unknown): Promise<MessageChangeResult> {
    return this.answerChange(() => {
      this.validate('edit_message', roomId, username);
      const problem = contentProblem(content);
      if (problem) throw new ChatError('INVALID_CONTENT', problem);
      return this.edits.edit(roomId, this.messageId(messageId), username, content as string);
    });
  }

  deleteMessage(roomId: string, messageId: string, username: string): Promise<MessageChangeResult> {
    return this.answerChange(() => {
      this.validate('delete_message', roomId, username);
      return this.edits.delete(roomId, this.messageId(messageId), username);
    });
  }

  /** A member's mark_read through another node: the same checks as a local one. */
  async markRead(roomId: string, username: string, sequence: number): Promise<MarkReadResult> {
    try {
      this.validate('mark_read', roomId, username);
      if (!Number.isSafeInteger(sequence) || sequence < 0) throw new ChatError('INVALID_REQUEST', 'sequence_number must be a whole number >= 0');
      const { sequence: now, logIndex } = await this.readMarkers.mark(roomId, username, sequence);
      return { success: true, sequence_number: now, log_index: logIndex };
    } catch (e) {
      const err = this.refusal(e);
      return { success: false, error: err.message, error_code: err.code, ...movedTo(err) };
    }
  }

  private async answerChange(change: () => Promise<MessageChange>): Promise<MessageChangeResult> {
    try {
      const { message, logIndex } = await change();
      return { success: true, message: toMessageWire(message), log_index: logIndex };
    } catch (e) {
      const err = this.refusal(e);
      return { success: false, error: err.message, error_code: err.code, ...movedTo(err) };
    }
  }

  private messageId(id: string): string {
    if (!id || codePoints(id) > LIMITS.messageId) throw new ChatError('INVALID_REQUEST', `message_id must be 1-${LIMITS.messageId} characters`);
    return id;
  }

  private validate(method: string, roomId: string, username: string): void {
    if (!roomId || !username) throw new ChatError('INVALID_REQUEST', `${method}: Missing room_id or username`);
    if (codePoints(username) > LIMITS.username) {
      throw new ChatError('INVALID_REQUEST', `${method}: username must be at most ${LIMITS.username} characters`);
    }
  }

  private refusal(e: unknown): ChatError {
    return peerRefusal(e, this.logger);
  }
}

/** get_messages pages hold 1 to 1000 messages, whatever the caller asks. */
const clamp = (limit: number) => Math.max(1, Math.min(limit, 1000));
