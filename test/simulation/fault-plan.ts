import type { FaultBudget } from './fault-budget';
import type { FaultKind, FaultProfile } from './fault-profile';
import type { SimNetwork } from './sim-network';
import type { SimNode } from './sim-node';
import type { SimRandom } from './sim-random';
import type { SimStats } from './sim-stats';

export interface FaultWorld {
  readonly nodes: readonly SimNode[];
  readonly network: SimNetwork;
  readonly stats: SimStats;
  readonly budget: FaultBudget;
  /** Runs `run` after `steps` (faults strike between ticks, not only on them). */
  at(steps: number, run: () => void): void;
  /** Nodes hosting some room now: a favourite target. */
  hosts(): Set<string>;
  note(line: string): void;
}

/**
 * Injects the run's faults tick by tick and undoes each after a while (restart, resume, heal),
 * keeping to the budget: with wiped disks about, at most a minority of the nodes is faulty in any
 * room at once (fault-budget.ts), which is what Raft needs to lose nothing acknowledged. Without
 * wipes anything goes: a node that crashes keeps its disk, so even the whole cluster may crash.
 */
export class FaultPlan {
  private recoveries: { at: number; run: () => void }[] = [];
  /** The tick of the last atTick: a fault between ticks schedules its recovery from it. */
  private tick = 0;
  private active = true;
  /** The cut that isolates the latest new host (see electionEvent). */
  private hostCut: number | null = null;

  constructor(
    private readonly world: FaultWorld,
    private readonly rng: SimRandom,
    readonly profile: FaultProfile,
  ) {}

  atTick(tick: number): void {
    this.tick = tick;
    const due = this.recoveries.filter((r) => r.at <= tick);
    if (due.length > 0) {
      this.recoveries = this.recoveries.filter((r) => r.at > tick);
      for (const r of due) r.run();
    }
    if (this.rng.chance(1 / this.profile.every)) {
      const kind = this.pickKind();
      this.world.at(this.rng.int(0, 9), () => this.inject(tick, kind));
    }
  }

  /**
   * `node` reported a new role, host or epoch: faults cluster around elections. It may crash a
   * moment later (a voter before its vote is on disk, a new host before its first entry lands), or,
   * when it just became host, be cut off alone while the host cut off before it comes back: the
   * network trouble follows the host around, leaving each host with entries nobody else has.
   */
  electionEvent(node: string, host: boolean): void {
    if (!this.active) return;
    const n = this.world.nodes.find((x) => x.id === node)!;
    if (host && this.rng.chance(this.profile.isolateNewHost)) {
      this.world.at(this.rng.int(0, 3), () => {
        if (!this.active || !n.live) return;
        this.world.stats.faults.isolateHost++;
        if (this.hostCut !== null) this.world.network.heal(this.hostCut);
        const cut = (this.hostCut = this.world.network.partition([[node], this.world.nodes.filter((x) => x !== n).map((x) => x.id)]));
        this.later(this.tick + this.rng.int(10, 80), () => this.world.network.heal(cut));
      });
      return;
    }
    if (!this.rng.chance(this.profile.electionCrash)) return;
    this.world.at(this.rng.chance(0.5) ? this.rng.int(0, 2) : this.rng.int(0, 80), () => {
      if (!this.active || !n.up || this.allowed([n]).length === 0) return;
      this.world.stats.faults.electionCrash++;
      n.crash();
      this.later(this.tick + this.downtime(), () => n.start());
    });
  }

  /** The end of the faults: every cut healed, every node running. */
  healAll(): void {
    this.active = false;
    this.recoveries = [];
    this.world.network.healAll();
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

  /** Half the time a host, when one may be hit: killing the leader is what finds bugs. */
  private victim(pool: readonly SimNode[]): SimNode {
    const hosts = this.world.hosts();
    const hostPool = pool.filter((n) => hosts.has(n.id));
    return this.rng.pick(hostPool.length > 0 && this.rng.chance(0.5) ? hostPool : pool);
  }

  /** Often back at once (a quick restart races the elections it started), else after a while. */
  private downtime(): number {
    return this.rng.chance(0.4) ? this.rng.int(1, 3) : this.rng.int(1, 40);
  }

  private inject(tick: number, kind: FaultKind): void {
    const { nodes, network, stats } = this.world;
    const rng = this.rng;
    switch (kind) {
      case 'crash': {
        const pool = this.allowed(nodes.filter((n) => n.up));
        if (pool.length === 0) return;
        const n = this.victim(pool);
        n.crash();
        this.later(tick + this.downtime(), () => n.start());
        break;
      }
      case 'wipe': {
        const pool = this.allowed(nodes);
        if (pool.length === 0) return;
        const n = this.victim(pool);
        n.wipe();
        this.later(tick + this.downtime(), () => n.start());
        break;
      }
      case 'pause': {
        const pool = this.allowed(nodes.filter((n) => n.live));
        if (pool.length === 0) return;
        const n = this.victim(pool);
        n.pause();
        this.later(tick + rng.int(3, 60), () => n.resume());
        break;
      }
      case 'partition': {
        const order = rng.sample(nodes.map((n) => n.id), nodes.length);
        let cut: number;
        if (rng.chance(0.3)) {
          cut = network.partition([[order[0]], [order[1]]]); // a bridge: two nodes cannot talk, both still talk to the rest
        } else {
          const split = rng.int(1, nodes.length - 1);
          const groups = [order.slice(0, split), order.slice(split)];
          if (nodes.length >= 5 && groups[1].length >= 2 && rng.chance(0.3)) groups.push(groups[1].splice(0, 1));
          cut = network.partition(groups);
        }
        this.later(tick + rng.int(2, this.profile.cutTicks), () => network.heal(cut));
        break;
      }
      case 'oneWayCut': {
        for (let i = rng.int(1, 3); i > 0; i--) {
          const [a, b] = rng.sample(nodes.map((n) => n.id), 2);
          const cut = network.cutOneWay(a, b);
          this.later(tick + rng.int(2, this.profile.cutTicks), () => network.heal(cut));
        }
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
