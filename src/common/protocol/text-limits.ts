import { codePointCount } from './chat-names';

/**
 * The protocol's limits and text rules (docs/protocol.md, Limits): what a name, a description and
 * a message may hold. Shared by the client DTOs, the host's checks of forwarded requests and the
 * web client, so the three cannot drift. Plain functions, no dependencies beyond the name rules (web/ bundles both files).
 */
export const MAX_CONTENT = 5000;

export const LIMITS = {
  username: 64,
  roomName: 100,
  description: 1000,
  content: MAX_CONTENT,
  roomId: 64,
  clientMessageId: 64,
  messageId: 64,
  historyPage: 200,
  /** search_messages: the query's code points, and results per page. */
  searchQuery: 200,
  searchPage: 100,
  /** kick_member and ban_member: the reason's code points. */
  moderationReason: 500,
  /** mute_member: seconds, 1 up to 30 days. */
  muteSeconds: 30 * 24 * 3600,
} as const;

/** Characters XML 1.0 cannot carry: peers could not relay a message holding them. */
const XML_ILLEGAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CONTROL = /[\u0000-\u001F\u007F]/;

/** Length in Unicode code points (what Python's len counts), not UTF-16 units. */
export const codePoints = codePointCount;

export const hasXmlIllegalChars = (s: string): boolean => XML_ILLEGAL.test(s);

/** A short name (username, room name): a string of 1..max code points, not blank, without control characters. */
export const isChatName = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.trim().length > 0 && codePoints(v) <= max && !CONTROL.test(v) && !hasXmlIllegalChars(v);

/** Free text (description) of at most max code points that XML can carry. */
export const isChatText = (v: unknown, max: number): v is string => typeof v === 'string' && codePoints(v) <= max && !hasXmlIllegalChars(v);

/** The content rules of send_message, in the reference's order; null when the content is fine. */
export function contentProblem(content: unknown): string | null {
  if (content === undefined || content === null || content === '') return 'Message content cannot be empty';
  if (typeof content !== 'string') return 'Message content must be a string';
  if (content.length > MAX_CONTENT && codePoints(content) > MAX_CONTENT) return `Message content too long (max ${MAX_CONTENT} characters)`;
  if (hasXmlIllegalChars(content)) return 'Message content contains control characters that cannot be delivered';
  return null;
}
