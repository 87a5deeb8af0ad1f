import { ChatError } from '../../../common/errors/chat-error';

/** What a member may do to a message. */
export type MessageAction = 'edit' | 'delete';

/**
 * Who may change a message: the one place this is decided (the room's host asks it before it
 * writes an edit or a deletion into the room's log). The author may edit and delete; the room's
 * creator may delete anyone's; a moderator may delete anyone's but the creator's (nobody
 * moderates the creator). `actorIsModerator`: the room's moderation entries made the actor one.
 * Returns the refusal, or null when `actor` may.
 */
export function messageChangeRefusal(action: MessageAction, actor: string, message: { username: string }, room: { creatorId: string }, actorIsModerator = false): ChatError | null {
  if (message.username === actor) return null;
  if (action === 'delete' && room.creatorId === actor) return null;
  if (action === 'delete' && actorIsModerator && message.username !== room.creatorId) return null;
  return new ChatError(
    'NOT_AUTHOR',
    action === 'edit' ? 'Only the author of a message may edit it' : "Only the author of a message, the room's creator or a moderator may delete it",
  );
}
