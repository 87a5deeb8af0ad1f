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
