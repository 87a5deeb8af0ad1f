/**
 * The host's view of one follower: what it is known to hold on disk (`match`), what to send it
 * next, and the appends on their way. `probing`: one append at a time until it says where its log
 * stands (after a refusal, a restart, or at the start of an epoch).
 */
export class Progress {
  match = 0;
  next: number;
  probing = true;
  /**
   * The appends on their way, each by the last index it carries. An answer frees those it covers,
   * and only those: a duplicated or late answer frees nothing and sends nothing (counting answers
   * instead let every duplicate trigger one more append, and a duplicating network grew the
   * traffic without end).
   */
  private onTheWay: number[] = [];
  /** Tick of the last append sent (resent when unanswered for too long). */
  lastSent = -Infinity;
  /** The commit index the follower was last sent. */
  sentCommit = 0;
  /** The highest `hostStored` it was sent (see Append). */
  sentHostStored = 0;
  /** It answered as a learner: its answers do not count yet. */
  learner = false;
  /** Its disk identity as last seen. */
  disk: string | null = null;
  /** A promote entry for it is in the log at this index (0: none yet). */
  promotedAt = 0;

  constructor(lastIndex: number) {
    this.next = lastIndex + 1;
  }

  get inflight(): number {
    return this.onTheWay.length;
  }

  /** An append carrying entries up to `lastIndex` (its prev, when empty) went out. */
  sent(lastIndex: number): void {
    this.onTheWay.push(lastIndex);
  }

  /** Forget what it held (it restarted, or came back with another disk) and find out again. */
  reset(lastIndex: number): void {
    this.match = 0;
    this.next = lastIndex + 1;
    this.probing = true;
    this.onTheWay = [];
    this.sentCommit = 0;
    this.sentHostStored = 0;
    this.promotedAt = 0;
  }

  /** It holds the host's log up to `match`. */
  acknowledged(match: number): void {
    this.match = Math.max(this.match, match);
    this.next = Math.max(this.next, this.match + 1);
    this.onTheWay = this.onTheWay.filter((last) => last > match);
    this.probing = false;
    if (this.onTheWay.length === 0) this.next = this.match + 1; // nothing else on its way: go on right after what it holds
  }

  /**
   * It refused an append, or appends went unanswered: try again from `next` (never below what it
   * is known to hold). What was sent may not have arrived, the commit index included: send that again too.
   */
  backTo(next: number): void {
    this.next = Math.max(this.match + 1, next);
    this.onTheWay = [];
    this.probing = true;
    this.sentCommit = 0;
    this.sentHostStored = 0;
  }

  canSend(maxInflight: number): boolean {
    return this.inflight < (this.probing ? 1 : maxInflight);
  }
}
