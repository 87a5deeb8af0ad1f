// Wire shapes of the client WebSocket protocol (docs/protocol.md, reference-protocol.md §1).
// The payload types are the server's own (src/common/protocol/client-wire.ts), so the two cannot drift.
// Type-only imports, except the name rules: the page refuses and normalises names exactly as the node does.
import type { RoomSummary, ServerEventMap } from '../../src/common/protocol/client-wire';
export { nameProblem, normalizeName } from '../../src/common/protocol/chat-names';

export type { ChatMessage, MemberEvent, RoomSummary } from '../../src/common/protocol/client-wire';
export type JoinRoomSuccess = ServerEventMap['join_room_success'];
export type RoomCreated = Exclude<ServerEventMap['room_created'], { success: false }>;
export type HistoryReply = ServerEventMap['history'];
export type MessageSent = ServerEventMap['message_sent'];

export interface Frame {
  type: string;
  data?: Record<string, unknown>;
}

export interface GlobalRoomsList {
  rooms: RoomSummary[];
  total_count?: number;
  nodes_queried?: string[];
  nodes_available?: string[];
  nodes_unavailable?: string[];
}

/** Maximum message length in Unicode code points (server rule). */
export const MAX_CONTENT = 5000;
/** Maximum username length in code points (server rule). */
export const MAX_USERNAME = 64;
export const MAX_ROOM_NAME = 100;
export const MAX_DESCRIPTION = 1000;
