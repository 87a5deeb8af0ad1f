/**
 * A token bucket: up to `burst` requests at once, refilled at `perSecond`. Time comes from the
 * caller, so specs need no clock. A bucket with rate or burst 0 is off (always admits).
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  get enabled(): boolean {
    return this.perSecond > 0 && this.burst > 0;
  }

  /** Whether the bucket has refilled to its burst by `now` (it then behaves exactly as a new one). */
  isFull(now: number): boolean {
    return !this.enabled || this.tokens + ((now - this.updatedAt) / 1000) * this.perSecond >= this.burst;
  }

  /** Takes one token; returns 0 when admitted, else the milliseconds until a token is back. */
  take(now: number): number {
    if (!this.enabled) return 0;
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.perSecond);
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) / this.perSecond) * 1000));
  }
}
