import type { Packet } from './packets';
import type { SimRandom } from './sim-random';
import type { SimStats } from './sim-stats';

/** Per-message faults of one run (probabilities per packet), drawn from its seed. */
export interface LinkFaults {
  drop: number;
  duplicate: number;
  /** A packet held back long enough to arrive after many sent later. */
  longDelay: number;
  /** Ordinary latency is 1..maxDelay steps. */
  maxDelay: number;
  /** Extra latency of every packet to or from a node (a far-away node lags behind the others). */
  slowNodes: Readonly<Record<string, number>>;
}

/** Who sent a packet, and how long it stays in the sending machine (a crash meanwhile loses it). */
export interface Sender {
  readonly boot: number;
  readonly leavesAfter: number;
}

export const CLEAN_LINKS: LinkFaults = { drop: 0, duplicate: 0, longDelay: 0, maxDelay: 3, slowNodes: {} };

/**
 * The simulated network between nodes (and between clients and nodes): every packet is dropped,
 * duplicated, delayed or reordered by the seed, and node-to-node links can be cut (both ways for a
 * partition, one way for an asymmetric fault). A cut also loses what was on its way.
 */
export class SimNetwork {
  links: LinkFaults = CLEAN_LINKS;
  /** `from>to` -> how many faults cut that link (each heals only its own). */
  private readonly cuts = new Map<string, number>();
  private nextCut = 0;
  private readonly byCut = new Map<number, string[]>();

  constructor(
    private readonly rng: SimRandom,
    private readonly nodes: readonly string[],
    private readonly stats: SimStats,
    private readonly schedule: (delay: number, p: Packet, sender: Sender | null) => void,
    private readonly note: (line: string) => void,
  ) {}

  /** `boot`: the sending process, whose packets still on their way out of the machine die with it. */
  send(p: Packet, boot: number | null = null): void {
    this.stats.messages++;
    if (this.rng.chance(this.links.drop)) {
      this.stats.faults.drop++;
      return this.note(`drop ${p.kind} ${p.from}>${p.to}`);
    }
    const copies = this.rng.chance(this.links.duplicate) ? 2 : 1;
    if (copies === 2) this.stats.faults.duplicate++;
    const leaves = this.rng.int(0, 2);
    const sender = boot === null ? null : { boot, leavesAfter: leaves };
    for (let c = 0; c < copies; c++) {
      let delay = leaves + this.rng.int(1, this.links.maxDelay) + (this.links.slowNodes[p.from] ?? 0) + (this.links.slowNodes[p.to] ?? 0);
      if (this.rng.chance(this.links.longDelay)) {
        this.stats.faults.reorder++;
        delay += this.rng.int(10, 200);
      }
      this.schedule(delay, p, sender);
    }
  }

  /** Whether a packet from `from` to `to` is lost on a cut link (clients are never cut off). */
  blocked(from: string, to: string): boolean {
    return this.cuts.size > 0 && this.cuts.has(`${from}>${to}`);
  }

  get partitioned(): boolean {
    return this.cuts.size > 0;
  }

  /** Nodes in different groups stop hearing each other (both ways) until heal(the returned cut). */
  partition(groups: readonly (readonly string[])[]): number {
    const links: string[] = [];
    for (const a of groups) for (const b of groups) if (a !== b) for (const x of a) for (const y of b) links.push(`${x}>${y}`);
    this.note(`partition ${groups.map((g) => g.join(',')).join(' | ')}`);
    return this.cut(links);
  }

  /** `to` stops hearing `from` (`from` still hears `to`) until heal(the returned cut). */
  cutOneWay(from: string, to: string): number {
    this.note(`cut ${from}>${to}`);
    return this.cut([`${from}>${to}`]);
  }

  /** Undoes one cut (the links other cuts hold stay cut). */
  heal(cut: number): void {
    const links = this.byCut.get(cut);
    if (!links) return;
    this.byCut.delete(cut);
    for (const l of links) {
      const n = this.cuts.get(l)! - 1;
      if (n === 0) this.cuts.delete(l);
      else this.cuts.set(l, n);
    }
    this.note(`heal cut ${cut}`);
  }

  healAll(): void {
    this.cuts.clear();
    this.byCut.clear();
    this.note('heal all');
  }

  private cut(links: string[]): number {
    const id = ++this.nextCut;
    this.byCut.set(id, links);
    for (const l of links) this.cuts.set(l, (this.cuts.get(l) ?? 0) + 1);
    return id;
  }

  /** Nodes that can reach each other both ways, starting from `from`. */
  reachableFrom(from: string, among: readonly string[] = this.nodes): string[] {
    const seen = new Set([from]);
    const todo = [from];
    while (todo.length > 0) {
      const x = todo.pop()!;
      for (const y of among) if (!seen.has(y) && !this.blocked(x, y) && !this.blocked(y, x)) (seen.add(y), todo.push(y));
    }
    return [...seen];
  }
}
