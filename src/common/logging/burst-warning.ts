import type { Logger } from '@nestjs/common';

const QUIET_MS = 10_000;

/**
 * One WARNING per burst of the same kind of refusal, not one per call: the first is logged at
 * once, later ones within the quiet period are counted and summed up in the next line.
 */
export class BurstWarning {
  private lastLoggedAt = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly now: () => number,
    private readonly quietMs = QUIET_MS,
  ) {}

  note(line: string): void {
    const now = this.now();
    if (now - this.lastLoggedAt < this.quietMs) {
      this.suppressed++;
      return;
    }
    const more = this.suppressed > 0 ? ` (and ${this.suppressed} more refusal(s) in the last ${Math.round((now - this.lastLoggedAt) / 1000)} s)` : '';
    this.logger.warn(`${line}${more}`);
    this.lastLoggedAt = now;
    this.suppressed = 0;
  }
}
