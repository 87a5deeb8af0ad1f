// What a session tells its UI: one event per change worth rendering.

import type { ChatMessage, GlobalRoomsList } from '../protocol';
import type { MessageChange } from './message-changes';
import type { RoomState } from './room-state';

export type ConnStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

export type Level = 'info' | 'success' | 'error';

export type SessionEvent =
  | { kind: 'status'; status: ConnStatus; node: string; delayMs?: number }
  | { kind: 'rooms'; list: GlobalRoomsList }
  | { kind: 'room'; room: RoomState }
  | { kind: 'messages'; room: RoomState; messages: ChatMessage[] }
  | { kind: 'older'; room: RoomState; messages: ChatMessage[] }
  /** A message shown was edited or deleted: redraw it as it is now. */
  | { kind: 'changed'; room: RoomState; change: MessageChange }
  /**
   * Our read marker in the room (from a join reply, with how many messages up to `upTo` are
   * unread; or from read_marker, when this or another of our connections marked it).
   */
  | { kind: 'read'; room: RoomState; lastRead: number; unread?: { count: number; upTo: number } }
  /** Who is typing in the room changed (room.typing). */
  | { kind: 'typing'; room: RoomState }
  | { kind: 'member'; room: RoomState; joined: boolean; username: string; text: string; timestamp: string }
  /** A line about the room itself in its log (e.g. it moved to another host); `key`: a moderation notice's (shown once). */
  | { kind: 'system'; room: RoomState; text: string; timestamp: string; key?: string }
  /** Moderation notices from a join reply, oldest first: each goes in its place by time, unless shown already (same key). */
  | { kind: 'notices'; room: RoomState; notices: { key: string; text: string; timestamp: string }[] }
  /** `key`: a later notice with the same key replaces the earlier one (e.g. unavailable -> available). */
  | { kind: 'notice'; level: Level; text: string; roomId?: string; key?: string }
  | { kind: 'gone'; room: RoomState }
  /** The nodes the session reconnects to changed (learned from the cluster). */
  | { kind: 'nodes'; nodes: string[] };

export type StatusEvent = Extract<SessionEvent, { kind: 'status' }>;
