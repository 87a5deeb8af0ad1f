interface Pending<I, R> {
  item: I;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

const MAX_BATCH = 256;

/**
 * Turns many concurrent single calls into few batched ones: the first item goes out at once;
 * items that arrive while a call is in flight wait and go together in the next call. Order is
 * kept, and each caller gets its own result (or the call's error).
 */
export class CallCoalescer<I, R> {
  private waiting: Pending<I, R>[] = [];
  private inFlight = false;

  constructor(private readonly sendBatch: (items: I[]) => Promise<R[]>) {}

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.inFlight) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.inFlight = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, MAX_BATCH);
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
}
