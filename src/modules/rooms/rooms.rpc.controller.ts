import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { ChatError } from '../../common/errors/chat-error';
import { CHAT_STORE, ChatStore } from '../../common/store/chat-store';
import { XmlRpcContext, XmlRpcFault, XmlRpcFaultCode } from '../../common/xmlrpc';
import { ClientRegistry } from '../members/client-registry';
import type { ForwardItem, PeerResult, ReplicationEvent } from '../../common/protocol/peer-wire';
import { checkParams, checkReplicationEvents, messageWireProblem, parseJsonArray } from '../peers/rpc-params';
import { LIMITS } from './dto/requests';
import { codePoints, contentProblem } from './dto/text-rules';
import { RoomDeletionService } from './room-deletion.service';
import { RoomHostAuthority } from './room-host-authority';
import { RoomHostService } from './room-host.service';
import { messageWireBytes, withinBudget } from '../peers/reply-budget';
import { fromMessageWire, toMessageWire, toRoomInfo } from './room-mappers';
import { RoomStatePages } from './room-state-pages';
import { ReplicaService } from './replica.service';
import { UsernameGuard } from './username-guard';
import type { ChatMessage, MemberEvent, MemberLeftReason } from '../../common/protocol/client-wire';

const MEMBER_EVENTS = new Set(['member_joined', 'member_left']);
const LEAVE_REASONS = new Set<string>(['User disconnected', 'Node unreachable', 'Inactivity']);

/**
 * The peer side of the room methods (reference-protocol.md §2.2 plus ours). Each handler checks
 * its params, calls the same service method the client path uses, and shapes the reference's
 * result struct.
 */
@Controller()
export class RoomsRpcController {
  private readonly logger = new Logger(RoomsRpcController.name);

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    @Inject(CHAT_STORE) private readonly store: ChatStore,
    private readonly host: RoomHostService,
    private readonly replica: ReplicaService,
    private readonly deletion: RoomDeletionService,
    private readonly clients: ClientRegistry,
    private readonly roomStates: RoomStatePages,
    private readonly names: UsernameGuard,
    private readonly authority: RoomHostAuthority,
  ) {}

  @MessagePattern('get_hosted_rooms')
  getHostedRooms(@Payload() params: unknown): PeerResult<'get_hosted_rooms'> {
    checkParams('get_hosted_rooms', params, []);
    return this.host.hostedRooms().map((r) => ({ ...r, node_address: this.config.xmlrpcAddress }));
  }

  @MessagePattern('join_room')
  async joinRoom(@Payload() params: unknown): Promise<PeerResult<'join_room'>> {
    const [roomId, username, nodeId, bootId] = checkParams<[string, string, string, string?]>('join_room', params, ['string', 'string', 'string', 'string?']);
    try {
      this.validate('join_room', roomId, username);
      await this.names.assertFreeForPeer(nodeId, username);
      const r = this.host.join(roomId, username, nodeId, bootId ?? null);
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
      return { success: false, message: err.message, error_code: err.code, room_info: null };
    }
  }

  @MessagePattern('leave_room')
  leaveRoom(@Payload() params: unknown): PeerResult<'leave_room'> {
    const [roomId, username, nodeId] = checkParams<[string, string, string]>('leave_room', params, ['string', 'string', 'string']);
    try {
      // a peer can take out only the members connected through it (client_node_id is the signer)
      this.host.leave(roomId, username, undefined, nodeId);
      return { success: true, message: 'Successfully left room' };
    } catch (e) {
      const err = this.refusal(e);
      return { success: false, message: err.message, error_code: err.code };
    }
  }

  @MessagePattern('notify_member_disconnect')
  notifyMemberDisconnect(@Payload() params: unknown): PeerResult<'notify_member_disconnect'> {
    const [roomId, username, memberNode, reason] = checkParams<[string, string, string, string?]>('notify_member_disconnect', params, ['string', 'string', 'string', 'string?']);
    const why = (reason && LEAVE_REASONS.has(reason) ? reason : 'User disconnected') as MemberLeftReason;
    try {
      this.host.leave(roomId, username, why, memberNode);
      return { success: true, message: 'Member removed successfully' };
    } catch (e) {
      const err = this.refusal(e);
      if (err.code === 'NOT_IN_ROOM') return { success: true, message: 'User not in room' };
      return { success: false, message: err.message };
    }
  }

  @MessagePattern('forward_message')
  forwardMessage(@Payload() params: unknown): PeerResult<'forward_message'> {
    // content is checked like a client's (INVALID_CONTENT in the result), not faulted
    const [roomId, username, content, , clientMessageId] = checkParams<[string, string, unknown, string, (string | null)?]>(
      'forward_message',
      params,
      ['string', 'string', 'any', 'string', 'string?'],
    );
    return this.sequenceAll([{ room_id: roomId, username, content, client_message_id: clientMessageId ?? null } as ForwardItem])[0];
  }

  /** Several forwards from one node in one call, sequenced in the order given. */
  @MessagePattern('forward_messages')
  forwardMessages(@Payload() params: unknown): PeerResult<'forward_messages'> {
    const [, items] = checkParams<[string, ForwardItem[]]>('forward_messages', params, ['string', 'array']);
    return this.sequenceAll(items);
  }

  @MessagePattern('forward_messages_json')
  forwardMessagesJson(@Payload() params: unknown): PeerResult<'forward_messages_json'> {
    const [, json] = checkParams<[string, string]>('forward_messages_json', params, ['string', 'string']);
    return JSON.stringify(this.sequenceAll(parseJsonArray('forward_messages_json', 'items_json', json) as ForwardItem[]));
  }

  /** Sequences a batch of forwarded messages in order, in one commit (per-message commits cost a WAL write each). */
  private sequenceAll(items: ForwardItem[]): PeerResult<'forward_messages'> {
    try {
      return this.store.transaction(() => items.map((item) =>
        typeof item === 'object' && item !== null && typeof item.room_id === 'string' && typeof item.username === 'string'
          ? this.sequence(item.room_id, item.username, item.content, item.client_message_id ?? null)
          : { success: false as const, error: 'Each item needs room_id, username and content', error_code: 'INVALID_REQUEST' },
      ));
    } catch (e) {
      // the store cannot write: the whole batch was rolled back, so none of it is acknowledged
      if (!(e instanceof ChatError && e.code === 'STORE_UNAVAILABLE')) throw e;
      return items.map(() => ({ success: false as const, error: e.message, error_code: e.code }));
    }
  }

  private sequence(roomId: string, username: string, content: unknown, clientMessageId: string | null): PeerResult<'forward_message'> {
    try {
      // the same content rules as a client's send, without building a DTO per forwarded message
      const problem = contentProblem(content);
      if (problem) throw new ChatError('INVALID_CONTENT', problem);
      if (clientMessageId !== null && (typeof clientMessageId !== 'string' || clientMessageId.length > LIMITS.clientMessageId)) {
        throw new ChatError('INVALID_REQUEST', `client_message_id must be 1-${LIMITS.clientMessageId} characters`);
      }
      const { message, duplicate } = this.host.send(roomId, username, content as string, clientMessageId ?? null);
      return { success: true, message_id: message.messageId, sequence_number: message.sequenceNumber, timestamp: message.timestamp, ...(duplicate ? { duplicate } : {}) };
    } catch (e) {
      if (e instanceof ChatError && e.code === 'STORE_UNAVAILABLE') throw e; // stops and rolls back the whole batch (sequenceAll)
      const err = this.refusal(e);
      return { success: false, error: err.message, error_code: err.code };
    }
  }

  @MessagePattern('receive_message_broadcast')
  async receiveMessageBroadcast(@Payload() params: unknown, @Ctx() ctx: XmlRpcContext): Promise<boolean> {
    const [roomId, message] = checkParams<[string, ChatMessage]>('receive_message_broadcast', params, ['string', 'struct']);
    const problem = message.room_id === roomId ? messageWireProblem(message) : 'message.room_id is not that room';
    if (problem) throw new XmlRpcFault(XmlRpcFaultCode.InvalidParams, `receive_message_broadcast: message_data is not a ChatMessage of that room (${problem})`);
    this.authority.check('receive_message_broadcast', roomId, ctx.getPeer());
    await this.replica.applyMessage(fromMessageWire(message));
    return true;
  }

  @MessagePattern('receive_member_event_broadcast')
  receiveMemberEventBroadcast(@Payload() params: unknown, @Ctx() ctx: XmlRpcContext): boolean {
    const [roomId, eventType, event] = checkParams<[string, string, MemberEvent]>('receive_member_event_broadcast', params, ['string', 'string', 'struct']);
    this.authority.check('receive_member_event_broadcast', roomId, ctx.getPeer());
    // Only member events are relayed: a caller must not be able to inject arbitrary client frames.
    if (!MEMBER_EVENTS.has(eventType) || typeof event.username !== 'string') {
      throw new XmlRpcFault(XmlRpcFaultCode.InvalidParams, 'receive_member_event_broadcast: event_type must be member_joined or member_left');
    }
    this.clients.broadcast(roomId, eventType as 'member_joined', { ...event, room_id: roomId }, event.username);
    return true;
  }

  @MessagePattern('prepare_delete_room')
  prepareDeleteRoom(@Payload() params: unknown): PeerResult<'prepare_delete_room'> {
    // the authenticator has checked that coordinator_node is the signer (or a configured peer)
    const [roomId, txn, coordinator, initiator] = checkParams<[string, string, string, string?]>('prepare_delete_room', params, ['string', 'string', 'string', 'string?']);
    return this.deletion.prepareParticipant(roomId, txn, coordinator, initiator ?? undefined);
  }

  @MessagePattern('commit_delete_room')
  commitDeleteRoom(@Payload() params: unknown, @Ctx() ctx: XmlRpcContext): PeerResult<'commit_delete_room'> {
    const [roomId, txn, roomName] = checkParams<[string, string, string?]>('commit_delete_room', params, ['string', 'string', 'string?']);
    return this.deletion.commitParticipant(roomId, txn, roomName ?? null, ctx.getPeer());
  }

  @MessagePattern('rollback_delete_room')
  rollbackDeleteRoom(@Payload() params: unknown, @Ctx() ctx: XmlRpcContext): PeerResult<'rollback_delete_room'> {
    const [roomId, txn] = checkParams<[string, string]>('rollback_delete_room', params, ['string', 'string']);
    return this.deletion.rollbackParticipant(roomId, txn, ctx.getPeer());
  }

  // --- our additions ---------------------------------------------------------------------------

  @MessagePattern('replicate_events')
  async replicateEvents(@Payload() params: unknown): Promise<boolean> {
    const [fromNode, events] = checkParams<[string, ReplicationEvent[]]>('replicate_events', params, ['string', 'array']);
    checkReplicationEvents(events);
    await this.replica.receive(fromNode, events);
    return true;
  }

  @MessagePattern('replicate_events_json')
  async replicateEventsJson(@Payload() params: unknown): Promise<boolean> {
    const [fromNode, json] = checkParams<[string, string]>('replicate_events_json', params, ['string', 'string']);
    const events = parseJsonArray('replicate_events_json', 'events_json', json);
    checkReplicationEvents(events);
    await this.replica.receive(fromNode, events as ReplicationEvent[]);
    return true;
  }

  @MessagePattern('get_room_states')
  getRoomStates(@Payload() params: unknown): PeerResult<'get_room_states'> {
    const [cursor] = checkParams<[string?]>('get_room_states', params, ['string?']);
    return this.roomStates.page(cursor || null);
  }

  @MessagePattern('get_messages')
  getMessages(@Payload() params: unknown): PeerResult<'get_messages'> {
    const [roomId, after, before, limit] = checkParams<[string, number, number | null, number]>('get_messages', params, ['string', 'int', 'int?', 'int']);
    try {
      const backwards = before !== null && before !== undefined;
      const page = this.host.page(roomId, backwards ? { before, limit: clamp(limit) } : { after, limit: clamp(limit) });
      const messages = withinBudget(page.messages.map(toMessageWire), messageWireBytes, { fromEnd: backwards });
      return { success: true, messages, first_sequence: page.firstSequence, last_sequence: page.lastSequence };
    } catch (e) {
      return { success: false, messages: [], first_sequence: 0, last_sequence: 0, error_code: this.refusal(e).code };
    }
  }

  @MessagePattern('request_sync')
  requestSync(@Payload() params: unknown): boolean {
    const [fromNode] = checkParams<[string]>('request_sync', params, ['string']);
    void this.replica.syncFrom(fromNode);
    return true;
  }

  @MessagePattern('delete_room')
  async deleteRoom(@Payload() params: unknown): Promise<PeerResult<'delete_room'>> {
    const [roomId, username, nodeId] = checkParams<[string, string, string]>('delete_room', params, ['string', 'string', 'string']);
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

  @MessagePattern('is_username_held')
  isUsernameHeld(@Payload() params: unknown): PeerResult<'is_username_held'> {
    const [username] = checkParams<[string]>('is_username_held', params, ['string']);
    return this.names.isHeldHere(username);
  }

  private validate(method: string, roomId: string, username: string): void {
    if (!roomId || !username) throw new ChatError('INVALID_REQUEST', `${method}: Missing room_id or username`);
    if (codePoints(username) > LIMITS.username) {
      throw new ChatError('INVALID_REQUEST', `${method}: username must be at most ${LIMITS.username} characters`);
    }
  }

  private refusal(e: unknown): ChatError {
    if (e instanceof ChatError) return e;
    this.logger.error(`Peer request failed: ${(e as Error)?.stack ?? e}`);
    return new ChatError('INTERNAL_ERROR', (e as Error)?.message ?? 'Internal error');
  }
}

const clamp = (limit: number) => Math.max(1, Math.min(limit, 1000));
