import { Allow, IsBoolean, IsDefined, IsInt, IsOptional, IsString, Max, Min, ValidateBy, ValidateIf, type ValidationOptions } from 'class-validator';
import type { ClientRequestData, ClientRequestMap, ClientRequestType } from '../../../../common/protocol/client-wire';
import { codePoints, contentProblem, LIMITS } from '../../../../common/protocol/text-limits';
import { IsChatName, IsChatText, IsDisplayName } from './text-rules';

/** Each rule carries the error code and sentence the client gets when it fails, as "CODE|sentence". */
const reject = (code: string, message: string): ValidationOptions => ({ message: `${code}|${message}` });
const MISSING_IDS = reject('INVALID_REQUEST', 'Missing room_id or username');
const BAD_ROOM_ID = reject('INVALID_REQUEST', `room_id must be a string of 1-${LIMITS.roomId} characters`);

const isPresent = (v: unknown) => v !== undefined && v !== null && v !== '';

/** Message content: a string of 1..5000 code points that XML 1.0 can carry (rules in contentProblem). */
function IsMessageContent(): PropertyDecorator {
  return (target, key) => {
    // one rule whose message depends on which check failed, in the reference's order
    ValidateBy(
      {
        name: 'messageContent',
        validator: {
          validate: (v) => contentProblem(v) === null,
          defaultMessage: (args) => `INVALID_CONTENT|${contentProblem(args?.value)}`,
        },
      },
    )(target, key);
  };
}

/** room_id + username, both required: the common head of most requests. */
export class RoomUserRequest {
  @IsChatName(LIMITS.roomId, BAD_ROOM_ID)
  @ValidateBy({ name: 'present', validator: { validate: isPresent } }, MISSING_IDS)
  room_id!: string;

  @IsDisplayName(LIMITS.username, 'username')
  @ValidateBy({ name: 'present', validator: { validate: isPresent } }, MISSING_IDS)
  username!: string;
}

export class CreateRoomRequest implements ClientRequestData<'create_room'> {
  @IsDisplayName(LIMITS.roomName, 'room_name')
  @ValidateBy({ name: 'present', validator: { validate: isPresent } }, reject('INVALID_REQUEST', 'Missing room_name or creator_id'))
  room_name!: string;

  @IsDisplayName(LIMITS.username, 'creator_id')
  @ValidateBy({ name: 'present', validator: { validate: isPresent } }, reject('INVALID_REQUEST', 'Missing room_name or creator_id'))
  creator_id!: string;

  @ValidateIf((o: CreateRoomRequest) => o.description !== undefined && o.description !== null)
  @IsChatText(LIMITS.description, reject('INVALID_REQUEST', `description must be text of at most ${LIMITS.description} characters`))
  description?: string | null;

  @IsOptional()
  @IsBoolean(reject('INVALID_REQUEST', 'private must be true or false'))
  private?: boolean;
}

export class JoinRoomRequest extends RoomUserRequest implements ClientRequestData<'join_room'> {
  @IsOptional()
  @Min(0, reject('INVALID_REQUEST', 'since_sequence must be a whole number >= 0'))
  @IsInt(reject('INVALID_REQUEST', 'since_sequence must be a whole number >= 0'))
  since_sequence?: number;

  /** Replay only the last N messages (our web client: 100) instead of the room from its start. */
  @IsOptional()
  @Min(0, reject('INVALID_REQUEST', 'history_limit must be a whole number >= 0'))
  @IsInt(reject('INVALID_REQUEST', 'history_limit must be a whole number >= 0'))
  history_limit?: number;
}

export class SendMessageRequest extends RoomUserRequest implements ClientRequestData<'send_message'> {
  @IsMessageContent()
  content!: string;

  @IsOptional()
  @IsChatName(LIMITS.clientMessageId, reject('INVALID_REQUEST', `client_message_id must be 1-${LIMITS.clientMessageId} characters`))
  client_message_id?: string;
}

/** The message an edit or a deletion names: its message_id. */
class MessageRequest extends RoomUserRequest {
  @IsChatName(LIMITS.messageId, reject('INVALID_REQUEST', `message_id must be a string of 1-${LIMITS.messageId} characters`))
  @ValidateBy({ name: 'present', validator: { validate: isPresent } }, reject('INVALID_REQUEST', 'Missing message_id'))
  message_id!: string;
}

/** The new text follows send_message's content rules (INVALID_CONTENT). */
export class EditMessageRequest extends MessageRequest implements ClientRequestData<'edit_message'> {
  @IsMessageContent()
  content!: string;
}

export class DeleteMessageRequest extends MessageRequest implements ClientRequestData<'delete_message'> {}
export class TypingRequest extends RoomUserRequest implements ClientRequestData<'typing'> {}

/** The highest sequence number the user has seen (a number past the room's last marks everything read). */
export class MarkReadRequest extends RoomUserRequest implements ClientRequestData<'mark_read'> {
  // a whole number a peer call can carry exactly (the host clamps it to the room's last message anyway)
  @Max(Number.MAX_SAFE_INTEGER, reject('INVALID_REQUEST', 'sequence_number must be a whole number >= 0'))
  @Min(0, reject('INVALID_REQUEST', 'sequence_number must be a whole number >= 0'))
  @IsInt(reject('INVALID_REQUEST', 'sequence_number must be a whole number >= 0'))
  @IsDefined(reject('INVALID_REQUEST', 'Missing sequence_number'))
  sequence_number!: number;
}

const BAD_QUERY = reject('INVALID_REQUEST', `query must be text of 1-${LIMITS.searchQuery} characters`);
const BAD_SEARCH_LIMIT = reject('INVALID_REQUEST', `limit must be a whole number from 1 to ${LIMITS.searchPage}`);

export class SearchMessagesRequest extends RoomUserRequest implements ClientRequestData<'search_messages'> {
  @ValidateBy({ name: 'searchQuery', validator: { validate: (v) => typeof v === 'string' && v.trim() !== '' && codePoints(v) <= LIMITS.searchQuery } }, BAD_QUERY)
  @IsString(BAD_QUERY)
  query!: string;

  @IsOptional()
  @IsInt(BAD_SEARCH_LIMIT)
  @Min(1, BAD_SEARCH_LIMIT)
  @Max(LIMITS.searchPage, BAD_SEARCH_LIMIT)
  limit?: number;

  @IsOptional()
  @IsInt(reject('INVALID_REQUEST', 'before_sequence must be a whole number >= 1'))
  @Min(1, reject('INVALID_REQUEST', 'before_sequence must be a whole number >= 1'))
  before_sequence?: number;
}

export class LeaveRoomRequest extends RoomUserRequest implements ClientRequestData<'leave_room'> {}
export class DeleteRoomRequest extends RoomUserRequest implements ClientRequestData<'delete_room'> {}

export class GetHistoryRequest implements ClientRequestData<'get_history'> {
  @IsChatName(LIMITS.roomId, BAD_ROOM_ID)
  @IsDefined(reject('INVALID_REQUEST', 'Missing room_id'))
  room_id!: string;

  @IsOptional()
  @IsInt(reject('INVALID_REQUEST', 'before_sequence must be a whole number >= 1'))
  @Min(1, reject('INVALID_REQUEST', 'before_sequence must be a whole number >= 1'))
  before_sequence?: number;

  @IsOptional()
  @IsInt(reject('INVALID_REQUEST', 'after_sequence must be a whole number >= 0'))
  @Min(0, reject('INVALID_REQUEST', 'after_sequence must be a whole number >= 0'))
  after_sequence?: number;

  @IsOptional()
  @IsInt(reject('INVALID_REQUEST', `limit must be a whole number from 1 to ${LIMITS.historyPage}`))
  @Min(1, reject('INVALID_REQUEST', `limit must be a whole number from 1 to ${LIMITS.historyPage}`))
  @Max(LIMITS.historyPage, reject('INVALID_REQUEST', `limit must be a whole number from 1 to ${LIMITS.historyPage}`))
  limit?: number;
}

/** list_rooms and discover_rooms take no parameters; whatever `data` holds is ignored. */
export class NoParams implements ClientRequestData<'list_rooms'> {
  @Allow()
  ignored?: unknown;
}

/** The moderation requests: room_id, username (the acting user) and the member acted on. */
export class ModerationTargetRequest extends RoomUserRequest {
  @IsDisplayName(LIMITS.username, 'member')
  @ValidateBy({ name: 'present', validator: { validate: isPresent } }, reject('INVALID_REQUEST', 'Missing member'))
  member!: string;
}

const BAD_REASON = reject('INVALID_REQUEST', `reason must be text of at most ${LIMITS.moderationReason} characters`);

/** kick_member and ban_member: an optional reason everyone in the room is shown. */
export class RemoveMemberRequest extends ModerationTargetRequest implements ClientRequestData<'kick_member'>, ClientRequestData<'ban_member'> {
  @ValidateIf((o: RemoveMemberRequest) => o.reason !== undefined && o.reason !== null)
  @IsChatText(LIMITS.moderationReason, BAD_REASON)
  reason?: string;
}

export class MuteMemberRequest extends ModerationTargetRequest implements ClientRequestData<'mute_member'> {
  @IsInt(reject('INVALID_REQUEST', `seconds must be a whole number from 1 to ${LIMITS.muteSeconds}`))
  @Min(1, reject('INVALID_REQUEST', `seconds must be a whole number from 1 to ${LIMITS.muteSeconds}`))
  @Max(LIMITS.muteSeconds, reject('INVALID_REQUEST', `seconds must be a whole number from 1 to ${LIMITS.muteSeconds}`))
  seconds!: number;
}

/** The DTO that validates each request type of ClientRequestMap (the compiler checks every type has one of its shape). */
export class InviteUserRequest extends RoomUserRequest implements ClientRequestData<'invite_user'> {
  @IsDisplayName(LIMITS.username, 'member')
  @ValidateBy({ name: 'present', validator: { validate: isPresent } }, reject('INVALID_REQUEST', 'Missing member'))
  member!: string;
}

export class OpenDirectRequest implements ClientRequestData<'open_direct'> {
  @IsDisplayName(LIMITS.username, 'username')
  @ValidateBy({ name: 'present', validator: { validate: isPresent } }, reject('INVALID_REQUEST', 'Missing username or with'))
  username!: string;

  @IsDisplayName(LIMITS.username, 'with')
  @ValidateBy({ name: 'present', validator: { validate: isPresent } }, reject('INVALID_REQUEST', 'Missing username or with'))
  with!: string;

  /** Replay only the last N messages instead of the room from its start. */
  @IsOptional()
  @Min(0, reject('INVALID_REQUEST', 'history_limit must be a whole number >= 0'))
  @IsInt(reject('INVALID_REQUEST', 'history_limit must be a whole number >= 0'))
  history_limit?: number;
}

export const REQUEST_DTOS: { readonly [K in ClientRequestType]: new () => ClientRequestMap[K] } = {
  list_rooms: NoParams,
  discover_rooms: NoParams,
  create_room: CreateRoomRequest,
  join_room: JoinRoomRequest,
  send_message: SendMessageRequest,
  leave_room: LeaveRoomRequest,
  delete_room: DeleteRoomRequest,
  get_history: GetHistoryRequest,
  edit_message: EditMessageRequest,
  delete_message: DeleteMessageRequest,
  typing: TypingRequest,
  mark_read: MarkReadRequest,
  search_messages: SearchMessagesRequest,
  invite_user: InviteUserRequest,
  open_direct: OpenDirectRequest,
  add_moderator: ModerationTargetRequest,
  kick_member: RemoveMemberRequest,
  ban_member: RemoveMemberRequest,
  unban_member: ModerationTargetRequest,
  mute_member: MuteMemberRequest,
};
