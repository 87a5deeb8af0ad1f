/** What a heartbeat says about its sender that the rooms must hear of. */
export type PeerNews = 'restarted' | 'up' | null;

/**
 * The node-level failure detector, like production's: one heartbeat stream per pair of nodes, not
 * per room. A peer silent for `silence` steps is down; heard again it is up; heard with another
 * boot id it restarted (and is up). Every peer is presumed up at boot.
 */
export class FailureDetector {
  private readonly lastHeard = new Map<string, number>();
  private readonly boots = new Map<string, string>();
  private readonly downPeers = new Set<string>();

  constructor(
    peers: readonly string[],
    now: number,
    private readonly silence: number,
  ) {
    for (const p of peers) this.lastHeard.set(p, now);
  }

  get down(): ReadonlySet<string> {
    return this.downPeers;
  }

  heard(peer: string, boot: string, now: number): PeerNews {
    this.lastHeard.set(peer, now);
    const known = this.boots.get(peer);
    this.boots.set(peer, boot);
    if (known !== undefined && known !== boot) {
      this.downPeers.delete(peer);
      return 'restarted';
    }
    return this.downPeers.delete(peer) ? 'up' : null;
  }

  /** Peers that just went silent for too long. */
  sweep(now: number): string[] {
    const gone: string[] = [];
    for (const [peer, at] of this.lastHeard) {
      if (!this.downPeers.has(peer) && now - at >= this.silence) {
        this.downPeers.add(peer);
        gone.push(peer);
      }
    }
    return gone;
  }
}
