import { ChatError } from '../../../common/errors/chat-error';

/** What a member may do to a message. */
export type MessageAction = 'edit' | 'delete';

/**
 * Who may change a message: the one place this is decided (the room's host asks it before it
 * writes an edit or a deletion into the room's log). The author may edit and delete; the room's
 * creator may delete anyone's. Moderators, when they come, are one more rule here.
 * Returns the refusal, or null when `actor` may.
 */
export function messageChangeRefusal(action: MessageAction, actor: string, message: { username: string }, room: { creatorId: string }): ChatError | null {
  if (message.username === actor) return null;
  if (action === 'delete' && room.creatorId === actor) return null;
  return new ChatError(
    'NOT_AUTHOR',
    action === 'edit' ? 'Only the author of a message may edit it' : "Only the author of a message or the room's creator may delete it",
  );
}
