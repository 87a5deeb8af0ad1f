import type { Entry, HardState, StableLog } from '../modules/rooms/consensus/log-entry';
import { EMPTY_HARD_STATE } from '../modules/rooms/consensus/log-entry';

/** A room's log "on disk" for unit specs and the simulator: what survives a crash. */
export class MemoryStableLog implements StableLog {
  entriesOnDisk: Entry[] = [];
  hardState: HardState = EMPTY_HARD_STATE;
  applied = 0;

  lastIndex(): number {
    return this.entriesOnDisk.length;
  }
  entry(index: number): Entry | undefined {
    return this.entriesOnDisk[index - 1];
  }
  entries(from: number, to: number, maxBytes: number): Entry[] {
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = from; i <= to && i <= this.entriesOnDisk.length; i++) {
      const e = this.entriesOnDisk[i - 1];
      bytes += JSON.stringify(e.data ?? null).length + 40;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }
  findByClientKey(clientKey: string): Entry | undefined {
    for (let i = this.entriesOnDisk.length - 1; i >= 0; i--) if (this.entriesOnDisk[i].clientKey === clientKey) return this.entriesOnDisk[i];
    return undefined;
  }
  lastIndexWithEpochAtMost(atOrBelow: number, epoch: number): number {
    for (let i = Math.min(atOrBelow, this.entriesOnDisk.length); i >= 1; i--) if (this.entriesOnDisk[i - 1].epoch <= epoch) return i;
    return 0;
  }

  /** One write: drop from `from`, store `entries`, and the hard state, all at once. */
  write(hardState: HardState | null, persist: { from: number; entries: readonly Entry[] } | null): void {
    if (persist) {
      this.entriesOnDisk.length = Math.min(this.entriesOnDisk.length, persist.from - 1);
      for (const e of persist.entries) {
        if (e.index !== this.entriesOnDisk.length + 1) throw new Error(`gap on disk: ${e.index} after ${this.entriesOnDisk.length}`);
        this.entriesOnDisk.push(e);
      }
    }
    if (hardState) this.hardState = hardState;
  }
}
