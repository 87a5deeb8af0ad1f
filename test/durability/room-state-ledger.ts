import type { Frame } from '../support/test-client';
import type { RoomStateCopy } from './node-store';

/**
 * The room-state part of the fault suites' ledger (AckLedger.roomState): every ban_member /
 * unban_member, add_moderator, mark_read and invite_user a watched client sent, the answers it got
 * (`*_success`) and the events it was shown, and violations(), which checks them against every
 * node's copy of a room (node-store.ts readRoomStates). What an answer promises:
 *
 * - add_moderator_success: the member is a moderator on every node (moderators are never withdrawn);
 * - ban_member_success / unban_member_success: the name is banned / not banned on every node, unless
 *   a later ban or unban of it was sent (by the same user: names acted on by several users are
 *   only checked to hold one of the states sent, since their requests race); a banned name is
 *   nobody's member anywhere;
 * - mark_read_success: the user's marker is at least its sequence_number on every node (markers only
 *   move forward), and at least what was asked up to the room's end (the highest sequence any
 *   watched client was acked or shown when the request was sent); no further than the highest
 *   sequence_number the user sent;
 * - invite_user_success: the member is invited on every node (invitations are never withdrawn).
 *
 * Nothing is in force that nobody asked for (a moderator, a ban, a marker, an invitation other than
 * a private room's creator's own), and every node holds the same rows.
 */

export type StateKind = 'ban' | 'moderator' | 'marker' | 'invite';

/** What a request sets: for which name, to which value (a ban: true, an unban: false; a marker: its sequence). */
interface RequestShape {
  kind: StateKind;
  name: (d: Record<string, any>) => string;
  value: (d: Record<string, any>) => boolean | number;
}

const REQUESTS: Record<string, RequestShape> = {
  ban_member: { kind: 'ban', name: (d) => d.member, value: () => true },
  unban_member: { kind: 'ban', name: (d) => d.member, value: () => false },
  add_moderator: { kind: 'moderator', name: (d) => d.member, value: () => true },
  mark_read: { kind: 'marker', name: (d) => d.username, value: (d) => Number(d.sequence_number) },
  invite_user: { kind: 'invite', name: (d) => d.member, value: () => true },
};

/** The answer of each request; mark_read_success carries the marker as it is now (its own value). */
const ANSWERED: Record<string, string> = {
  ban_member_success: 'ban_member',
  unban_member_success: 'unban_member',
  add_moderator_success: 'add_moderator',
  mark_read_success: 'mark_read',
  invite_user_success: 'invite_user',
};

const EVENTS = new Set(['member_banned', 'member_unbanned', 'moderator_added', 'read_marker', 'room_invitation']);

/** One request sent (retries included, in sending order). */
export interface StateIntent {
  label: string;
  value: boolean | number;
  /** mark_read: what it must move the marker to at least (its sequence_number, at most the room's end as known when sent). */
  floor?: number;
}

/** One success answer: the value it confirms, and the index (into the name's intents) of the request it answered. */
export interface StateAck {
  label: string;
  value: boolean | number;
  intent: number;
  at: number;
}

const key = (kind: StateKind, room: string, name: string) => `${kind}\u0000${room}\u0000${name}`;

export class RoomStateLedger {
  /** By kind + room + name: the requests sent, in order. */
  private readonly intents = new Map<string, StateIntent[]>();
  /** By kind + room + name: the success answers, in arrival order. */
  private readonly acks = new Map<string, StateAck[]>();
  /** The events shown (member_banned, moderator_added, read_marker, ...), with the label that got them. */
  readonly events: { label: string; type: string; data: Record<string, any> }[] = [];
  /** Refusals of these requests (the generic error frame), with the label that got them. */
  readonly errors: { label: string; data: Record<string, any> }[] = [];
  /** By room: the highest sequence any watched client was acked (message_sent) or shown (new_message): committed. */
  private readonly highest = new Map<string, number>();

  /** Notes an outgoing frame of a watched client (only the requests above matter). */
  outgoing(type: string, d: Record<string, any> | undefined, label: string): void {
    const shape = REQUESTS[type];
    if (!shape || typeof d?.room_id !== 'string') return;
    const k = key(shape.kind, d.room_id, shape.name(d));
    const value = shape.value(d);
    const floor = shape.kind === 'marker' ? { floor: Math.min(Number(value), this.highest.get(d.room_id) ?? 0) } : {};
    this.intents.set(k, [...(this.intents.get(k) ?? []), { label, value, ...floor }]);
  }

  /** Notes an incoming frame of a watched client. */
  record(frame: Frame, label: string): void {
    const d = frame.data ?? {};
    const request = ANSWERED[frame.type];
    if (request) {
      const shape = REQUESTS[request];
      const k = key(shape.kind, d.room_id, shape.name(d));
      const intents = this.intents.get(k) ?? [];
      const intent = intents.map((x) => x.label).lastIndexOf(label);
      const value = shape.kind === 'marker' ? Number(d.sequence_number) : shape.value(d);
      this.acks.set(k, [...(this.acks.get(k) ?? []), { label, value, intent, at: Date.now() }]);
    } else if (frame.type === 'message_sent' || frame.type === 'new_message') {
      if (Number.isSafeInteger(d.sequence_number)) this.highest.set(d.room_id, Math.max(this.highest.get(d.room_id) ?? 0, d.sequence_number));
    } else if (EVENTS.has(frame.type)) this.events.push({ label, type: frame.type, data: d });
    else if (frame.type === 'error' && REQUESTS[d.request]) this.errors.push({ label, data: d });
  }

  /** The success answers about one name. */
  acked(kind: StateKind, room: string, name: string): StateAck[] {
    return this.acks.get(key(kind, room, name)) ?? [];
  }

  /** The requests sent about one name. */
  sent(kind: StateKind, room: string, name: string): StateIntent[] {
    return this.intents.get(key(kind, room, name)) ?? [];
  }

  /** Every name of `room` a request of `kind` was sent about. */
  names(kind: StateKind, room: string): string[] {
    const prefix = key(kind, room, '');
    return [...this.intents.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  }

  /** The number of success answers of every kind (for a test's trigger and log). */
  answered(): number {
    return [...this.acks.values()].reduce((n, a) => n + a.length, 0);
  }

  /**
   * The state a name must be in once everything answered is in force: a ban's last answer (or a
   * later request's value: several values when some are still unanswered), the highest marker
   * answered; undefined when nothing was answered or the name was acted on by several users.
   */
  expected(kind: StateKind, room: string, name: string): (boolean | number)[] | undefined {
    const acks = this.acked(kind, room, name);
    if (acks.length === 0) return undefined;
    if (kind === 'marker') return [Math.max(...acks.map((a) => Math.max(Number(a.value), this.floorOf(room, name, a))))];
    if (kind !== 'ban') return [true];
    const intents = this.sent(kind, room, name);
    if (new Set(intents.map((i) => i.label)).size > 1) return undefined;
    const last = acks[acks.length - 1];
    return [...new Set([last.value, ...intents.slice(Math.max(0, last.intent)).map((i) => i.value)])];
  }

  /** One line for a test's log. */
  summary(): string {
    const count = (kind: StateKind, m: Map<string, unknown[]>) => [...m].filter(([k]) => k.startsWith(`${kind}\u0000`)).reduce((n, [, v]) => n + v.length, 0);
    const kinds: StateKind[] = ['ban', 'moderator', 'marker', 'invite'];
    return `${kinds.map((k) => `${k}: ${count(k, this.intents)} sent, ${count(k, this.acks)} acked`).join('; ')}; ${this.events.length} events shown, ${this.errors.length} refused`;
  }

  /** Everything wrong with one room's moderation, markers and invitations across the nodes' copies of it ([] when in force and agreed). */
  violations(roomId: string, copies: RoomStateCopy[], lastSequence: number): string[] {
    const out: string[] = [];
    const [first, ...rest] = copies;
    if (!first) return out;
    const tables = {
      room_moderation: (c: RoomStateCopy) => c.moderation.map((r) => `${r.username}|moderator ${r.moderator}|banned ${r.banned}|muted ${r.muted_until}`),
      read_markers: (c: RoomStateCopy) => c.markers.map((r) => `${r.username}|${r.sequence_number}|${r.read_at}`),
      room_invites: (c: RoomStateCopy) => c.invites.map((r) => `${r.username}|${r.invited_by}|${r.invited_at}`),
    };
    for (const c of rest) {
      for (const [table, rows] of Object.entries(tables)) {
        const [a, b] = [rows(first), rows(c)];
        const at = a.findIndex((r, i) => r !== b[i]);
        if (a.length !== b.length || at >= 0) out.push(`${roomId} ${table}: ${first.node} and ${c.node} differ: ${a[at] ?? a.length + ' rows'} vs ${b[at] ?? b.length + ' rows'}`);
      }
    }
    const mod = new Map(first.moderation.map((r) => [r.username, r]));
    const markers = new Map(first.markers.map((r) => [r.username, r.sequence_number]));
    const invited = new Map(first.invites.map((r) => [r.username, r]));
    // bans: the last answer (or a request after it) in force; nothing banned that nobody asked for; banned means out
    for (const name of new Set([...this.names('ban', roomId), ...first.moderation.filter((r) => r.banned).map((r) => r.username)])) {
      const banned = mod.get(name)?.banned ?? false;
      const sent = this.sent('ban', roomId, name);
      const allowed = this.expected('ban', roomId, name) ?? [...new Set([...sent.map((i) => i.value), ...(this.acked('ban', roomId, name).length > 0 ? [] : [false])])];
      if (!allowed.includes(banned)) out.push(`${roomId}: ${name} is ${banned ? '' : 'not '}banned on ${first.node}, but ${this.describe('ban', roomId, name)}`);
      if (banned) for (const c of copies) if (c.members.includes(name)) out.push(`${roomId}: ${name} is banned but still a member on ${c.node}`);
    }
    // moderators: every one appointed is one; nobody else is
    for (const name of new Set([...this.names('moderator', roomId), ...first.moderation.filter((r) => r.moderator).map((r) => r.username)])) {
      const is = mod.get(name)?.moderator ?? false;
      if (this.acked('moderator', roomId, name).length > 0 && !is) out.push(`acked add_moderator of ${name} in ${roomId} not in force on ${first.node}`);
      if (is && this.sent('moderator', roomId, name).length === 0) out.push(`${roomId}: ${name} is a moderator on ${first.node}, nobody sent add_moderator for them`);
    }
    // read markers: at least what was answered, at most what was sent (and the room's end)
    for (const name of new Set([...this.names('marker', roomId), ...markers.keys()])) {
      const at = markers.get(name) ?? 0;
      const [least] = this.expected('marker', roomId, name) ?? [0];
      const most = Math.max(0, ...this.sent('marker', roomId, name).map((i) => Number(i.value)));
      if (at < Number(least)) out.push(`acked mark_read of ${name} in ${roomId} up to ${least} not in force on ${first.node}: marker ${at}`);
      if (at > most) out.push(`${roomId}: ${name}'s marker is ${at} on ${first.node}, the highest mark_read sent was ${most}`);
      if (at > lastSequence) out.push(`${roomId}: ${name}'s marker ${at} is past the room's last message ${lastSequence}`);
    }
    // invitations: every one answered is there; none nobody sent (the creator's own, from the room's first entry, aside)
    for (const name of new Set([...this.names('invite', roomId), ...invited.keys()])) {
      const row = invited.get(name);
      if (this.acked('invite', roomId, name).length > 0 && !row) out.push(`acked invite_user of ${name} to ${roomId} not in force on ${first.node}`);
      if (row && row.invited_by !== name && this.sent('invite', roomId, name).length === 0) out.push(`${roomId}: ${name} is invited on ${first.node} (by ${row.invited_by}), nobody sent invite_user for them`);
    }
    // what members were shown must hold too
    for (const e of this.events.filter((x) => x.data.room_id === roomId)) {
      if (e.type === 'read_marker' && (markers.get(e.data.username) ?? 0) < Number(e.data.sequence_number)) {
        out.push(`${e.label} was shown read_marker ${e.data.username}@${e.data.sequence_number} in ${roomId}, ${first.node} holds ${markers.get(e.data.username) ?? 0}`);
      }
      if (e.type === 'moderator_added' && !mod.get(e.data.member)?.moderator) out.push(`${e.label} was shown moderator_added of ${e.data.member} in ${roomId}, not a moderator on ${first.node}`);
      if (e.type === 'member_banned' && !this.sent('ban', roomId, e.data.member).some((i) => i.value === true)) out.push(`${e.label} was shown member_banned of ${e.data.member} in ${roomId}, nobody sent ban_member for them`);
    }
    return out;
  }

  /** The least an answered mark_read promises: its request's floor (of its first attempt: a retry is the same request). */
  private floorOf(room: string, name: string, a: StateAck): number {
    const intents = this.sent('marker', room, name);
    const asked = intents[a.intent];
    if (!asked) return 0;
    return Math.min(...intents.filter((i) => i.label === a.label && i.value === asked.value).map((i) => i.floor ?? 0));
  }

  /** What was sent and answered about a name, for a violation's sentence. */
  private describe(kind: StateKind, room: string, name: string): string {
    const sent = this.sent(kind, room, name).map((i) => `${i.label}:${i.value}`);
    const acks = this.acked(kind, room, name).map((a) => `${a.label}:${a.value}@${a.intent}`);
    return `sent [${sent.join(', ')}], answered [${acks.join(', ')}]`;
  }
}
