import type { ChatErrorCode } from './chat-error';

/**
 * Label values of chat_rejected_total: every error code a client can be sent, known up front so
 * the label set stays bounded whatever a peer or a bug puts in a frame.
 */
export const REJECTION_REASONS = [
  // request framing and validation (ChatWsAdapter, RequestValidationPipe)
  'INVALID_JSON',
  'INVALID_FRAME',
  'UNKNOWN_TYPE',
  'INVALID_REQUEST',
  'INVALID_CONTENT',
  // room and membership state
  'ROOM_NOT_FOUND',
  'ROOM_EXISTS',
  'NOT_MEMBER',
  'NOT_IN_ROOM',
  'INVALID_STATE',
  'ADMIN_NODE_UNAVAILABLE',
  'DELETION_FAILED',
  'MESSAGE_NOT_FOUND',
  // identity and authorisation
  'UNAUTHORIZED',
  'USERNAME_TAKEN',
  'NOT_AUTHOR',
  'NOT_MODERATOR',
  'BANNED',
  'MUTED',
  // limits and storage
  'RATE_LIMITED',
  'LIMIT_EXCEEDED',
  'STORE_UNAVAILABLE',
  'INTERNAL_ERROR',
] as const;

export type RejectionReason = (typeof REJECTION_REASONS)[number];

// Compile-time check: a ChatErrorCode without its own label here fails the build, naming the code.
type Unlabelled = Exclude<ChatErrorCode, RejectionReason>;
const everyCodeLabelled: [Unlabelled] extends [never] ? true : Unlabelled = true;
void everyCodeLabelled;

/** Codes outside the list (added later, or garbage) are counted under this reason. */
export const OTHER_REASON = 'other';

const KNOWN = new Set<string>(REJECTION_REASONS);

export function rejectionReason(code: string | undefined): string {
  return code !== undefined && KNOWN.has(code) ? code : OTHER_REASON;
}
