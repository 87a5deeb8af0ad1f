interface Pending<I, R> {
  item: I;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export interface CoalescerLimits<I> {
  maxItems?: number;
  /** With `sizeOf`: a batch holds at most this many bytes (a single item always goes). */
  maxBytes?: number;
  sizeOf?: (item: I) => number;
}

/**
 * Turns many concurrent single calls into few batched ones: the first item goes out at once;
 * items that arrive while a call is in flight wait and go together in the next call. Order is
 * kept, and each caller gets its own result (or the call's error).
 */
export class CallCoalescer<I, R> {
  private waiting: Pending<I, R>[] = [];
  private inFlight = false;

  constructor(
    private readonly sendBatch: (items: I[]) => Promise<R[]>,
    private readonly limits: CoalescerLimits<I> = {},
  ) {}

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.inFlight) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.inFlight = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.batchLength());
      try {
        const results = await this.sendBatch(batch.map((p) => p.item));
        if (!Array.isArray(results) || results.length !== batch.length) throw new Error(`batch of ${batch.length} got ${Array.isArray(results) ? results.length : 'no'} results`);
        batch.forEach((p, i) => p.resolve(results[i]));
      } catch (e) {
        for (const p of batch) p.reject(e);
      }
    }
    this.inFlight = false;
  }

  /** How many waiting items go in the next call: up to the count and byte limits, at least one. */
  private batchLength(): number {
    const { maxItems = 256, maxBytes = Infinity, sizeOf } = this.limits;
    const n = Math.min(maxItems, this.waiting.length);
    if (!sizeOf) return n;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      bytes += sizeOf(this.waiting[i].item);
      if (i > 0 && bytes > maxBytes) return i;
    }
    return n;
  }
}
