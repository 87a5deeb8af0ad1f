/** What a packet says about its sender: news the rooms must hear of, or that it is a leftover of an earlier boot. */
export type PeerNews = 'restarted' | 'up' | 'stale' | null;

/**
 * The node-level failure detector, like production's: one heartbeat stream per pair of nodes, not
 * per room. A peer silent for `silence` steps is down; heard again it is up; heard with another
 * boot it restarted (and is up); a packet from an earlier boot is a leftover to ignore. Boots are
 * numbered in the order they happen (a boot timestamp in production). Every peer is presumed up at boot.
 */
export class FailureDetector {
  private readonly lastHeard = new Map<string, number>();
  private readonly downPeers = new Set<string>();

  constructor(
    peers: readonly string[],
    now: number,
    private readonly silence: number,
    /**
     * Each peer's boot id as last heard, kept on disk: a peer that restarted while this node was
     * down is still seen to have restarted (its rooms' followers must not wait for it as their host).
     */
    private readonly boots: Map<string, number>,
  ) {
    for (const p of peers) this.lastHeard.set(p, now);
  }

  get down(): ReadonlySet<string> {
    return this.downPeers;
  }

  heard(peer: string, boot: number, now: number): PeerNews {
    const known = this.boots.get(peer);
    if (known !== undefined && boot < known) return 'stale';
    this.lastHeard.set(peer, now);
    this.boots.set(peer, boot);
    if (known !== undefined && known !== boot) {
      this.downPeers.delete(peer);
      return 'restarted';
    }
    return this.downPeers.delete(peer) ? 'up' : null;
  }

  /** A packet from `peer`'s boot `boot` is a leftover of an earlier one, or news of a later one. */
  boot(peer: string, boot: number): 'stale' | 'later' | 'current' {
    const known = this.boots.get(peer);
    return known === undefined || boot === known ? 'current' : boot < known ? 'stale' : 'later';
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
