import { ChatError } from '../../../common/errors/chat-error';
import type { ModerationAction } from '../replication/room-entries';

/** Who holds which role in a room, as the room's host knows it. */
export interface ModerationRoles {
  creatorId: string;
  isModerator(username: string): boolean;
  /** A direct room (open_direct): two people, nobody moderates. */
  direct?: boolean;
}

/**
 * Who may moderate whom: the one place this is decided (the room's host asks it before it writes
 * a moderation entry). The creator appoints moderators; the creator and moderators kick, ban,
 * unban and mute. Nobody acts on the creator or on themselves. A moderator may not kick, ban or
 * mute another moderator (only the creator may): moderators cannot remove each other. A direct
 * room has no moderation at all: it is two people's conversation, and a kick or a ban would only
 * lock one of them out of it (nobody else can be invited to take their place).
 * Returns the refusal, or null when `actor` may.
 */
export function moderationRefusal(action: ModerationAction, actor: string, member: string, roles: ModerationRoles): ChatError | null {
  if (roles.direct) return new ChatError('INVALID_STATE', 'A direct conversation has no moderation: nobody can be appointed, kicked, banned, unbanned or muted in it');
  const actorIsCreator = actor === roles.creatorId;
  if (action === 'add_moderator') {
    if (!actorIsCreator) return new ChatError('NOT_MODERATOR', "Only the room's creator may appoint moderators");
    if (member === actor) return new ChatError('INVALID_REQUEST', 'The creator moderates the room already');
    return null;
  }
  if (!actorIsCreator && !roles.isModerator(actor)) return new ChatError('NOT_MODERATOR', "Only the room's creator and its moderators may do this");
  if (member === roles.creatorId) return new ChatError('NOT_MODERATOR', "Nobody may moderate the room's creator");
  if (member === actor) return new ChatError('INVALID_REQUEST', 'You cannot moderate yourself');
  if (action !== 'unban' && !actorIsCreator && roles.isModerator(member)) return new ChatError('NOT_MODERATOR', "Only the room's creator may act on another moderator");
  return null;
}

/** A muted member's send or edit, refused until the mute's expiry (an ISO time of the host's clock) has passed. */
export function muteRefusal(mutedUntil: string | null, nowMs: number): ChatError | null {
  if (mutedUntil === null) return null;
  const until = Date.parse(mutedUntil);
  if (!(until > nowMs)) return null;
  return new ChatError('MUTED', `You are muted in this room until ${mutedUntil}`, { muted_until: mutedUntil, retry_after_ms: until - nowMs });
}

/** A banned name's join, refused on every node (the join is decided by the room's host). */
export function banRefusal(banned: boolean): ChatError | null {
  return banned ? new ChatError('BANNED', 'You are banned from this room') : null;
}
