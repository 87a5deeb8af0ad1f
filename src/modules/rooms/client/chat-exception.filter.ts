import { ArgumentsHost, Catch, ExceptionFilter, Injectable, Logger } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { ChatError } from '../../../common/errors/chat-error';
import { ClientErrorFrames } from '../../../common/metrics/client-error-frames';

/**
 * Turns a refused request into the error frame of its request type (reference-protocol.md §1.4):
 * join_room_error, message_error, delete_room_failed, the room_created error form, history_error,
 * or the generic `error` (for the moderation requests as for invite_user with `request`, `room_id`, `member`; for edit_message and delete_message with `request`, `room_id`, `message_id`;
 * for mark_read and search_messages with `request`, `room_id`). Anything unexpected becomes INTERNAL_ERROR; the connection stays up.
 */
@Catch()
@Injectable()
export class ChatExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ChatRequests');

  constructor(private readonly errors: ClientErrorFrames) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ws = host.switchToWs();
    const socket = ws.getClient<WebSocket>();
    const type = ws.getPattern();
    const data = ws.getData<Record<string, unknown> | null>();
    const error =
      exception instanceof ChatError ? exception : new ChatError('INTERNAL_ERROR', 'Internal server error');
    if (!(exception instanceof ChatError)) this.logger.error(`${type} failed: ${(exception as Error)?.stack ?? exception}`);
    const text = this.errors.serialise(type, error.code, error.message, errorFrame(type, error, data));
    if (socket.readyState === socket.OPEN) socket.send(text);
  }
}

function errorFrame(type: string, error: ChatError, data: Record<string, unknown> | null) {
  const roomId = typeof data?.room_id === 'string' ? data.room_id : '';
  switch (type) {
    case 'create_room': // the reference's error form, no extra keys (decisions.md §1); the sentence carries any retry hint
      return { type: 'room_created', data: { success: false, message: error.message } };
    case 'join_room':
      return { type: 'join_room_error', data: { room_id: roomId, error: error.message, error_code: error.code, ...error.details } };
    case 'send_message':
      return { type: 'message_error', data: { room_id: roomId, error: error.message, error_code: error.code, ...error.details } };
    case 'get_history':
      return { type: 'history_error', data: { room_id: roomId, error: error.message, error_code: error.code, ...error.details } };
    case 'edit_message':
    case 'delete_message': // the generic error frame, naming the request and the message it was about
      return { type: 'error', data: { success: false, message: error.message, error_code: error.code, request: type, room_id: roomId, message_id: typeof data?.message_id === 'string' ? data.message_id : '', ...error.details } };
    case 'mark_read':
    case 'search_messages': // the generic error frame, naming the request and its room
      return { type: 'error', data: { success: false, message: error.message, error_code: error.code, request: type, room_id: roomId, ...error.details } };
    case 'invite_user': // the generic error frame, naming the request, its room and the invitee (or the member acted on)
    case 'add_moderator':
    case 'kick_member':
    case 'ban_member':
    case 'unban_member':
    case 'mute_member':
      return { type: 'error', data: { success: false, message: error.message, error_code: error.code, request: type, room_id: roomId, member: typeof data?.member === 'string' ? data.member : '', ...error.details } };
    case 'open_direct': // the generic error frame, naming the request and the other user
      return { type: 'error', data: { success: false, message: error.message, error_code: error.code, request: type, with: typeof data?.with === 'string' ? data.with : '', ...error.details } };
    case 'delete_room':
      return { type: 'delete_room_failed', data: { room_id: roomId, reason: error.message, error_code: error.code, ...error.details } };
    default:
      return { type: 'error', data: { success: false, message: error.message, error_code: error.code, ...error.details } };
  }
}
