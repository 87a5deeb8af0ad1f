/**
 * One timer for many deadlines: armed for the earliest one asked for, never more than one pending.
 * Owners ask again after each wake for what is due next, so an idle node sleeps until something
 * is actually due instead of polling on fixed intervals.
 */
export class WakeTimer {
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  /** `onWake(lateMs)`: how much later than asked the wake came (the event loop stood still that long). */
  constructor(
    private readonly now: () => number,
    private readonly onWake: (lateMs: number) => void,
  ) {}

  /** Wake at `at` (same clock as `now`) unless a wake at or before it is already pending. */
  wakeBy(at: number): void {
    if (!(at < this.armedFor)) return;
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - this.now()));
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private fire(): void {
    const late = Math.max(0, this.now() - this.armedFor);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    this.onWake(late);
  }
}
