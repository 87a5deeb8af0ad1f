// Text helpers for rendering: escaping, times, lengths, error sentences. No DOM access.

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for use inside HTML element content or a quoted attribute. */
export function escapeHtml(text: unknown): string {
  return String(text ?? '').replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** Number of Unicode code points (the server's length unit). */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

/** `HH:MM:SS` in the viewer's local time; falls back to the raw text if unparseable. */
export function formatTime(iso: string, timeZone?: string): string {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return typeof iso === 'string' ? iso : '';
  return d.toLocaleTimeString('en-GB', { hour12: false, timeZone });
}

/** Full date and time for a tooltip. */
export function formatDateTime(iso: string, timeZone?: string): string {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return typeof iso === 'string' ? iso : '';
  return d.toLocaleString('en-GB', { hour12: false, timeZone });
}

export interface ErrorContext {
  roomName?: string;
  adminNode?: string;
}

/** A clear sentence for a protocol error code; `serverText` is used when nothing better fits. */
export function describeError(code: string | undefined, serverText: string | undefined, ctx: ErrorContext = {}): string {
  const room = ctx.roomName ? `“${ctx.roomName}”` : 'this room';
  switch (code) {
    case 'INVALID_CONTENT':
      return serverText && /too long/i.test(serverText)
        ? 'Message too long: the limit is 5000 characters.'
        : serverText || 'The message cannot be sent: its content is not valid.';
    case 'NOT_MEMBER':
      return `You are not a member of ${room}. Join it again to send messages.`;
    case 'ROOM_NOT_FOUND':
      return `Room ${room} no longer exists (it may have been deleted).`;
    case 'ADMIN_NODE_UNAVAILABLE':
      return `Room ${room} is unavailable: its host node${ctx.adminNode ? ` ${ctx.adminNode}` : ''} is down.`;
    case 'INVALID_STATE':
      return `Room ${room} is being deleted.`;
    case 'UNAUTHORIZED':
      return serverText || 'Not allowed.';
    case 'USERNAME_TAKEN':
      return 'This name is in use by another open connection (another tab or device, or your previous connection that the server has not seen close yet). Pick another name, or close that connection.';
    case 'DELETION_FAILED':
      return `Deleting ${room} failed: ${serverText || 'a node did not agree'}. The room is kept.`;
    case 'INVALID_REQUEST':
      return serverText || 'The request was not valid.';
    case 'NOT_AUTHOR':
      return serverText || 'Only the author of a message may change it.';
    case 'NOT_MODERATOR':
      return serverText || "Only the room's creator and its moderators may do that.";
    case 'BANNED':
      return `You are banned from ${room}.`;
    case 'MUTED':
      return serverText || `You are muted in ${room} for now.`;
    case 'MESSAGE_NOT_FOUND':
      return 'That message no longer exists (deleted, or removed with old history).';
    default:
      return serverText || 'Something went wrong.';
  }
}

/** A room whose host cannot take requests for now (a retryable refusal): what happens to what the user did. */
export function describeWaitingForHost(roomName: string, then: string): string {
  return `Room “${roomName}” is waiting for its host (down or being replaced): ${then}`;
}

/** Sentence for a member leaving, by the protocol's `reason`. */
export function describeLeave(username: string, reason?: string): string {
  switch (reason) {
    case undefined:
    case '':
      return `${username} left`;
    case 'User disconnected':
      return `${username} disconnected`;
    case 'Node unreachable':
      return `${username} left (their node is unreachable)`;
    case 'Inactivity':
      return `${username} was removed for inactivity`;
    default:
      return `${username} left (${reason})`;
  }
}

/** "alice is typing…" for the names given (plain text: set it as textContent). */
export function typingText(names: readonly string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  if (names.length === 3) return `${names[0]}, ${names[1]} and ${names[2]} are typing…`;
  return `${names[0]}, ${names[1]} and ${names.length - 2} others are typing…`;
}

/** A client-side message id for de-duplicated resends. */
export function makeClientMessageId(random: () => number = Math.random): string {
  let s = '';
  for (let i = 0; i < 16; i++) s += Math.floor(random() * 36).toString(36);
  return `c-${Date.now().toString(36)}-${s}`;
}
