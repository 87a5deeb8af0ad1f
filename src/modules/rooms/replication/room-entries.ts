import type { MemberLeftReason } from '../../../common/protocol/client-wire';
export { MESSAGE } from '../consensus/log-entry';

/**
 * The room's own entry kinds (the core adds `noop` and `promote`): whatever changes a room goes
 * through its log, and every node applies the committed entries the same way (LogApplier). Every
 * payload carries the host's timestamps, so every copy is identical.
 */
export const ROOM = 'room';
export const MEMBER_JOINED = 'member_joined';
export const MEMBER_LEFT = 'member_left';
export const ROOM_DELETED = 'room_deleted';
/** Retention: the room's messages below a sequence go, on every node at this point of the log. */
export const TRIM = 'trim';
/**
 * A message's new text, and a message become a tombstone. Neither takes a sequence number (only
 * MESSAGE entries do: consensus/host-replication.ts), so new_message numbers stay contiguous.
 */
export const MESSAGE_EDITED = 'message_edited';
export const MESSAGE_DELETED = 'message_deleted';
/** A user's read marker moved forward (no sequence number either). */
export const READ_MARKER = 'read_marker';
/** A member of a private room invited another user (who may then see and join it). */
export const ROOM_INVITE = 'room_invite';
/** A moderation action the host accepted (appointing a moderator, kick, ban, unban, mute). */
export const MODERATION = 'moderation';

/** The first entry of every room. */
export interface RoomData {
  room_name: string;
  description: string | null;
  creator_id: string;
  created_at: string;
  /** Listed and joinable only by the creator and invited users (absent: public, as every room before). */
  private?: true;
  /** A direct conversation of open_direct: exactly `invited`, nobody else is ever invited. */
  direct?: true;
  /** Users invited from the start (a direct room's two people). */
  invited?: string[];
}

export interface MessageData {
  message_id: string;
  username: string;
  content: string;
  timestamp: string;
  client_message_id: string | null;
}

/**
 * A message entry once retention removed its message (a committed trim stripped it on this node,
 * LogApplier): the log keeps the entry's index, epoch, sequence and client key, and of the payload
 * only what a retry's answer needs. A node that applies one only counts the sequence, or stores the
 * tombstone of a message that was deleted (MESSAGE_DELETED strips its entry the same way).
 */
export interface TrimmedMessageData {
  message_id: string;
  username: string;
  timestamp: string;
  client_message_id: string | null;
  trimmed: true;
  /** Stripped because the message was deleted (not by retention): it stays as a tombstone. */
  deleted_at?: string;
}

/** A message entry's payload as the log holds it: whole, or stripped by a trim. */
export type StoredMessageData = MessageData | TrimmedMessageData;

export const isTrimmedMessage = (d: unknown): d is TrimmedMessageData => typeof d === 'object' && d !== null && (d as { trimmed?: unknown }).trimmed === true;

export interface MemberJoinedData {
  username: string;
  /** The node the member's connection is on. */
  node_id: string;
  joined_at: string;
  /** That node's boot id at the join (a host told it restarted removes only memberships of its previous run). */
  boot_id: string | null;
}

export interface MemberLeftData {
  username: string;
  timestamp: string;
  reason?: MemberLeftReason;
  /**
   * The membership a removal the host decided is for (the connection's node, and its run when
   * known). A member who joined again through another node, or through the node's new run, before
   * the removal committed keeps that newer membership. Absent: the member left on their own.
   */
  node_id?: string;
  boot_id?: string | null;
}

export interface RoomDeletedData {
  transaction_id: string;
  initiator: string;
  deleted_at: string;
}

/**
 * The host decided from its own store and wall clock which messages retention removes
 * (MAX_MESSAGES_PER_ROOM, RETENTION_DAYS); replicas never decide it themselves, they apply this.
 */
export interface TrimData {
  /** Messages with a lower sequence number go; the room's sequence numbers go on where they were. */
  before_sequence: number;
  /** Which setting asked for it: the count limit, the age limit, or both. */
  reason: 'count' | 'age' | 'count+age';
  /** The host's wall clock when it proposed the trim. */
  timestamp: string;
}

/**
 * An edit, as the host accepted it. Names the message by id and sequence (every node stores it at
 * that sequence). Retention or the message's deletion strips `content` from the log later: an
 * entry without it changes nothing.
 */
export interface MessageEditedData {
  message_id: string;
  sequence_number: number;
  /** The author (only the author edits). */
  username: string;
  content?: string;
  edited_at: string;
}

/**
 * A deletion, as the host accepted it. Carries what a tombstone shows (author, original time), so a
 * node that catches up from a log whose message entry was already stripped stores the same tombstone.
 */
export interface MessageDeletedData {
  message_id: string;
  sequence_number: number;
  /** The author and the message's original timestamp. */
  username: string;
  timestamp: string;
  deleted_by: string;
  deleted_at: string;
}

/**
 * How far a user has read the room, as the host accepted it: written only when it moves the
 * marker forward (ReadMarkers), applied as "at least this far" so a late or repeated entry
 * never moves it back.
 */
export interface ReadMarkerData {
  username: string;
  sequence_number: number;
  read_at: string;
}

/** An invitation to a private room, as the host accepted it from a member. */
export interface RoomInviteData {
  username: string;
  invited_by: string;
  invited_at: string;
}

/** What a moderation entry does; each is one client request (add_moderator, kick_member, ...). */
export type ModerationAction = 'add_moderator' | 'kick' | 'ban' | 'unban' | 'mute';
export const MODERATION_ACTIONS: readonly ModerationAction[] = ['add_moderator', 'kick', 'ban', 'unban', 'mute'];

/** A moderation action as the host accepted it. Times are the host's, so every node applies the same thing. */
export interface ModerationData {
  action: ModerationAction;
  /** The member acted on. */
  member: string;
  /** The acting user (the creator or a moderator; the creator alone for add_moderator). */
  by: string;
  reason?: string;
  /** mute: when it ends (the host's clock at proposal time plus the seconds asked for). */
  muted_until?: string;
  timestamp: string;
}

/** The key a retried message is found by: one per user and client_message_id. */
export const clientKeyOf = (username: string, clientMessageId: string | null): string | null => (clientMessageId ? `${username}\u0000${clientMessageId}` : null);
