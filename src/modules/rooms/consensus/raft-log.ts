import { LOG_ORIGIN, positionOf, type Entry, type LogPosition, type StableLog } from './log-entry';

/** Stored, unapplied entries kept in memory at most (a host whose followers lag reads older ones from disk). */
const MAX_RECENT = 4096;

/**
 * One room's log as the core sees it: what is on disk (StableLog) with the entries not on disk yet
 * laid over it. A follower that drops a conflicting tail does so here first; the stored entries
 * from `offset` on are then hidden until the adapter has rewritten them.
 */
export class RaftLog {
  /** Entries from `offset` on that are not known to be on disk. */
  private unstable: Entry[] = [];
  /**
   * Entries just stored (below `offset`) that are not applied yet, and the last one stored, kept so
   * that applying them, sending them to followers and checking the next append against the last
   * one does not read them back from disk. Contiguous, ending at offset - 1.
   */
  private recent: Entry[] = [];
  private offset: number;
  /** The lowest index changed since the adapter was last handed what to store (Infinity: nothing). */
  private dirtyFrom = Infinity;
  commit: number;
  applied: number;

  constructor(
    private readonly stable: StableLog,
    commit: number,
    applied: number,
  ) {
    this.offset = stable.lastIndex() + 1;
    this.commit = Math.min(commit, this.offset - 1);
    this.applied = Math.min(applied, this.commit);
  }

  lastIndex(): number {
    return this.offset - 1 + this.unstable.length;
  }

  /** The last index known to be on disk here. */
  stableIndex(): number {
    return this.offset - 1;
  }

  entry(index: number): Entry | undefined {
    if (index <= 0 || index > this.lastIndex()) return undefined;
    if (index >= this.offset) return this.unstable[index - this.offset];
    const first = this.recent[0]?.index ?? Infinity;
    return index >= first ? this.recent[index - first] : this.stable.entry(index);
  }

  /** The epoch of the entry at `index` (0 for index 0), undefined when the log does not reach it. */
  epochAt(index: number): number | undefined {
    if (index === 0) return 0;
    return this.entry(index)?.epoch;
  }

  lastPosition(): LogPosition {
    const last = this.lastIndex();
    return last === 0 ? LOG_ORIGIN : positionOf(this.entry(last));
  }

  /** The message count at the end of the log (the next message gets one more). */
  lastSequence(): number {
    return this.entry(this.lastIndex())?.sequence ?? 0;
  }

  /** Entries `from`..`to` (clamped to the log), at most `maxCount` and about `maxBytes`, at least one. */
  slice(from: number, to: number, maxCount: number, maxBytes: number, sizeOf: (e: Entry) => number): Entry[] {
    const last = Math.min(to, this.lastIndex(), from + maxCount - 1);
    if (from > last) return [];
    const out: Entry[] = [];
    let bytes = 0;
    const firstRecent = this.recent[0]?.index ?? Infinity;
    if (from >= firstRecent && from < this.offset) {
      // just stored: from memory, then on into the entries not stored yet
      for (let i = from; i < this.offset && i <= last; i++) {
        const e = this.recent[i - firstRecent];
        bytes += sizeOf(e);
        if (out.length > 0 && bytes > maxBytes) return out;
        out.push(e);
      }
    } else if (from < this.offset) {
      for (const e of this.stable.entries(from, Math.min(last, this.offset - 1), maxBytes)) {
        out.push(e);
        bytes += sizeOf(e);
      }
      if (out.length < Math.min(last, this.offset - 1) - from + 1) return out; // the byte budget ran out in the stored part
    }
    for (let i = Math.max(from, this.offset, out.length > 0 ? out[out.length - 1].index + 1 : 0); i <= last; i++) {
      const e = this.unstable[i - this.offset];
      bytes += sizeOf(e);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  findByClientKey(clientKey: string): Entry | undefined {
    for (let i = this.unstable.length - 1; i >= 0; i--) if (this.unstable[i].clientKey === clientKey) return this.unstable[i];
    const stored = this.stable.findByClientKey(clientKey);
    return stored && stored.index < this.offset ? stored : undefined;
  }

  /** The highest index at or below `atOrBelow` whose epoch is at most `epoch` (Raft's fast back-up after a refusal). */
  lastIndexWithEpochAtMost(atOrBelow: number, epoch: number): number {
    let i = Math.min(atOrBelow, this.lastIndex());
    for (; i >= this.offset; i--) if (this.unstable[i - this.offset].epoch <= epoch) return i;
    return i <= 0 ? 0 : this.stable.lastIndexWithEpochAtMost(i, epoch);
  }

  /** A host appends its own new entry. */
  append(entry: Entry): void {
    if (entry.index !== this.lastIndex() + 1) throw new Error(`append at ${entry.index} after ${this.lastIndex()}`);
    this.unstable.push(entry);
    this.dirtyFrom = Math.min(this.dirtyFrom, entry.index);
  }

  /**
   * A follower stores the host's entries after `prev` (which it holds): entries it already has are
   * skipped, the first one that differs drops everything from there on, then the rest is added.
   * Returns the index of the last entry the host sent.
   */
  takeEntries(prev: LogPosition, entries: readonly Entry[]): number {
    let i = 0;
    while (i < entries.length && this.epochAt(entries[i].index) === entries[i].epoch) i++;
    if (i < entries.length) {
      const from = entries[i].index;
      if (from <= this.commit) throw new Error(`refusing to drop committed entry ${from} (commit ${this.commit})`);
      this.truncateFrom(from);
      for (const e of entries.slice(i)) this.unstable.push(e);
      this.dirtyFrom = Math.min(this.dirtyFrom, from);
    }
    return prev.index + entries.length;
  }

  private truncateFrom(index: number): void {
    if (index >= this.offset) {
      this.unstable.length = index - this.offset;
    } else {
      this.unstable = [];
      this.offset = index; // the stored entries from here on are hidden until rewritten
      this.recent = this.recent.filter((e) => e.index < index);
    }
  }

  hasUnpersisted(): boolean {
    return this.dirtyFrom !== Infinity;
  }

  /** What the adapter must store now (drop from `from`, then write `entries`), or null; marks it handed out. */
  takeUnpersisted(): { from: number; entries: Entry[] } | null {
    if (this.dirtyFrom === Infinity) return null;
    const from = this.dirtyFrom;
    this.dirtyFrom = Infinity;
    return { from, entries: this.unstable.slice(Math.max(0, from - this.offset)) };
  }

  /** The adapter stored everything up to `upTo`; entries changed since are still waiting. */
  stableTo(upTo: LogPosition): void {
    if (upTo.index < this.offset || this.epochAt(upTo.index) !== upTo.epoch) return;
    if (this.dirtyFrom <= upTo.index) return; // rewritten after that write was handed out: the next one covers it
    const stored = this.unstable.slice(0, upTo.index - this.offset + 1);
    this.unstable = this.unstable.slice(stored.length);
    this.offset = upTo.index + 1;
    const contiguous = this.recent.length === 0 || this.recent[this.recent.length - 1].index + 1 === stored[0]?.index;
    this.recent = contiguous ? this.recent.concat(stored) : stored;
    this.trimRecent();
  }

  /** Keeps only what is not applied yet, and not too much of it, and the last one stored (the rest is read from disk when needed). */
  private trimRecent(): void {
    let drop = 0;
    while (drop < this.recent.length - 1 && (this.recent[drop].index <= this.applied || this.recent.length - drop > MAX_RECENT)) drop++;
    if (drop > 0) this.recent = this.recent.slice(drop);
  }

  /** Committed entries on disk here that were not handed out yet, up to `maxBytes`; marks them applied. */
  takeCommitted(maxCount: number, maxBytes: number, sizeOf: (e: Entry) => number): Entry[] {
    const upTo = Math.min(this.commit, this.stableIndex());
    if (upTo <= this.applied) return [];
    const out = this.slice(this.applied + 1, upTo, maxCount, maxBytes, sizeOf);
    if (out.length > 0) this.applied = out[out.length - 1].index;
    this.trimRecent();
    return out;
  }

  hasCommittedToApply(): boolean {
    return Math.min(this.commit, this.stableIndex()) > this.applied;
  }
}
