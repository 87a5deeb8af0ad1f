// The clock a session runs on (injectable, so tests drive time), and one-shot timers kept per key.

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export function timersFrom(opts: {
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
}): Timers {
  const set = opts.setTimeout ?? ((fn, ms) => setTimeout(fn, ms));
  const clear = opts.clearTimeout ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  return { set: (fn, ms) => set(fn, ms), clear: (h) => clear(h) };
}

/** At most one pending timer per key (e.g. one gap repair per room). */
export class KeyedTimers {
  private readonly timers: Timers;
  private readonly handles = new Map<string, unknown>();

  constructor(timers: Timers) {
    this.timers = timers;
  }

  /** Runs `fn` after `ms`, unless a timer for `key` is already pending. */
  schedule(key: string, ms: number, fn: () => void): void {
    if (this.handles.has(key)) return;
    this.handles.set(
      key,
      this.timers.set(() => {
        this.handles.delete(key);
        fn();
      }, ms),
    );
  }

  /** True while a timer for `key` is pending. */
  has(key: string): boolean {
    return this.handles.has(key);
  }

  cancel(key: string): void {
    const t = this.handles.get(key);
    if (t !== undefined) this.timers.clear(t);
    this.handles.delete(key);
  }

  cancelAll(): void {
    for (const t of this.handles.values()) this.timers.clear(t);
    this.handles.clear();
  }
}
