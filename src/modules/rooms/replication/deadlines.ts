/**
 * Things that must end by a time (a client waiting for its entry to commit), checked by one
 * timer while any are open instead of one timer each.
 */
export class Deadlines {
  private readonly open = new Map<number, { at: number; expire: () => void }>();
  private next = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly now: () => number,
    private readonly sweepMs = 100,
  ) {}

  /** Calls `expire` at `at` unless the returned cancel runs first. */
  add(at: number, expire: () => void): () => void {
    const id = this.next++;
    this.open.set(id, { at, expire });
    this.timer ??= setInterval(() => this.sweep(), this.sweepMs);
    return () => void this.open.delete(id);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const all = [...this.open.values()];
    this.open.clear();
    for (const d of all) d.expire();
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, d] of this.open) {
      if (now < d.at) continue;
      this.open.delete(id);
      d.expire();
    }
    if (this.open.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
