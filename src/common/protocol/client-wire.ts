/**
 * The client wire format: payload shapes (snake_case, exactly as the reference sends them) and
 * the map of server-to-client frame types to payloads. Everything sent to a client goes through
 * ClientConnection.send, which is typed by ServerEventMap.
 */
export interface RoomSummary {
  room_id: string;
  room_name: string;
  description: string | null;
  member_count: number;
  admin_node: string;
  creator_id: string;
  node_address?: string;
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
}

export interface MemberEvent {
  room_id: string;
  username: string;
  member_count: number;
  timestamp: string;
  reason?: string;
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
  join_room_success: RoomInfo & { creator_id: string; first_sequence: number; last_sequence: number };
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
  /** The room moved to another host (failover): members keep chatting; admin_node serves it from now on. */
  room_host_changed: { room_id: string; admin_node: string; host_epoch: number };
}

export type ServerEventType = keyof ServerEventMap;

/** The request types a client may send. */
export const CLIENT_REQUEST_TYPES = [
  'list_rooms',
  'discover_rooms',
  'create_room',
  'join_room',
  'send_message',
  'leave_room',
  'delete_room',
  'get_history',
] as const;
export type ClientRequestType = (typeof CLIENT_REQUEST_TYPES)[number];
