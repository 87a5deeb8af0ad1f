interface Deadline {
  at: number;
  /** null once cancelled or expired: a cancelled deadline holds nothing while it waits for its turn. */
  expire: (() => void) | null;
}

/**
 * Things that must end by a time (a client waiting for its entry to commit), checked by one
 * timer while any are open instead of one timer each.
 *
 * An array in time order, not a Map: deadlines are nearly always added in time order (one timeout,
 * a monotonic clock), so they leave from the front. (A Map churned once per message links each
 * replaced hash table to the next; under a burst V8 then moved every waiting client's message into
 * the old generation.)
 */
export class Deadlines {
  private queue: Deadline[] = [];
  private open = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly now: () => number,
    private readonly sweepMs = 100,
  ) {}

  /** Calls `expire` at `at` unless the returned cancel runs first. */
  add(at: number, expire: () => void): () => void {
    const deadline: Deadline = { at, expire };
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1].at > at) i--;
    this.queue.splice(i, 0, deadline);
    this.open++;
    this.timer ??= setInterval(() => this.sweep(), this.sweepMs);
    return () => {
      if (!deadline.expire) return;
      deadline.expire = null;
      if (--this.open === 0) this.stop();
    };
  }

  close(): void {
    const all = this.queue;
    this.stop();
    for (const d of all) {
      const expire = d.expire;
      d.expire = null;
      expire?.();
    }
  }

  private sweep(): void {
    const now = this.now();
    let n = 0;
    while (n < this.queue.length && this.queue[n].at <= now) n++;
    for (const d of this.queue.splice(0, n)) this.fire(d);
    if (this.open === 0) this.stop();
  }

  private fire(d: Deadline): void {
    const expire = d.expire;
    if (!expire) return;
    d.expire = null;
    this.open--;
    expire();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.queue = [];
    this.open = 0;
  }
}
