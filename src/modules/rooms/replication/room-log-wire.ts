import type { Entry, LogPosition } from '../consensus/log-entry';
import type { RoomMessage } from '../consensus/room-messages';

/**
 * Sent instead of an answer by a node that holds the room's tombstone: the room's deletion was
 * committed (a tombstone is written only then), so the receiver deletes its copy too. A node that
 * missed the deletion's commit would otherwise ask for votes forever in a room no one else has.
 */
export interface RoomDeletedNotice {
  readonly type: 'roomDeleted';
  readonly from: string;
  readonly to: string;
  /** Not an epoch of the room's (it has none left): 0. */
  readonly epoch: 0;
  readonly room_name: string;
  readonly transaction_id: string | null;
}

/** One room's message as it travels: `[room_id, message]`. */
export type WireItem = readonly [roomId: string, message: RoomMessage | RoomDeletedNotice];

const MAX_ITEMS = 20_000;
const MAX_ENTRIES = 10_000;
const MAX_ID = 128;
const MAX_KIND = 32;
const MAX_CLIENT_KEY = 512;

/** A batch from a peer that breaks the rules: refused whole (the caller gets an XML-RPC fault). */
export class WireRefusal extends Error {}

const fail = (where: string, what: string): never => {
  throw new WireRefusal(`${where}: ${what}`);
};

/**
 * The highest epoch a peer may name: far beyond any real cluster (an election every millisecond
 * for 8000 years), and far enough below 2^53 that counting on from it never leaves the safe
 * integers (a trusted but broken peer naming 2^53 - 1 would otherwise wedge the room: its next
 * candidate's epoch could not be sent).
 */
export const MAX_EPOCH = 2 ** 48;

/** A counter on the wire: a safe, non-negative integer (2^53 + 1 is not one: it would round). */
function count(v: unknown, where: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(where, `must be a safe integer >= ${min}, got ${JSON.stringify(v)?.slice(0, 40)}`);
  return v as number;
}

function epochNumber(v: unknown, where: string, min = 0): number {
  const n = count(v, where, min);
  if (n > MAX_EPOCH) fail(where, `must be at most ${MAX_EPOCH}, got ${n}`);
  return n;
}

function text(v: unknown, where: string, max: number): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) fail(where, `must be a string of 1-${max} characters`);
  return v as string;
}

function position(v: unknown, where: string): LogPosition {
  if (typeof v !== 'object' || v === null) fail(where, 'must be {epoch, index}');
  const p = v as Record<string, unknown>;
  return { epoch: epochNumber(p.epoch, `${where}.epoch`), index: count(p.index, `${where}.index`) };
}

function entries(v: unknown, prev: LogPosition, epoch: number, where: string): Entry[] {
  if (!Array.isArray(v) || v.length > MAX_ENTRIES) fail(where, `must be an array of at most ${MAX_ENTRIES} entries`);
  let lastEpoch = prev.epoch;
  return (v as unknown[]).map((raw, i) => {
    const at = `${where}[${i}]`;
    if (typeof raw !== 'object' || raw === null) fail(at, 'must be an entry');
    const e = raw as Record<string, unknown>;
    const index = count(e.index, `${at}.index`, 1);
    const entryEpoch = epochNumber(e.epoch, `${at}.epoch`, 1);
    // a host sends consecutive entries, written in epochs that never go back nor beyond its own
    if (index !== prev.index + 1 + i) fail(at, `index ${index} does not follow ${prev.index + i}`);
    if (entryEpoch < lastEpoch || entryEpoch > epoch) fail(at, `epoch ${entryEpoch} is out of order`);
    lastEpoch = entryEpoch;
    const clientKey = e.clientKey === null || e.clientKey === undefined ? null : text(e.clientKey, `${at}.clientKey`, MAX_CLIENT_KEY);
    return { index, epoch: entryEpoch, kind: text(e.kind, `${at}.kind`, MAX_KIND), sequence: count(e.sequence, `${at}.sequence`), clientKey, data: e.data ?? null };
  });
}

function message(v: unknown, where: string): RoomMessage {
  if (typeof v !== 'object' || v === null) fail(where, 'must be a message');
  const m = v as Record<string, unknown>;
  const base = { from: text(m.from, `${where}.from`, MAX_ID), to: text(m.to, `${where}.to`, MAX_ID), epoch: epochNumber(m.epoch, `${where}.epoch`) };
  switch (m.type) {
    case 'append': {
      const prev = position(m.prev, `${where}.prev`);
      const append = { ...base, type: 'append' as const, prev, entries: entries(m.entries, prev, base.epoch, `${where}.entries`), commit: count(m.commit, `${where}.commit`) };
      return m.hostStored === undefined ? append : { ...append, hostStored: count(m.hostStored, `${where}.hostStored`) };
    }
    case 'appendResult':
      if (typeof m.ok !== 'boolean' || typeof m.learner !== 'boolean') fail(where, 'ok and learner must be booleans');
      return {
        ...base,
        type: 'appendResult',
        ok: m.ok as boolean,
        match: count(m.match, `${where}.match`),
        ...(m.hint === undefined ? {} : { hint: position(m.hint, `${where}.hint`) }),
        learner: m.learner as boolean,
        disk: text(m.disk, `${where}.disk`, MAX_ID),
      };
    case 'preVote':
    case 'vote':
      return { ...base, type: m.type, last: position(m.last, `${where}.last`) };
    case 'roomDeleted':
      return { ...base, epoch: 0, type: 'roomDeleted', room_name: typeof m.room_name === 'string' ? m.room_name.slice(0, 400) : '', transaction_id: typeof m.transaction_id === 'string' ? m.transaction_id.slice(0, MAX_ID) : null } as never;
    case 'preVoteResult':
    case 'voteResult':
      if (typeof m.granted !== 'boolean') fail(where, 'granted must be a boolean');
      return { ...base, type: m.type, granted: m.granted as boolean, ...(m.leader === undefined ? {} : { leader: text(m.leader, `${where}.leader`, MAX_ID) }) };
    default:
      return fail(`${where}.type`, `unknown message type ${JSON.stringify(m.type)?.slice(0, 40)}`);
  }
}

/** A peer's batch, every number a safe integer and every message addressed from `sender` to `self`. */
export function parseWireBatch(json: string, sender: string, self: string): WireItem[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return fail('batch', 'is not JSON');
  }
  if (!Array.isArray(raw) || raw.length > MAX_ITEMS) fail('batch', `must be an array of at most ${MAX_ITEMS} items`);
  return (raw as unknown[]).map((item, i) => {
    if (!Array.isArray(item) || item.length !== 2) fail(`batch[${i}]`, 'must be [room_id, message]');
    const pair = item as unknown[];
    const roomId = text(pair[0], `batch[${i}][0]`, MAX_ID);
    const m = message(pair[1], `batch[${i}][1]`);
    if (m.from !== sender) fail(`batch[${i}][1].from`, `is ${m.from.slice(0, 64)}, but ${sender} sent it`);
    if (m.to !== self) fail(`batch[${i}][1].to`, `is ${m.to.slice(0, 64)}, not this node`);
    return [roomId, m] as const;
  });
}
