// Wire shapes of the client WebSocket protocol (docs/protocol.md, reference-protocol.md §1).
// The request and payload types are the server's own (src/common/protocol/client-wire.ts), and so are
// the limits and the name rules (text-limits.ts, chat-names.ts: plain functions the bundle carries), so
// the page refuses and normalises exactly as the node does.
import type { RoomSummary, ServerEventMap } from '../../src/common/protocol/client-wire';
import { LIMITS } from '../../src/common/protocol/text-limits';
export { nameProblem, normalizeName } from '../../src/common/protocol/chat-names';

export type { ChatMessage, ClientRequestFrame as RequestFrame, ClientRequestMap, MemberEvent, RoomSummary, SearchResult, ServerEventType } from '../../src/common/protocol/client-wire';
export type JoinRoomSuccess = ServerEventMap['join_room_success'];
export type RoomCreated = Exclude<ServerEventMap['room_created'], { success: false }>;
export type HistoryReply = ServerEventMap['history'];
export type MessageSent = ServerEventMap['message_sent'];

/** A frame as received from the server (checked field by field where it is used). */
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
export const MAX_CONTENT = LIMITS.content;
/** Maximum username length in code points (server rule). */
export const MAX_USERNAME = LIMITS.username;
export const MAX_ROOM_NAME = LIMITS.roomName;
export const MAX_DESCRIPTION = LIMITS.description;
