/**
 * The client wire format: payload shapes (snake_case, exactly as the reference sends them) and
 * the maps of frame types to payloads, both ways. Everything sent to a client goes through
 * ClientConnection.send, which is typed by ServerEventMap; what a client may send is ClientRequestMap.
 */
export interface RoomSummary {
  room_id: string;
  room_name: string;
  description: string | null;
  member_count: number;
  admin_node: string;
  creator_id: string;
  node_address?: string;
  /** Only on private rooms (listed only to their creator and invited users); `direct`: an open_direct conversation. */
  private?: true;
  direct?: true;
  /** For a room the asking connection's user is a member of: their read marker and what is after it. */
  last_read?: number;
  unread_count?: number;
}

/** How far a user has read a room (list_rooms, discover_rooms, join_room_success, mark_read_success). */
export interface ReadStateWire {
  /** The highest sequence number the user marked read; 0 before the first mark_read. */
  last_read: number;
  /** Messages after last_read, deleted ones not counted. */
  unread_count: number;
}

/**
 * Who moderates a room, in join_room_success (not in the reference): its moderators (the creator is
 * creator_id), and the names banned from it, only to the creator and moderators (they may unban).
 */
export interface RoomRolesWire {
  moderators: string[];
  banned?: string[];
  /** The room's latest moderation notices (at most 100), oldest first: each the live event's data, its name as `type`. */
  moderation_log: ({ type: 'moderator_added' | 'member_kicked' | 'member_banned' | 'member_unbanned' | 'member_muted' } & ModerationEvent)[];
}

/** One message found by search_messages: as it is now (latest text), with the matched words marked. */
export interface SearchResult {
  sequence_number: number;
  message_id: string;
  username: string;
  content: string;
  timestamp: string;
  edited_at?: string;
  /** The text around the match, matched terms between « and », "…" where cut. */
  snippet: string;
}

export interface RoomInfo {
  room_id: string;
  room_name: string;
  description: string | null;
  members: string[];
  member_count: number;
  admin_node: string;
}

export interface ChatMessage {
  message_id: string;
  room_id: string;
  username: string;
  content: string;
  sequence_number: number;
  timestamp: string;
  /** Set once its author edited it: `content` is the latest text. */
  edited_at?: string;
  /** A tombstone: the message was deleted; `content` is empty, the sequence number stays taken. */
  deleted?: true;
  deleted_at?: string;
}

/** A message's text changed (message_edited): every member of the room, the editor included. */
export interface MessageEdited {
  room_id: string;
  message_id: string;
  sequence_number: number;
  /** The author. */
  username: string;
  content: string;
  edited_at: string;
}

/** A message became a tombstone (message_deleted): every member of the room, the deleter included. */
export interface MessageDeleted {
  room_id: string;
  message_id: string;
  sequence_number: number;
  /** The author. */
  username: string;
  /** Who deleted it: the author, or the room's creator. */
  deleted_by: string;
  deleted_at: string;
}

export interface MemberEvent {
  room_id: string;
  username: string;
  member_count: number;
  timestamp: string;
  reason?: string;
}

/**
 * A moderation action in a room (moderator_added, member_kicked, member_banned, member_unbanned,
 * member_muted): told to every member of the room, the member acted on included.
 */
export interface ModerationEvent {
  room_id: string;
  /** The member acted on. */
  member: string;
  /** Who did it: the room's creator or a moderator. */
  by: string;
  reason?: string;
  /** member_muted: when the member may send again (the room's host's clock). */
  muted_until?: string;
  /** After a kick or a ban: the members left. */
  member_count?: number;
  timestamp: string;
}

export type MemberLeftReason = 'User disconnected' | 'Node unreachable' | 'Inactivity';

interface Failure {
  success: false;
  message: string;
  error_code?: string;
  /** With RATE_LIMITED: when the request would be admitted. */
  retry_after_ms?: number;
}
interface RoomError {
  room_id: string;
  error: string;
  error_code: string;
  /** With RATE_LIMITED: when the request would be admitted. */
  retry_after_ms?: number;
}

export interface ServerEventMap {
  error: Failure;
  rooms_list: { rooms: RoomSummary[]; total_count: number };
  global_rooms_list: {
    rooms: RoomSummary[];
    total_count: number;
    nodes_queried: string[];
    nodes_available: string[];
    nodes_unavailable: string[];
  };
  room_created:
    | { room_id: string; room_name: string; admin_node: string; members: string[]; created_at: string }
    | Failure;
  join_room_success: RoomInfo & ReadStateWire & RoomRolesWire & Pick<RoomSummary, 'private' | 'direct'> & { creator_id: string; first_sequence: number; last_sequence: number };
  join_room_error: RoomError;
  new_message: ChatMessage;
  message_sent: {
    room_id: string;
    message_id: string;
    sequence_number: number;
    timestamp: string;
    client_message_id?: string;
    duplicate?: boolean;
  };
  message_error: RoomError;
  leave_room_success: { room_id: string; username: string };
  member_joined: MemberEvent;
  member_left: MemberEvent;
  history: {
    room_id: string;
    messages: ChatMessage[];
    has_more: boolean;
    first_sequence: number;
    last_sequence: number;
  };
  history_error: RoomError;
  delete_room_initiated: { room_id: string; status: 'in_progress'; transaction_id?: string; initiator?: string };
  delete_room_success: { room_id: string; transaction_id: string; message: string };
  delete_room_failed: { room_id: string; reason: string; error_code: string; transaction_id?: string };
  room_deleted: { room_id: string; room_name: string; message: string; transaction_id?: string };
  delete_room_cancelled: { room_id: string; transaction_id: string };
  room_unavailable: { room_id: string; admin_node: string; reason: string };
  room_available: { room_id: string; admin_node: string };
  message_edited: MessageEdited;
  message_deleted: MessageDeleted;
  /** The requester's answer, after its own message_edited / message_deleted. */
  edit_message_success: { room_id: string; message_id: string; sequence_number: number; edited_at: string };
  delete_message_success: { room_id: string; message_id: string; sequence_number: number; deleted_at: string };
  /** Ephemeral, never stored: `username` is typing in the room; forget it after `expires_in_ms` unless another comes. */
  user_typing: { room_id: string; username: string; expires_in_ms: number };
  /** `username`'s read marker in the room moved to `sequence_number`: every connection of that user in the room. */
  read_marker: { room_id: string; username: string; sequence_number: number };
  /** The requester's answer to mark_read (after its own read_marker, when the marker moved). */
  mark_read_success: ReadStateWire & { room_id: string; username: string; sequence_number: number };
  /** Matches newest first; page on with before_sequence = next_before_sequence (null: no more). */
  search_results: { room_id: string; query: string; results: SearchResult[]; next_before_sequence: number | null };
  /** `invited_by` invited this connection's user to a private room: it is now listed to them and they may join it. */
  room_invitation: { room_id: string; room_name: string; invited_by: string };
  /** The requester's answer to invite_user, once the invitation is applied on its node. */
  invite_user_success: { room_id: string; member: string };
  moderator_added: ModerationEvent;
  member_kicked: ModerationEvent;
  member_banned: ModerationEvent;
  member_unbanned: ModerationEvent;
  member_muted: ModerationEvent;
  /** The requester's answers to the moderation requests, once the action is applied on its node. */
  add_moderator_success: ModerationSuccess;
  kick_member_success: ModerationSuccess;
  ban_member_success: ModerationSuccess;
  unban_member_success: ModerationSuccess;
  mute_member_success: ModerationSuccess;
  /** The room moved to another host (failover): members keep chatting; admin_node serves it from now on. */
  room_host_changed: { room_id: string; admin_node: string; host_epoch: number };
}

export interface ModerationSuccess {
  room_id: string;
  member: string;
  /** mute_member: when the mute ends. */
  muted_until?: string;
}

export type ServerEventType = keyof ServerEventMap;

/** list_rooms and discover_rooms take no parameters; whatever `data` holds is ignored. */
export type NoRequestData = Record<never, never>;

/**
 * The client-to-server requests: frame type -> `data` payload, as docs/protocol.md lists them. The
 * gateway's handlers (one per type, `@ClientRequest(type)`), the validation DTOs (each implements its
 * entry; REQUEST_DTOS maps every type to one) and the web client's request frames all come from it.
 */
export interface ClientRequestMap {
  list_rooms: NoRequestData;
  discover_rooms: NoRequestData;
  create_room: { room_name: string; creator_id: string; description?: string | null; private?: boolean };
  join_room: {
    room_id: string;
    username: string;
    /** Resume after a reconnect: replay from this sequence on. */
    since_sequence?: number;
    /** Replay only the last N messages instead of the room from its start. */
    history_limit?: number;
  };
  send_message: { room_id: string; username: string; content: string; client_message_id?: string };
  leave_room: { room_id: string; username: string };
  delete_room: { room_id: string; username: string };
  get_history: { room_id: string; before_sequence?: number; after_sequence?: number; limit?: number };
  edit_message: { room_id: string; username: string; message_id: string; content: string };
  delete_message: { room_id: string; username: string; message_id: string };
  typing: { room_id: string; username: string };
  mark_read: { room_id: string; username: string; sequence_number: number };
  search_messages: { room_id: string; username: string; query: string; limit?: number; before_sequence?: number };
  /** A member of a private room lets `member` see and join it. */
  invite_user: { room_id: string; username: string; member: string };
  /** The direct conversation of `username` and `with` (one room per pair, created on first use), joined. */
  open_direct: { username: string; with: string; history_limit?: number };
  /** Moderation (docs/protocol.md, "Moderation"): the creator appoints moderators; they and the creator act on members. */
  add_moderator: { room_id: string; username: string; member: string };
  kick_member: { room_id: string; username: string; member: string; reason?: string };
  ban_member: { room_id: string; username: string; member: string; reason?: string };
  unban_member: { room_id: string; username: string; member: string };
  mute_member: { room_id: string; username: string; member: string; seconds: number };
}

export type ClientRequestType = keyof ClientRequestMap;
export type ClientRequestData<K extends ClientRequestType> = ClientRequestMap[K];

/** One request frame of each type; `data` may be left out where the type takes none. */
export type ClientRequestFrame = {
  [K in ClientRequestType]: NoRequestData extends ClientRequestMap[K] ? { type: K; data?: ClientRequestMap[K] } : { type: K; data: ClientRequestMap[K] };
}[ClientRequestType];

/** Every request type once (a record, so the compiler fails when a type of the map is missing here). */
const REQUEST_TYPE_SET: Record<ClientRequestType, true> = {
  list_rooms: true,
  discover_rooms: true,
  create_room: true,
  join_room: true,
  send_message: true,
  leave_room: true,
  delete_room: true,
  get_history: true,
  edit_message: true,
  delete_message: true,
  typing: true,
  mark_read: true,
  search_messages: true,
  invite_user: true,
  open_direct: true,
  add_moderator: true,
  kick_member: true,
  ban_member: true,
  unban_member: true,
  mute_member: true,
};
export const CLIENT_REQUEST_TYPES = Object.keys(REQUEST_TYPE_SET) as readonly ClientRequestType[];
