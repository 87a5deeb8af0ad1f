// Wire shapes of the client WebSocket protocol (docs/protocol.md, reference-protocol.md §1).
// Type-only module: no runtime code, no DOM.

export interface Frame {
  type: string;
  data?: Record<string, unknown>;
}

export interface RoomSummary {
  room_id: string;
  room_name: string;
  description: string | null;
  member_count: number;
  admin_node: string;
  creator_id: string;
  node_address?: string;
}

export interface GlobalRoomsList {
  rooms: RoomSummary[];
  total_count?: number;
  nodes_queried?: string[];
  nodes_available?: string[];
  nodes_unavailable?: string[];
}

export interface ChatMessage {
  message_id: string;
  room_id: string;
  username: string;
  content: string;
  sequence_number: number;
  timestamp: string;
}

export interface JoinRoomSuccess {
  room_id: string;
  room_name: string;
  description: string | null;
  members: string[];
  member_count: number;
  admin_node: string;
  creator_id?: string;
  first_sequence?: number;
  last_sequence?: number;
}

export interface RoomCreated {
  room_id: string;
  room_name: string;
  admin_node: string;
  members: string[];
  created_at: string;
}

export interface HistoryReply {
  room_id: string;
  messages: ChatMessage[];
  has_more: boolean;
  first_sequence: number;
  last_sequence: number;
}

export interface MessageSent {
  room_id: string;
  message_id: string;
  sequence_number: number;
  timestamp: string;
  client_message_id?: string;
  duplicate?: boolean;
}

export interface MemberEvent {
  room_id: string;
  username: string;
  member_count: number;
  timestamp: string;
  reason?: string;
}

/** Maximum message length in Unicode code points (server rule). */
export const MAX_CONTENT = 5000;
/** Maximum username length in code points (server rule). */
export const MAX_USERNAME = 64;
export const MAX_ROOM_NAME = 100;
export const MAX_DESCRIPTION = 1000;
