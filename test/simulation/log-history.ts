import type { Leadership } from '../../src/modules/rooms/consensus/core-types';
import { MESSAGE, type Entry } from '../../src/modules/rooms/consensus/log-entry';
import type { Checks } from './check-failure';
import { chainWith, fingerprint, type RoomDisk } from './sim-disk';

interface RoomHistory {
  /** Every entry any node applied, by index (index i at i - 1): the room's committed history. */
  readonly committed: Entry[];
  /** chain[i]: prefix hash of committed entries 1..i. */
  readonly chain: number[];
  readonly indexOfKey: Map<string, number>;
  /**
   * committedBy[i - 1]: an upper bound of the epoch whose host committed entry i (the highest epoch
   * any host had reached when a node first applied it). Raft promises the entry to hosts of later
   * epochs only: a candidate of an older epoch may still win, late, without it (and then steps down).
   */
  readonly committedBy: number[];
  /** epoch -> the node that hosted it. */
  readonly hosts: Map<number, string>;
  highestHostEpoch: number;
  /** `index:epoch` -> prefix hash of the first disk that stored that entry. */
  readonly positions: Map<string, number>;
}

/**
 * The log checkers, fed with everything the nodes do: every leadership change, every disk write
 * and every applied entry, over the whole run.
 * (a) at most one host per room and epoch; (b) log matching: two disks holding one (index, epoch)
 * hold the same prefix, and disks agree below their commit positions; (c) a committed entry never
 * changes, and every new host holds all of them; (e) what a node applied (showed members) stays on
 * its disk; (f, part) a committed message is stored once, and sequences count messages.
 */
export class LogHistory {
  constructor(private readonly checks: Checks) {}

  private readonly rooms = new Map<string, RoomHistory>();
  /** node -> room -> highest index applied from its current disk. */
  private readonly shown = new Map<string, Map<string, number>>();
  /** Rooms whose committed history grew since takeGrown() was last called. */
  private readonly grown = new Set<string>();
  /** Told of every newly committed entry (the ack ledger verifies acks waiting for it). */
  onCommitted: (room: string, e: Entry) => void = () => undefined;

  private room(room: string): RoomHistory {
    let h = this.rooms.get(room);
    if (!h) this.rooms.set(room, (h = { committed: [], chain: [0], committedBy: [], indexOfKey: new Map(), hosts: new Map(), highestHostEpoch: 0, positions: new Map() }));
    return h;
  }

  takeGrown(): string[] {
    if (this.grown.size === 0) return [];
    const rooms = [...this.grown];
    this.grown.clear();
    return rooms;
  }

  committedRooms(): string[] {
    return [...this.rooms].filter(([, h]) => h.committed.length > 0).map(([r]) => r);
  }

  committed(room: string): readonly Entry[] {
    return this.rooms.get(room)?.committed ?? [];
  }

  /** The prefix hash of the committed history up to `index`. */
  chainAt(room: string, index: number): number {
    return this.rooms.get(room)?.chain[index] ?? 0;
  }

  shownUpTo(node: string, room: string): number {
    return this.shown.get(node)?.get(room) ?? 0;
  }

  /** (a), and (c) for a new host: its log holds every entry committed in an earlier epoch, where it was committed. */
  leadership(node: string, room: string, l: Leadership, entryAt: (index: number) => Entry | undefined): void {
    if (l.role !== 'leader') return;
    const h = this.room(room);
    const other = h.hosts.get(l.epoch);
    if (other !== undefined && other !== node) this.checks.fail('election safety', `${room}: ${other} and ${node} both host epoch ${l.epoch}`);
    h.hosts.set(l.epoch, node);
    h.highestHostEpoch = Math.max(h.highestHostEpoch, l.epoch);
    for (const e of h.committed) {
      if (h.committedBy[e.index - 1] >= l.epoch) continue;
      const mine = entryAt(e.index);
      if (!mine || fingerprint(mine) !== fingerprint(e)) {
        this.checks.fail('leader completeness', `${room}: ${node} hosts epoch ${l.epoch} without committed entry ${e.index} (${describe(e)}); it holds ${mine ? describe(mine) : 'nothing'} there`);
      }
    }
  }

  /**
   * (d) A host that says it has caught up (RoomLogCore.caughtUp: it checks requests against what
   * it applied) applied every entry committed before its epoch: all that was first applied while no
   * host of its epoch or later existed (committedBy grows with the history: a binary search).
   */
  caughtUp(node: string, room: string, epoch: number, applied: number): void {
    const h = this.rooms.get(room);
    if (!h) return;
    let lo = 0;
    let hi = h.committedBy.length; // the first index (0-based) committed at an epoch >= this one
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (h.committedBy[mid] < epoch) lo = mid + 1;
      else hi = mid;
    }
    if (lo > applied) this.checks.fail('a caught-up host applied the past', `${room}: ${node} hosts epoch ${epoch} and says it caught up, having applied up to ${applied}; entry ${lo} (${describe(h.committed[lo - 1])}) was committed before that epoch`);
  }

  /** (b) for the entries just stored, and (e): nothing applied from this disk is gone or changed. */
  diskWritten(node: string, room: string, disk: RoomDisk, from: number | null): void {
    const h = this.room(room);
    if (from !== null) {
      for (let i = from; i <= disk.lastIndex(); i++) {
        const key = `${i}:${disk.entry(i)!.epoch}`;
        const seen = h.positions.get(key);
        if (seen === undefined) h.positions.set(key, disk.chain[i]);
        else if (seen !== disk.chain[i]) this.checks.fail('log matching', `${room}: ${node} stored entry ${key} (index:epoch) after a prefix that differs from another copy's`);
      }
    }
    const shown = this.shownUpTo(node, room);
    if (shown > disk.lastIndex()) this.checks.fail('nothing shown vanishes', `${room}: ${node} applied up to ${shown}, its disk now ends at ${disk.lastIndex()}`);
    else if (shown > 0 && disk.chain[shown] !== h.chain[shown]) this.checks.fail('nothing shown vanishes', `${room}: ${node} changed entries at or below ${shown}, which it applied`);
  }

  /** (c), (e), (f): an applied entry is the committed one at its index, or extends the history. */
  applied(node: string, room: string, e: Entry): void {
    const h = this.room(room);
    const known = h.committed[e.index - 1];
    if (known) {
      if (fingerprint(known) !== fingerprint(e)) this.checks.fail('committed entries never change', `${room}: ${node} applied ${describe(e)} where ${describe(known)} was committed`);
    } else {
      if (e.index !== h.committed.length + 1) throw new Error(`simulator: ${node} applied ${e.index} of ${room} beyond the history (${h.committed.length})`);
      const prev = h.committed[e.index - 2];
      const expected = (prev?.sequence ?? 0) + (e.kind === MESSAGE ? 1 : 0);
      if (e.sequence !== expected) this.checks.fail('one sequence, one message', `${room}: committed ${describe(e)} but the sequence there is ${expected}`);
      if (e.clientKey !== null) {
        const twice = h.indexOfKey.get(e.clientKey);
        if (twice !== undefined) this.checks.fail('one sequence, one message', `${room}: ${e.clientKey} committed twice, at ${twice} and ${e.index}`);
        h.indexOfKey.set(e.clientKey, e.index);
      }
      h.committed.push(e);
      h.committedBy.push(h.highestHostEpoch);
      h.chain.push(chainWith(h.chain[e.index - 1], e));
      this.grown.add(room);
      this.onCommitted(room, e);
    }
    let mine = this.shown.get(node);
    if (!mine) this.shown.set(node, (mine = new Map()));
    if (e.index > (mine.get(room) ?? 0)) mine.set(room, e.index);
  }

  /** The node's disk is gone: what it applied from it goes with it. */
  diskWiped(node: string): void {
    this.shown.delete(node);
  }

  /** (b) below the commit positions on disk: every copy agrees with the furthest-committed one, and with the history. */
  commitPrefixes(room: string, disks: readonly (readonly [string, RoomDisk])[]): void {
    const h = this.rooms.get(room);
    let ref: { node: string; disk: RoomDisk; upTo: number } | null = null;
    for (const [node, disk] of disks) {
      const upTo = Math.min(disk.hardState.commit, disk.lastIndex());
      if (!ref || upTo > ref.upTo) ref = { node, disk, upTo };
    }
    if (!ref) return;
    for (const [node, disk] of disks) {
      const upTo = Math.min(disk.hardState.commit, disk.lastIndex());
      if (disk.chain[upTo] !== ref.disk.chain[upTo]) this.checks.fail('log matching', `${room}: ${node} and ${ref.node} differ at or below ${upTo}, which both hold as committed`);
    }
    const both = Math.min(ref.upTo, h ? h.committed.length : 0);
    if (h && both > 0 && ref.disk.chain[both] !== h.chain[both]) this.checks.fail('committed entries never change', `${room}: ${ref.node}'s committed log differs from the committed history at or below ${both}`);
  }
}

export const describe = (e: Entry): string => `${e.index}/e${e.epoch} ${e.kind} s${e.sequence}${e.clientKey ? ` ${e.clientKey}` : ''}`;
