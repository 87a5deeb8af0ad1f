/** Error codes a client or peer can see (reference-protocol.md §1.4, plus ours in docs/protocol.md). */
export type ChatErrorCode =
  | 'INVALID_REQUEST'
  | 'INVALID_CONTENT'
  | 'ROOM_NOT_FOUND'
  | 'NOT_MEMBER'
  | 'NOT_IN_ROOM'
  | 'UNAUTHORIZED'
  | 'INVALID_STATE'
  | 'ADMIN_NODE_UNAVAILABLE'
  | 'DELETION_FAILED'
  | 'ROOM_EXISTS'
  | 'USERNAME_TAKEN'
  | 'RATE_LIMITED'
  | 'LIMIT_EXCEEDED'
  | 'STORE_UNAVAILABLE'
  | 'MESSAGE_NOT_FOUND'
  | 'NOT_AUTHOR'
  | 'NOT_MODERATOR'
  | 'BANNED'
  | 'MUTED'
  | 'INTERNAL_ERROR';

/** A refused request: carries the code and the sentence the client is shown. */
export class ChatError extends Error {
  constructor(
    readonly code: ChatErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ChatError';
  }
}

/** How long a client is asked to wait before retrying a send the room's host could not take. */
export const RETRY_AFTER_MS = 500;

/**
 * The room's host cannot take the request now (down, being replaced, or without a majority): the
 * client may retry, with the same client_message_id for a send. `moved` names the new host.
 */
export function hostUnavailable(message: string, moved?: { adminNode: string; hostEpoch: number }): ChatError {
  return new ChatError('ADMIN_NODE_UNAVAILABLE', message, {
    retryable: true,
    retry_after_ms: RETRY_AFTER_MS,
    ...(moved ? { admin_node: moved.adminNode, host_epoch: moved.hostEpoch } : {}),
  });
}
