import { Injectable } from '@nestjs/common';

/**
 * Time behind an injectable, so services and their specs never touch Date or performance directly.
 * Two sources: `now()` is the wall clock, for timestamps people see and for what crosses to other
 * nodes; `monotonic()` only ever moves forward at the rate of real time, for every duration
 * (timeouts, deadlines, suspicion, rate limits), so a stepped system clock changes none of them.
 */
@Injectable()
export class Clock {
  /** Wall clock, ms since 1970: may jump either way when the system clock is set. */
  now(): number {
    return Date.now();
  }
  /** Monotonic ms from an arbitrary origin (this process's start): only differences mean anything. */
  monotonic(): number {
    return performance.now();
  }
  /** ISO-8601 UTC timestamp, e.g. 2026-11-29T10:40:17.473Z. */
  iso(ms: number = this.now()): string {
    return new Date(ms).toISOString();
  }
}
