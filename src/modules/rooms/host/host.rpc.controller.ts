import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { ForwardItem, PeerResult } from '../../../common/protocol/peer-wire';
import { parseJsonArray, peerParams } from '../../peers/rpc-params';
import { HostPeerRequests } from './host-peer-requests.service';
import { PrivateRoomPeerRequests } from './private-room-peer-requests.service';
import { ModerationPeerRequests } from './moderation-peer-requests.service';
import { RoomStatePages } from './room-state-pages';

/**
 * The peer methods a room's host serves: joins, leaves, forwarded messages, edits and deletions
 * of messages, read markers, invitations and moderation, history pages,
 * deletions it coordinates, and its rooms for discovery and catch-up. Each handler checks its
 * params (PEER_PARAM_KINDS), calls one service method and returns its result.
 */
@Controller()
export class HostRpcController {
  constructor(
    private readonly requests: HostPeerRequests,
    private readonly roomStates: RoomStatePages,
    private readonly privateRooms: PrivateRoomPeerRequests,
    private readonly moderation: ModerationPeerRequests,
  ) {}

  @MessagePattern('get_hosted_rooms')
  getHostedRooms(@Payload() params: unknown): PeerResult<'get_hosted_rooms'> {
    peerParams('get_hosted_rooms', params);
    return this.requests.hostedRooms();
  }

  @MessagePattern('join_room')
  async joinRoom(@Payload() params: unknown): Promise<PeerResult<'join_room'>> {
    const [roomId, username, nodeId, bootId] = peerParams('join_room', params);
    return this.requests.join(roomId, username, nodeId, bootId ?? null);
  }

  @MessagePattern('leave_room')
  leaveRoom(@Payload() params: unknown): Promise<PeerResult<'leave_room'>> {
    const [roomId, username, nodeId] = peerParams('leave_room', params);
    return this.requests.leave(roomId, username, nodeId);
  }

  @MessagePattern('notify_member_disconnect')
  notifyMemberDisconnect(@Payload() params: unknown): Promise<PeerResult<'notify_member_disconnect'>> {
    const [roomId, username, memberNode, reason] = peerParams('notify_member_disconnect', params);
    return this.requests.memberDisconnected(roomId, username, memberNode, reason ?? null);
  }

  @MessagePattern('forward_message')
  async forwardMessage(@Payload() params: unknown): Promise<PeerResult<'forward_message'>> {
    // content is checked like a client's (INVALID_CONTENT in the result), not faulted
    const [roomId, username, content, , clientMessageId] = peerParams('forward_message', params);
    return (await this.requests.sequenceAll([{ room_id: roomId, username, content, client_message_id: clientMessageId ?? null }]))[0];
  }

  /** Several forwards from one node in one call, sequenced in the order given. */
  @MessagePattern('forward_messages')
  forwardMessages(@Payload() params: unknown): Promise<PeerResult<'forward_messages'>> {
    const [, items] = peerParams('forward_messages', params);
    return this.requests.sequenceAll(items);
  }

  @MessagePattern('forward_messages_json')
  async forwardMessagesJson(@Payload() params: unknown): Promise<PeerResult<'forward_messages_json'>> {
    const [, json] = peerParams('forward_messages_json', params);
    return JSON.stringify(await this.requests.sequenceAll(parseJsonArray('forward_messages_json', 'items_json', json) as ForwardItem[]));
  }

  @MessagePattern('get_room_states')
  getRoomStates(@Payload() params: unknown): PeerResult<'get_room_states'> {
    const [cursor] = peerParams('get_room_states', params);
    return this.roomStates.page(cursor || null);
  }

  @MessagePattern('get_messages')
  getMessages(@Payload() params: unknown): PeerResult<'get_messages'> {
    const [roomId, after, before, limit] = peerParams('get_messages', params);
    return this.requests.messages(roomId, after, before, limit);
  }

  @MessagePattern('edit_message')
  editMessage(@Payload() params: unknown): Promise<PeerResult<'edit_message'>> {
    const [roomId, messageId, username, content] = peerParams('edit_message', params);
    return this.requests.editMessage(roomId, messageId, username, content);
  }

  @MessagePattern('delete_message')
  deleteMessage(@Payload() params: unknown): Promise<PeerResult<'delete_message'>> {
    const [roomId, messageId, username] = peerParams('delete_message', params);
    return this.requests.deleteMessage(roomId, messageId, username);
  }

  @MessagePattern('mark_read')
  markRead(@Payload() params: unknown): Promise<PeerResult<'mark_read'>> {
    const [roomId, username, sequence] = peerParams('mark_read', params);
    return this.requests.markRead(roomId, username, sequence);
  }

  @MessagePattern('delete_room')
  async deleteRoom(@Payload() params: unknown): Promise<PeerResult<'delete_room'>> {
    const [roomId, username, nodeId] = peerParams('delete_room', params);
    return this.requests.deleteRoom(roomId, username, nodeId);
  }

  @MessagePattern('invite_user')
  inviteUser(@Payload() params: unknown): Promise<PeerResult<'invite_user'>> {
    const [roomId, username, member] = peerParams('invite_user', params);
    return this.privateRooms.invite(roomId, username, member);
  }

  @MessagePattern('moderate_member')
  moderateMember(@Payload() params: unknown): Promise<PeerResult<'moderate_member'>> {
    const [roomId, username, action, member, , reason, seconds] = peerParams('moderate_member', params);
    return this.moderation.moderate(roomId, username, action, member, reason ?? null, seconds ?? null);
  }

  @MessagePattern('open_direct')
  openDirect(@Payload() params: unknown): Promise<PeerResult<'open_direct'>> {
    const [username, other] = peerParams('open_direct', params);
    return this.privateRooms.openDirect(username, other);
  }
}
