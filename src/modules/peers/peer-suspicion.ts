/**
 * Whether one peer is suspected down for failover: silent (no probe or heartbeat answered) for
 * FAILOVER_TIMEOUT. Boot time counts as an answer, so a peer that never answers is suspected too.
 */
export class PeerSuspicion {
  suspected = false;

  constructor(private lastAnswer: number) {}

  /** Records an answer; true when that ends a suspicion. */
  answered(now: number): boolean {
    this.lastAnswer = now;
    if (!this.suspected) return false;
    this.suspected = false;
    return true;
  }

  /** This node stood still for `ms`: that time is not the peer's silence. */
  forgive(ms: number, now: number): void {
    this.lastAnswer = Math.min(now, this.lastAnswer + ms);
  }

  /** When the silence reaches `timeoutMs` (null while suspected: nothing more to wait for). */
  deadline(timeoutMs: number): number | null {
    return this.suspected ? null : this.lastAnswer + timeoutMs;
  }

  /** The silence in ms when it has just crossed `timeoutMs` (the peer is suspected from now on); null otherwise. */
  silentFor(now: number, timeoutMs: number): number | null {
    if (this.suspected || now - this.lastAnswer < timeoutMs) return null;
    this.suspected = true;
    return now - this.lastAnswer;
  }
}
