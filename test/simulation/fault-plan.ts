import type { FaultBudget } from './fault-budget';
import type { SimNetwork, LinkFaults } from './sim-network';
import type { SimNode } from './sim-node';
import type { SimRandom } from './sim-random';
import type { SimStats } from './sim-stats';

export type FaultKind = 'crash' | 'wipe' | 'pause' | 'partition' | 'oneWayCut' | 'clusterCrash';

/** How one run misbehaves, drawn from its seed: some runs are calm, some are storms. */
export interface FaultProfile {
  /** Disks may be wiped; then at most a minority of the nodes is faulty at any time. */
  readonly amnesia: boolean;
  /** Mean ticks between two faults. */
  readonly every: number;
  readonly weights: Readonly<Record<FaultKind, number>>;
  readonly links: LinkFaults;
  /** Chance that one write takes much longer (a stalled disk). */
  readonly diskStall: number;
}

export function drawProfile(rng: SimRandom): FaultProfile {
  const amnesia = rng.chance(0.4);
  const w = () => rng.pick([0, 1, 2, 3]);
  const weights = { crash: w(), wipe: amnesia ? 1 + w() : 0, pause: w(), partition: w(), oneWayCut: w(), clusterCrash: amnesia ? 0 : rng.pick([0, 0, 1]) };
  if (Object.values(weights).every((x) => x === 0)) weights.crash = 1;
  return {
    amnesia,
    every: rng.int(6, 40),
    weights,
    links: { drop: rng.pick([0, 0.01, 0.05, 0.15]), duplicate: rng.pick([0, 0.02, 0.1]), longDelay: rng.pick([0, 0.01, 0.05]), maxDelay: rng.pick([2, 5, 10]) },
    diskStall: rng.pick([0, 0.01, 0.05]),
  };
}

export interface FaultWorld {
  readonly nodes: readonly SimNode[];
  readonly network: SimNetwork;
  readonly stats: SimStats;
  readonly budget: FaultBudget;
  note(line: string): void;
}

/**
 * Injects the run's faults tick by tick and undoes each after a while (restart, resume, heal),
 * keeping to the budget: with wiped disks about, at most a minority of nodes is faulty at once,
 * which is what Raft needs to lose nothing acknowledged. Without wipes anything goes: a node that
 * crashes keeps its disk, so even the whole cluster may crash at once.
 */
export class FaultPlan {
  private recoveries: { at: number; run: () => void }[] = [];

  constructor(
    private readonly world: FaultWorld,
    private readonly rng: SimRandom,
    readonly profile: FaultProfile,
  ) {}

  atTick(tick: number): void {
    const due = this.recoveries.filter((r) => r.at <= tick);
    if (due.length > 0) {
      this.recoveries = this.recoveries.filter((r) => r.at > tick);
      for (const r of due) r.run();
    }
    if (this.rng.chance(1 / this.profile.every)) this.inject(tick, this.pickKind());
  }

  /** The end of the faults: every cut healed, every node running. */
  healAll(): void {
    this.recoveries = [];
    this.world.network.heal();
    for (const n of this.world.nodes) {
      n.resume();
      n.start();
    }
  }

  private pickKind(): FaultKind {
    const entries = Object.entries(this.profile.weights) as [FaultKind, number][];
    let x = this.rng.int(1, entries.reduce((s, [, w]) => s + w, 0));
    for (const [kind, w] of entries) if ((x -= w) <= 0) return kind;
    return 'crash';
  }

  private later(at: number, run: () => void): void {
    this.recoveries.push({ at, run });
  }

  /** Nodes that may become faulty now without breaking the budget. */
  private allowed(nodes: readonly SimNode[]): SimNode[] {
    if (!this.profile.amnesia) return [...nodes];
    this.world.note(`faulty now: ${this.world.budget.describe()}`);
    return nodes.filter((n) => this.world.budget.allows(n));
  }

  private inject(tick: number, kind: FaultKind): void {
    const { nodes, network, stats } = this.world;
    const rng = this.rng;
    switch (kind) {
      case 'crash': {
        const pool = this.allowed(nodes.filter((n) => n.up));
        if (pool.length === 0) return;
        const n = rng.pick(pool);
        n.crash();
        this.later(tick + rng.int(1, 40), () => n.start());
        break;
      }
      case 'wipe': {
        const pool = this.allowed(nodes);
        if (pool.length === 0) return;
        const n = rng.pick(pool);
        n.wipe();
        this.later(tick + rng.int(1, 40), () => n.start());
        break;
      }
      case 'pause': {
        const pool = this.allowed(nodes.filter((n) => n.live));
        if (pool.length === 0) return;
        const n = rng.pick(pool);
        n.pause();
        this.later(tick + rng.int(3, 60), () => n.resume());
        break;
      }
      case 'partition': {
        const order = rng.sample(nodes.map((n) => n.id), nodes.length);
        const cut = rng.int(1, nodes.length - 1);
        const groups = [order.slice(0, cut), order.slice(cut)];
        if (nodes.length >= 5 && groups[1].length >= 2 && rng.chance(0.3)) groups.push(groups[1].splice(0, 1));
        network.partition(groups);
        this.later(tick + rng.int(5, 80), () => network.heal());
        break;
      }
      case 'oneWayCut': {
        for (let i = rng.int(1, 3); i > 0; i--) {
          const [a, b] = rng.sample(nodes.map((n) => n.id), 2);
          network.cutOneWay(a, b);
        }
        this.later(tick + rng.int(5, 60), () => network.heal());
        break;
      }
      case 'clusterCrash': {
        for (const n of nodes.filter((x) => x.up)) {
          n.crash();
          this.later(tick + rng.int(1, 20), () => n.start());
        }
        break;
      }
    }
    stats.faults[kind]++;
  }
}
