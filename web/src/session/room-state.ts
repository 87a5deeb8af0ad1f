// What the client knows about one room it is in: members, status, ordered messages, unsent messages.

import { SequenceBuffer } from '../sequence-buffer';
import type { ChatMessage } from '../protocol';

export type RoomStatus = 'joining' | 'joined' | 'unavailable' | 'removed' | 'deleted' | 'left';

export interface OutgoingMessage {
  clientId: string;
  content: string;
  state: 'sending' | 'failed';
  error?: string;
  /** While the room's host is switching: why the message is still waiting (shown instead of "sending…"). */
  note?: string;
  /** Time spent waiting between retryable refusals, so a room that never comes back ends in "failed". */
  retryWaitedMs?: number;
}

export interface RoomState {
  id: string;
  name: string;
  description: string | null;
  adminNode: string;
  /** The host's epoch as last announced (join reply or room_host_changed); 0 = not known yet. */
  hostEpoch: number;
  creatorId: string | null;
  members: Set<string>;
  /** The room's moderators (the join reply's list, then moderator_added events). */
  moderators: Set<string>;
  /** Names banned from the room, known only while we moderate it (the join reply's list, then member_banned / member_unbanned). */
  banned: Set<string>;
  /** A private room (invitations only); `direct`: a direct conversation (nobody can be invited). From the join reply. */
  private: boolean;
  direct: boolean;
  status: RoomStatus;
  /** Set while a two-phase-commit deletion is running. */
  deleting: boolean;
  buffer: SequenceBuffer<ChatMessage>;
  /** Lowest sequence number shown (for loading older history), null if nothing shown. */
  oldestShown: number | null;
  firstSequence: number;
  hasOlder: boolean;
  loadingOlder: boolean;
  outbox: Map<string, OutgoingMessage>;
  notice: string | null;
  /** Members shown as typing right now (each expires on its own: MessageChanges). */
  typing: Set<string>;
}

/** What the room list already says about a room before we join it. */
export interface RoomHint {
  name?: string;
  description?: string | null;
  adminNode?: string;
  creatorId?: string;
}

export function newRoomState(roomId: string, hint?: RoomHint): RoomState {
  return {
    id: roomId,
    name: hint?.name ?? roomId,
    description: hint?.description ?? null,
    adminNode: hint?.adminNode ?? '',
    hostEpoch: 0,
    creatorId: hint?.creatorId ?? null,
    members: new Set(),
    moderators: new Set(),
    banned: new Set(),
    private: false,
    direct: false,
    status: 'joining',
    deleting: false,
    buffer: new SequenceBuffer<ChatMessage>(null),
    oldestShown: null,
    firstSequence: 1,
    hasOlder: false,
    loadingOlder: false,
    outbox: new Map(),
    notice: null,
    typing: new Set(),
  };
}
