import type { Entry } from './log-entry';

/** How a wait for one entry ended: committed where it was written, or not (its host lost the room, or another entry won its place). */
export type CommitOutcome = { committed: true; entry: Entry } | { committed: false; reason: 'replaced' | 'host-lost' | 'not-stored' };

interface Wait {
  epoch: number;
  done: (outcome: CommitOutcome) => void;
}

/**
 * A host's clients waiting for their entries to commit. A client is told only once its entry is
 * committed at the (index, epoch) the host wrote it; a retry of a message already written waits
 * for that same entry, never for a new one. Pure: callbacks, no promises, no timers.
 */
export class CommitWaits {
  private readonly byIndex = new Map<number, Wait[]>();

  get size(): number {
    return this.byIndex.size;
  }

  wait(index: number, epoch: number, done: (outcome: CommitOutcome) => void): void {
    const list = this.byIndex.get(index);
    if (list) list.push({ epoch, done });
    else this.byIndex.set(index, [{ epoch, done }]);
  }

  /** Entries just committed (in order): their waits end, told whether the entry they wait for is the one committed. */
  committed(entries: readonly Entry[]): void {
    for (const entry of entries) {
      const list = this.byIndex.get(entry.index);
      if (!list) continue;
      this.byIndex.delete(entry.index);
      for (const w of list) w.done(w.epoch === entry.epoch ? { committed: true, entry } : { committed: false, reason: 'replaced' });
    }
  }

  /** This node stopped hosting the room (or could not store its entries): nobody here can say when, or whether, they commit; clients retry. */
  hostLost(reason: 'host-lost' | 'not-stored' = 'host-lost'): void {
    const all = [...this.byIndex.values()].flat();
    this.byIndex.clear();
    for (const w of all) w.done({ committed: false, reason });
  }
}
