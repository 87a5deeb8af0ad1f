import type { Entry, HardState } from '../../src/modules/rooms/consensus/log-entry';
import { MemoryStableLog } from '../../src/testing/memory-stable-log';

const fingerprints = new WeakMap<Entry, number>();

function hashString(s: string, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** One number for everything an entry says: two entries with equal fingerprints are the same entry. */
export function fingerprint(e: Entry): number {
  let f = fingerprints.get(e);
  if (f === undefined) {
    f = hashString(`${e.index}|${e.epoch}|${e.kind}|${e.sequence}|${e.clientKey}|${JSON.stringify(e.data ?? null)}`, 0x811c9dc5);
    fingerprints.set(e, f);
  }
  return f;
}

/** The hash of a log prefix extended by one entry: equal chains at an index mean equal logs up to it. */
export function chainWith(prefix: number, e: Entry): number {
  let h = Math.imul(prefix ^ fingerprint(e), 0x5bd1e995);
  h ^= h >>> 13;
  return Math.imul(h, 0x85ebca6b) >>> 0;
}

/**
 * One room on one node's disk: the stable log and hard state (MemoryStableLog), the applied index,
 * the host this node last knew (to route and to campaign again after a restart), and the chain of
 * prefix hashes the log-matching checker compares.
 */
export class RoomDisk extends MemoryStableLog {
  lastKnownHost: string | null = null;
  /** chain[i]: hash of entries 1..i. */
  readonly chain: number[] = [0];

  constructor(
    learner: boolean,
    /** The room's birth certificate: every node's disk as its founder knew them when it founded the room. */
    readonly birth: Readonly<Record<string, string>>,
  ) {
    super();
    this.hardState = { ...this.hardState, learner };
  }

  override write(hardState: HardState | null, persist: { from: number; entries: readonly Entry[] } | null): void {
    super.write(hardState, persist);
    if (!persist) return;
    this.chain.length = Math.min(this.chain.length, persist.from);
    for (let i = this.chain.length; i <= this.lastIndex(); i++) this.chain.push(chainWith(this.chain[i - 1], this.entry(i)!));
  }
}

/** Whether a fresh disk is still finding out if the cluster knew this node with another disk. */
export type RejoinDecision = 'undecided' | 'clean' | 'rejoining';

/** Everything a node keeps across a crash. A wipe replaces it with a new, empty one (new id). */
export class NodeDisk {
  readonly rooms = new Map<string, RoomDisk>();
  /**
   * Each peer's disk as last heard, and the one before it: a peer back with a fresh disk is told
   * the one before, so it learns it was known with another disk even if its own heartbeat got here first.
   */
  readonly peerDisks = new Map<string, { current: string; previous: string | null }>();
  /** Each peer's boot id as last heard (the failure detector's memory across restarts). */
  readonly peerBoots = new Map<string, number>();
  rejoin: RejoinDecision = 'undecided';

  constructor(readonly id: string) {}

  /** Every node's disk as this node knows it now (its own included): a new room's birth certificate. */
  knownDisks(self: string): Record<string, string> {
    const out: Record<string, string> = { [self]: this.id };
    for (const [peer, d] of this.peerDisks) out[peer] = d.current;
    return out;
  }

  /** What this node tells `peer` it remembers of it. */
  rememberedFor(peer: string): string | null {
    const known = this.peerDisks.get(peer);
    return known ? (known.previous ?? known.current) : null;
  }

  /**
   * A room message from `peer`'s disk `disk` is taken only from the disk last heard in its
   * heartbeat, or from the first disk ever heard of it (production: NodeDisk.refusal).
   */
  takesRoomMessage(peer: string, disk: string): boolean {
    const known = this.peerDisks.get(peer);
    if (!known) this.heardDisk(peer, disk);
    return !known || known.current === disk;
  }

  heardDisk(peer: string, disk: string): void {
    const known = this.peerDisks.get(peer);
    if (!known) this.peerDisks.set(peer, { current: disk, previous: null });
    else if (known.current !== disk) this.peerDisks.set(peer, { current: disk, previous: known.current });
  }
}
