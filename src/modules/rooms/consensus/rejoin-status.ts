/**
 * Whether this node's disk is new to a cluster that knew it with another one (it was wiped or
 * replaced). Such a node forgot the votes it gave and the entries it acknowledged, so it must be a
 * learner in every room until each room's host promotes it. Peers remember every node's disk
 * identity; a fresh disk asks them before it takes part in anything.
 */
export class RejoinStatus {
  private readonly answers = new Map<string, string>();

  constructor(
    /** The disk is new and has not decided yet (created in this run, or in one that stopped before it decided). */
    private readonly freshDisk: boolean,
    private readonly disk: string,
    private readonly peers: readonly string[],
  ) {}

  /**
   * `peer` remembers this node with `disk` (null: it never heard of it). Only an answer naming a
   * disk counts: another one (rejoin), or this very one, which the peer knows by now, so from then
   * on it takes nothing from an earlier run of this node (the simulator's adapter drops a packet
   * from an older boot than the one last heard). "Never heard of it" came before the peer heard of
   * this disk: a message the old disk sent before the wipe can still reach the peer after it said
   * so, and be taken (seed 43932: a late append with hostStored made its entry committed on the
   * word of a disk that was gone, while this node, counted clean, could elect a host without it).
   * The peer names this disk in its next answer.
   */
  heard(peer: string, disk: string | null): void {
    if (this.peers.includes(peer) && disk !== null) this.answers.set(peer, disk);
  }

  /**
   * Undecided: a fresh disk takes part in nothing new until one peer names another disk for it
   * (it rejoins) or every peer names this one (it is clean). Fewer clean answers are not enough,
   * not even n - majority + 1 of them with five nodes, although every majority its old disk could
   * have voted in has a member among those: the vote or the acknowledgement of the old disk is
   * counted where it arrives, and a late one can still arrive at the one peer that has not named
   * this disk yet (a candidate that counts an old vote, while this disk votes for another at the
   * same epoch). Every peer that named this disk refuses the old disk's messages from then on.
   * So a brand-new cluster starts taking writes once all its nodes have heard from each other.
   */
  get decided(): boolean {
    if (!this.freshDisk || this.rejoining) return true;
    return this.peers.every((p) => this.answers.has(p));
  }

  /** A peer knew this node with another disk: every room it learns now starts as a learner. */
  get rejoining(): boolean {
    if (!this.freshDisk) return false;
    for (const d of this.answers.values()) if (d !== this.disk) return true;
    return false;
  }
}
