/** A change no majority stored in time (or can store any more): the client is told to retry. */
export class NoQuorumError extends Error {}

/**
 * One change waiting for a majority: resolved once `needed` peers have stored it, rejected with
 * NoQuorumError when too many peers dropped it to get there, or at its deadline. Peers ack in
 * their outbox's order, so changes of one host reach their quorum in the order they were made.
 */
export class QuorumAck {
  readonly promise: Promise<void>;
  private acks = 0;
  private lost = 0;
  private settled = false;
  private resolve!: () => void;
  private reject!: (e: Error) => void;

  constructor(
    private readonly needed: number,
    private readonly voters: number,
    readonly deadline: number,
  ) {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.promise.catch(() => undefined); // a waiter that gave up must not become an unhandled rejection
    if (needed <= 0) this.settle();
  }

  get done(): boolean {
    return this.settled;
  }

  /** One more peer has the change on disk. */
  ack(): void {
    if (this.settled) return;
    if (++this.acks >= this.needed) this.settle();
  }

  /** One peer will not get the change (its outbox was dropped or discarded). */
  lose(reason: string): void {
    if (this.settled) return;
    if (this.voters - ++this.lost < this.needed) this.settle(new NoQuorumError(`not stored by a majority: ${reason}`));
  }

  expire(now: number): boolean {
    if (!this.settled && now >= this.deadline) this.settle(new NoQuorumError('not stored by a majority in time'));
    return this.settled;
  }

  private settle(error?: Error): void {
    this.settled = true;
    if (error) this.reject(error);
    else this.resolve();
  }
}

/** The open QuorumAcks, expired by one timer while any are open (not one timer per change). */
export class QuorumWaits {
  private readonly open = new Set<QuorumAck>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly now: () => number,
    private readonly sweepMs = 100,
  ) {}

  track(ack: QuorumAck): QuorumAck {
    if (ack.done) return ack;
    this.open.add(ack);
    this.timer ??= setInterval(() => this.sweep(), this.sweepMs);
    return ack;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const ack of this.open) ack.expire(Number.MAX_SAFE_INTEGER);
    this.open.clear();
  }

  private sweep(): void {
    const now = this.now();
    for (const ack of this.open) if (ack.expire(now)) this.open.delete(ack);
    if (this.open.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
