import type { ChatMessage, MemberLeftReason, RoomInfo } from '../../../common/protocol/client-wire';
import type { ForwardItem } from '../../../common/protocol/peer-wire';
import type { MessageRecord } from '../../../common/store/chat-records';
import type { MessageChange } from '../host/message-edits.service';
import type { ReadMark } from '../host/read-markers.service';
import type { DeletionOutcome } from '../host/room-deletion.coordinator';
import type { Invitation } from '../host/room-invites.service';
import type { ModerationOutcome, ModerationRequest } from '../host/room-moderation.service';

export type { DeletionOutcome, Invitation, MessageChange, ModerationOutcome, ModerationRequest, ReadMark };

/** What a join at the room's host gave back: the room as the host sees it, and where its history stands. */
export interface HostJoin {
  info: RoomInfo;
  firstSequence: number;
  lastSequence: number;
  /** The host's own join history; only used for a room this node holds no replica of. */
  hostHistory: MessageRecord[];
}

/** A message the host has sequenced (or found already sequenced under the same client_message_id). */
export interface SentMessage {
  message_id: string;
  sequence_number: number;
  timestamp: string;
  duplicate?: boolean;
}

export interface HistoryRange {
  after?: number;
  before?: number;
}

export interface HostHistoryPage {
  messages: ChatMessage[];
  hasMore: boolean;
  firstSequence: number;
  lastSequence: number;
}

/**
 * The node that serves one room, as a client request sees it: this node (LocalRoomHost) or the
 * room's host over XML-RPC (RemoteRoomHost). Refusals are ChatErrors with the protocol's codes.
 */
export interface RoomHost {
  /** The node serving the room (named in log lines). */
  readonly nodeId: string;
  /** Sends one connection may have in flight here before its next request waits; 1 means each send is answered before the next is read. */
  readonly maxSendsInFlight: number;
  join(username: string): Promise<HostJoin>;
  send(item: ForwardItem): Promise<SentMessage>;
  /** An explicit leave (no reason) or a removal the member's node decided (disconnect, inactivity). */
  leave(username: string, reason?: MemberLeftReason): Promise<void>;
  /** Edits one of `username`'s messages; resolves once the edit is committed. */
  editMessage(username: string, messageId: string, content: string): Promise<MessageChange>;
  /** Deletes a message (the author's, or any as the room's creator); resolves once the deletion is committed. */
  deleteMessage(username: string, messageId: string): Promise<MessageChange>;
  /** Moves `username`'s read marker forward to `sequence`; resolves once committed (or at once when it would not move). */
  markRead(username: string, sequence: number): Promise<ReadMark>;
  /** `username`, a member of this private room, invites `member`; resolves once committed (or at once when `member` was invited already). */
  invite(username: string, member: string): Promise<Invitation>;
  /** A moderation action by `req.username` (creator or moderator); resolves once committed (or at once when already in force). */
  moderate(req: ModerationRequest): Promise<ModerationOutcome>;
  /** Runs the deletion; `onStarted` is called once the transaction exists, before the outcome. */
  deleteRoom(username: string, onStarted: (transactionId: string) => void): Promise<DeletionOutcome>;
  /** The host's page of history, or null when this node's replica should answer instead. */
  history(range: HistoryRange, limit: number): Promise<HostHistoryPage | null>;
}
