// Moderation notices in a room's log, in their place by time among the messages: the live ones
// arrive in order, but those of a join reply (moderation_log) come before the replayed messages,
// and older history is put above what is shown, so both are placed, and placed again, by their
// time. Each notice is shown once: a live one and the same from a later join reply share a key.

import { systemHtml } from '../render';

const NOTICES = 'li.sys[data-notice]';

export interface PlacedNotice {
  key: string;
  text: string;
  timestamp: string;
}

const time = (iso: string | null | undefined): number => {
  const t = Date.parse(iso ?? '');
  return Number.isNaN(t) ? 0 : t;
};

/** True when the log shows the notice already (live, or from an earlier join reply). */
export function hasNotice(log: HTMLElement, key: string): boolean {
  return [...log.querySelectorAll<HTMLElement>(NOTICES)].some((e) => e.dataset.notice === key);
}

/** Adds a join reply's notices (oldest first) not shown yet, each in its place by time. */
export function placeNotices(log: HTMLElement, notices: readonly PlacedNotice[], self: string): void {
  for (const n of notices) {
    if (hasNotice(log, n.key)) continue;
    const tpl = document.createElement('template');
    tpl.innerHTML = systemHtml(n.text, n.timestamp, { self }, n.key);
    place(log, tpl.content.firstElementChild as HTMLElement);
  }
}

/**
 * Messages were added to the log (replayed, live, or older history on top): the notices that are
 * no longer in their place by time (later than the earliest message added) are placed again.
 */
export function settleNotices(log: HTMLElement, addedFrom: string | undefined): void {
  if (addedFrom === undefined) return; // nothing was added
  const from = time(addedFrom);
  const moved = [...log.querySelectorAll<HTMLElement>(NOTICES)].filter((e) => time(e.dataset.time) > from);
  for (const e of moved) e.remove();
  for (const e of moved) place(log, e);
}

/** Before the first message shown after the notice, or at the end (our unsent messages are drawn after it again). */
function place(log: HTMLElement, notice: HTMLElement): void {
  const t = time(notice.dataset.time);
  const next = [...log.querySelectorAll<HTMLElement>('li.msg:not(.pending)')].find((m) => time(m.querySelector('time')?.getAttribute('datetime')) > t);
  if (next) next.before(notice);
  else log.append(notice);
}
