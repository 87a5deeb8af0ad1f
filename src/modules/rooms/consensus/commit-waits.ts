import type { Entry } from './log-entry';

/** How a wait for one entry ended: committed where it was written, or not (its host lost the room, or another entry won its place). */
export type CommitOutcome = { committed: true; entry: Entry } | { committed: false; reason: 'replaced' | 'host-lost' | 'not-stored' };

interface Wait {
  index: number;
  epoch: number;
  done: (outcome: CommitOutcome) => void;
}

/**
 * A host's clients waiting for their entries to commit. A client is told only once its entry is
 * committed at the (index, epoch) the host wrote it; a retry of a message already written waits
 * for that same entry, never for a new one. Pure: callbacks, no promises, no timers.
 *
 * The waits are an array in index order, not a Map: entries commit in index order, so they leave
 * from the front. (A Map churned once per message keeps each replaced hash table linked to the
 * next one; under a burst V8 then carried every waiting client's message into the old generation,
 * a third more memory for a single node's burst.)
 */
export class CommitWaits {
  private waits: Wait[] = [];

  get size(): number {
    return this.waits.length;
  }

  wait(index: number, epoch: number, done: (outcome: CommitOutcome) => void): void {
    let at = this.waits.length;
    while (at > 0 && this.waits[at - 1].index > index) at--; // usually the newest entry: appended
    this.waits.splice(at, 0, { index, epoch, done });
  }

  /** Entries just committed (in order): their waits end, told whether the entry they wait for is the one committed. */
  committed(entries: readonly Entry[]): void {
    if (entries.length === 0 || this.waits.length === 0) return;
    const last = entries[entries.length - 1].index;
    let n = 0;
    while (n < this.waits.length && this.waits[n].index <= last) n++;
    if (n === 0) return;
    const ended = this.waits.splice(0, n);
    const first = entries[0].index;
    for (const w of ended) {
      const entry = w.index >= first ? entries[w.index - first] : undefined;
      // a wait below this batch was for an entry applied before it was registered: not the one it knew
      w.done(entry && w.epoch === entry.epoch ? { committed: true, entry } : { committed: false, reason: 'replaced' });
    }
  }

  /**
   * This node stopped hosting the room (or could not store its entries): nobody here can say when,
   * or whether, they commit; clients retry. Waits `keep` picks (entries already on disk when a
   * later write failed) are handed back instead, to wait on in the room's reloaded core.
   */
  hostLost(reason: 'host-lost' | 'not-stored' = 'host-lost', keep: (index: number, epoch: number) => boolean = () => false): CommitWaits {
    const all = this.waits;
    this.waits = [];
    const kept = new CommitWaits();
    for (const w of all) {
      if (keep(w.index, w.epoch)) kept.wait(w.index, w.epoch, w.done);
      else w.done({ committed: false, reason });
    }
    return kept;
  }

  /** Takes over `other`'s waits (a room's core reloaded from disk). */
  adopt(other: CommitWaits): void {
    for (const w of other.waits) this.wait(w.index, w.epoch, w.done);
    other.waits = [];
  }
}
