import { UseFilters } from '@nestjs/common';
import { ConnectedSocket, MessageBody, OnGatewayConnection, OnGatewayDisconnect, WebSocketGateway } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { clientAddress } from '../../../common/ws/connections-per-ip';
import { upgradeIdentityOf } from '../../../common/ws/client-identity';
import type { ClientConnection } from '../../members/client-connection';
import { ClientRegistry } from '../../members/client-registry';
import { ChatExceptionFilter } from './chat-exception.filter';
import { RoomRequestsService } from './room-requests.service';
import { ClientRequest } from './client-request.decorator';
import { CreateRoomRequest, DeleteMessageRequest, DeleteRoomRequest, EditMessageRequest, GetHistoryRequest, InviteUserRequest, JoinRoomRequest, LeaveRoomRequest, MarkReadRequest, ModerationTargetRequest, MuteMemberRequest, NoParams, RemoveMemberRequest, OpenDirectRequest, SearchMessagesRequest, SendMessageRequest, TypingRequest } from './dto/requests';
import { MessageChangeRequests } from './message-change-requests.service';
import { MessageSearch } from './message-search.service';
import { ReadMarkerRequests } from './read-marker-requests.service';
import { PrivateRoomRequests } from './private-room-requests.service';
import { ModerationRequests } from './moderation-requests.service';
import { TypingNotices } from '../typing/typing-notices.service';

/** The client WebSocket protocol (ClientRequestMap): each handler validates, calls one service method. */
@WebSocketGateway()
@UseFilters(ChatExceptionFilter)
export class RoomsGateway implements OnGatewayConnection, OnGatewayDisconnect {
  private readonly connections = new WeakMap<WebSocket, ClientConnection>();

  constructor(
    private readonly clients: ClientRegistry,
    private readonly requests: RoomRequestsService,
    private readonly changes: MessageChangeRequests,
    private readonly typing: TypingNotices,
    private readonly readMarkers: ReadMarkerRequests,
    private readonly search: MessageSearch,
    private readonly privateRooms: PrivateRoomRequests,
    private readonly moderation: ModerationRequests,
  ) {}

  handleConnection(socket: WebSocket, request?: IncomingMessage): void {
    this.connections.set(socket, this.clients.connect(socket, upgradeIdentityOf(socket), clientAddress(request)));
  }

  async handleDisconnect(socket: WebSocket): Promise<void> {
    const conn = this.connections.get(socket);
    if (conn) await this.requests.disconnect(conn);
  }

  private conn(socket: WebSocket): ClientConnection {
    return this.connections.get(socket) ?? this.clients.connect(socket);
  }

  @ClientRequest('list_rooms')
  listRooms(@ConnectedSocket() socket: WebSocket, @MessageBody() _: NoParams): void {
    this.requests.listRooms(this.conn(socket));
  }

  @ClientRequest('discover_rooms')
  discoverRooms(@ConnectedSocket() socket: WebSocket, @MessageBody() _: NoParams): Promise<void> {
    return this.requests.discoverRooms(this.conn(socket));
  }

  @ClientRequest('create_room')
  createRoom(@ConnectedSocket() socket: WebSocket, @MessageBody() req: CreateRoomRequest): Promise<void> {
    return this.requests.createRoom(this.conn(socket), req);
  }

  @ClientRequest('join_room')
  joinRoom(@ConnectedSocket() socket: WebSocket, @MessageBody() req: JoinRoomRequest): Promise<void> {
    return this.requests.joinRoom(this.conn(socket), req);
  }

  @ClientRequest('send_message')
  sendMessage(@ConnectedSocket() socket: WebSocket, @MessageBody() req: SendMessageRequest): Promise<void> {
    return this.requests.sendMessage(this.conn(socket), req);
  }

  @ClientRequest('leave_room')
  leaveRoom(@ConnectedSocket() socket: WebSocket, @MessageBody() req: LeaveRoomRequest): Promise<void> {
    return this.requests.leaveRoom(this.conn(socket), req);
  }

  @ClientRequest('delete_room')
  deleteRoom(@ConnectedSocket() socket: WebSocket, @MessageBody() req: DeleteRoomRequest): Promise<void> {
    return this.requests.deleteRoom(this.conn(socket), req);
  }

  @ClientRequest('get_history')
  getHistory(@ConnectedSocket() socket: WebSocket, @MessageBody() req: GetHistoryRequest): Promise<void> {
    return this.requests.getHistory(this.conn(socket), req);
  }

  @ClientRequest('edit_message')
  editMessage(@ConnectedSocket() socket: WebSocket, @MessageBody() req: EditMessageRequest): Promise<void> {
    return this.changes.editMessage(this.conn(socket), req);
  }

  @ClientRequest('delete_message')
  deleteMessage(@ConnectedSocket() socket: WebSocket, @MessageBody() req: DeleteMessageRequest): Promise<void> {
    return this.changes.deleteMessage(this.conn(socket), req);
  }

  @ClientRequest('typing')
  typingNotice(@ConnectedSocket() socket: WebSocket, @MessageBody() req: TypingRequest): void {
    this.typing.fromClient(this.conn(socket), req.room_id, req.username);
  }

  @ClientRequest('mark_read')
  markRead(@ConnectedSocket() socket: WebSocket, @MessageBody() req: MarkReadRequest): Promise<void> {
    return this.readMarkers.markRead(this.conn(socket), req);
  }

  @ClientRequest('invite_user')
  inviteUser(@ConnectedSocket() socket: WebSocket, @MessageBody() req: InviteUserRequest): Promise<void> {
    return this.privateRooms.invite(this.conn(socket), req);
  }

  @ClientRequest('open_direct')
  openDirect(@ConnectedSocket() socket: WebSocket, @MessageBody() req: OpenDirectRequest): Promise<void> {
    return this.privateRooms.openDirect(this.conn(socket), req);
  }

  @ClientRequest('search_messages')
  searchMessages(@ConnectedSocket() socket: WebSocket, @MessageBody() req: SearchMessagesRequest): Promise<void> {
    return this.search.searchMessages(this.conn(socket), req);
  }

  @ClientRequest('add_moderator')
  addModerator(@ConnectedSocket() socket: WebSocket, @MessageBody() req: ModerationTargetRequest): Promise<void> {
    return this.moderation.moderate(this.conn(socket), 'add_moderator', req);
  }

  @ClientRequest('kick_member')
  kickMember(@ConnectedSocket() socket: WebSocket, @MessageBody() req: RemoveMemberRequest): Promise<void> {
    return this.moderation.moderate(this.conn(socket), 'kick_member', req);
  }

  @ClientRequest('ban_member')
  banMember(@ConnectedSocket() socket: WebSocket, @MessageBody() req: RemoveMemberRequest): Promise<void> {
    return this.moderation.moderate(this.conn(socket), 'ban_member', req);
  }

  @ClientRequest('unban_member')
  unbanMember(@ConnectedSocket() socket: WebSocket, @MessageBody() req: ModerationTargetRequest): Promise<void> {
    return this.moderation.moderate(this.conn(socket), 'unban_member', req);
  }

  @ClientRequest('mute_member')
  muteMember(@ConnectedSocket() socket: WebSocket, @MessageBody() req: MuteMemberRequest): Promise<void> {
    return this.moderation.moderate(this.conn(socket), 'mute_member', req);
  }
}
