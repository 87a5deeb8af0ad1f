// HTML for chat lines. Everything user-supplied goes through escapeHtml. No DOM access.

import { escapeHtml, formatDateTime, formatTime } from './format';
import type { ChatMessage, SearchResult } from './protocol';

export interface RenderOptions {
  self: string;
  timeZone?: string;
  /** The room's creator: when it is `self`, every message gets a Delete action. */
  roomCreator?: string | null;
  /** `self` moderates the room: every message but the creator's gets a Delete action. */
  moderator?: boolean;
}

/**
 * One chat message as an `<li>`; the sender's own messages get the `mine` class. An edited one says
 * "(edited)"; a deleted one is a tombstone with no text. Edit and Delete are buttons (reachable by
 * keyboard) on our own messages, Delete on every message of a room we created (a moderator's: all
 * but the creator's).
 */
export function messageHtml(m: ChatMessage, opts: RenderOptions): string {
  const own = m.username === opts.self;
  const deleted = m.deleted === true;
  const id = escapeHtml(m.message_id);
  const edited = m.edited_at && !deleted ? ` <span class="edited" title="edited ${escapeHtml(formatDateTime(m.edited_at, opts.timeZone))}">(edited)</span>` : '';
  const actions = deleted
    ? ''
    : (own ? `<button type="button" class="link" data-edit="${id}" aria-label="Edit this message">Edit</button>` : '') +
      (own || (opts.roomCreator && opts.roomCreator === opts.self) || (opts.moderator && m.username !== opts.roomCreator) ? `<button type="button" class="link" data-delete="${id}" aria-label="Delete this message">Delete</button>` : '');
  return (
    `<li class="msg${own ? ' mine' : ''}${deleted ? ' deleted' : ''}" data-seq="${Number(m.sequence_number)}" data-id="${id}">` +
    `<span class="who">${escapeHtml(m.username)}</span>` +
    `<time datetime="${escapeHtml(m.timestamp)}" title="${escapeHtml(formatDateTime(m.timestamp, opts.timeZone))} · #${Number(m.sequence_number)}">${escapeHtml(formatTime(m.timestamp, opts.timeZone))}</time>` +
    edited +
    (actions ? `<span class="actions">${actions}</span>` : '') +
    (deleted ? `<p class="text tombstone">message deleted</p>` : `<p class="text">${escapeHtml(m.content)}</p>`) +
    `</li>`
  );
}

/** A system line (joins, leaves, moderation) in the chat; `noticeKey` marks a moderation notice (placed by time, shown once). */
export function systemHtml(text: string, timestamp: string | undefined, opts: RenderOptions, noticeKey?: string): string {
  const time = timestamp ? ` <time datetime="${escapeHtml(timestamp)}">${escapeHtml(formatTime(timestamp, opts.timeZone))}</time>` : '';
  const notice = noticeKey && timestamp ? ` data-notice="${escapeHtml(noticeKey)}" data-time="${escapeHtml(timestamp)}"` : '';
  return `<li class="sys"${notice}>${escapeHtml(text)}${time}</li>`;
}

/** A message of ours not yet confirmed by the server; `note` says why it is still waiting. */
export function pendingHtml(clientId: string, content: string, self: string, error?: string, note?: string): string {
  const state = error
    ? `<span class="state err">${escapeHtml(error)} <button type="button" data-retry="${escapeHtml(clientId)}">Retry</button> <button type="button" data-discard="${escapeHtml(clientId)}">Discard</button></span>`
    : `<span class="state">${escapeHtml(note ?? 'sending…')}</span>`;
  return (
    `<li class="msg mine pending${error ? ' failed' : ''}" data-client-id="${escapeHtml(clientId)}">` +
    `<span class="who">${escapeHtml(self)}</span>${state}<p class="text">${escapeHtml(content)}</p></li>`
  );
}

/**
 * One search result as an `<li>`: who and when, and the server's snippet with the matched words,
 * which it marks with « and », as `<mark>` (the snippet is escaped first, so only those two
 * characters become markup).
 */
export function searchResultHtml(r: SearchResult, timeZone?: string): string {
  const snippet = escapeHtml(r.snippet || r.content).replace(/«/g, '<mark>').replace(/»/g, '</mark>');
  const balanced = (snippet.match(/<mark>/g) ?? []).length === (snippet.match(/<\/mark>/g) ?? []).length ? snippet : escapeHtml(r.snippet || r.content);
  return (
    `<li data-seq="${Number(r.sequence_number)}">` +
    `<span class="who">${escapeHtml(r.username)}</span> ` +
    `<time datetime="${escapeHtml(r.timestamp)}">${escapeHtml(formatDateTime(r.timestamp, timeZone))}</time> ` +
    `<span class="text">${balanced}</span>` +
    `</li>`
  );
}
