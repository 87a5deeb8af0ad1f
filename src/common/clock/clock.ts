import { Injectable } from '@nestjs/common';

/** Time source behind an injectable so services and their specs never touch Date directly. */
@Injectable()
export class Clock {
  now(): number {
    return Date.now();
  }
  /** ISO-8601 UTC timestamp, e.g. 2026-11-29T10:40:17.473Z. */
  iso(ms: number = this.now()): string {
    return new Date(ms).toISOString();
  }
}
