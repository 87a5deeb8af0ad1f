/** Health of one peer as seen by this node. `unknown` until the first heartbeat answers. */
export type PeerStatus = 'unknown' | 'healthy' | 'degraded' | 'failed';

export type PeerTransition = 'reachable' | 'failed' | 'restarted' | null;

/**
 * Heartbeat bookkeeping for one peer: consecutive misses move it healthy -> degraded -> failed
 * (at maxFailures); any answer makes it healthy again and resets the count (no sticky FAILED).
 */
export class PeerHealth {
  status: PeerStatus = 'unknown';
  consecutiveFailures = 0;
  lastSeen: number | null = null;
  bootId: string | null = null;
  /** The WebSocket URL the peer advertised in its last heartbeat (CLIENT_URL), for web clients. */
  clientUrl: string | null = null;

  constructor(
    readonly nodeId: string,
    private readonly maxFailures: number,
  ) {}

  get isFailed(): boolean {
    return this.status === 'failed';
  }

  /** The peer's boot id in an answer; true when it changed (the peer restarted). Probes and heartbeats both report it. */
  noteBoot(bootId: string): boolean {
    const restarted = this.bootId !== null && bootId !== this.bootId;
    this.bootId = bootId;
    return restarted;
  }

  /** Records a heartbeat answer; `reachable` when the peer was not healthy (restarts are noteBoot's). */
  success(now: number, bootId?: string, clientUrl?: string): PeerTransition[] {
    const transitions: PeerTransition[] = [];
    const wasDown = this.status === 'unknown' || this.status === 'failed';
    this.status = 'healthy';
    this.consecutiveFailures = 0;
    this.lastSeen = now;
    if (bootId) this.bootId = bootId;
    if (clientUrl !== undefined) this.clientUrl = clientUrl || null;
    if (wasDown) transitions.push('reachable');
    return transitions;
  }

  /** Records a miss; returns `failed` on the miss that crosses the threshold. */
  failure(): PeerTransition {
    this.consecutiveFailures++;
    if (this.consecutiveFailures >= this.maxFailures) {
      const crossed = this.status !== 'failed';
      this.status = 'failed';
      return crossed ? 'failed' : null;
    }
    if (this.status !== 'unknown') this.status = 'degraded';
    return null;
  }

  toJSON() {
    return { node_id: this.nodeId, status: this.status, consecutive_failures: this.consecutiveFailures, last_seen: this.lastSeen, client_url: this.clientUrl };
  }
}
