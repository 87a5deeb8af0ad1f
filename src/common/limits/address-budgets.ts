import { TokenBucket } from './token-bucket';

/** How often buckets that have refilled are dropped: they are then no different from new ones. */
const SWEEP_EVERY_MS = 10_000;

/**
 * One token bucket per client address, shared by all of that address's connections, so opening
 * more connections does not buy more throughput. Memory stays bounded by the addresses active
 * within a bucket's refill time: a full bucket is forgotten (and a new, full one made if needed).
 * Time (monotonic) comes from the caller. Rate or burst 0: off.
 */
export class AddressBudgets {
  private readonly buckets = new Map<string, TokenBucket>();
  private lastSweep = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  get enabled(): boolean {
    return this.perSecond > 0 && this.burst > 0;
  }

  /** Addresses with a bucket that has not refilled yet. */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes one token for `address`; 0 when admitted, else the milliseconds until one is back. */
  take(address: string, now: number): number {
    if (!this.enabled) return 0;
    this.sweep(now);
    let bucket = this.buckets.get(address);
    if (!bucket) this.buckets.set(address, (bucket = new TokenBucket(this.perSecond, this.burst, now)));
    return bucket.take(now);
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    for (const [address, bucket] of this.buckets) if (bucket.isFull(now)) this.buckets.delete(address);
  }
}
