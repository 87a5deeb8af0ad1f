import { AckLedger } from './ack-ledger';
import { CheckFailure, Checks, SimViolation } from './check-failure';
import { FaultBudget } from './fault-budget';
import { FaultPlan } from './fault-plan';
import { drawProfile, type FaultProfile } from './fault-profile';
import { LogHistory } from './log-history';
import type { NodeEnv } from './node-process';
import { describePacket, type Packet } from './packets';
import { checkElectability } from './electability';
import { EventQueue } from './event-queue';
import { Convergence } from './convergence';
import { ClientPool } from './sim-clients';
import { CLEAN_LINKS, SimNetwork } from './sim-network';
import { SimNode, type NodeEvent } from './sim-node';
import { drawParams, type SimOptions, type SimParams } from './sim-params';
import { SimRandom } from './sim-random';
import { emptyStats, type SimStats } from './sim-stats';
import { Trace } from './trace';

export interface SimResult {
  readonly seed: number;
  readonly params: SimParams;
  readonly profile: FaultProfile;
  readonly traceHash: string;
  readonly stats: SimStats;
}

/** Ticks after the heal before the probes go out: a few election timeouts of calm. */
const CALM_TICKS = 40;
/** More events than this waiting at once is a storm (a loop that answers every message with more than one). */
const MAX_IN_FLIGHT = 20_000;
const STORM = Symbol('message storm');

/** Ticks the probes and every client get to be acknowledged, and every node to converge. */
export const LIVENESS_TICKS = 1500;
/**
 * Ticks within which every room's probe must be acknowledged. Both bounds are generous: a node back
 * with a wiped disk catches up a long log one entry per round trip in some schedules (one entry per
 * append, one append at a time, a slow link and a slow disk), and a majority may need it. Typical
 * runs converge within 20 ticks; the slowest of 100,000 took 189.
 */
export const PROBE_TICKS = 600;

/**
 * One seeded run of a whole cluster in one process: nodes, network, disks, clients and faults all
 * drawn from one PRNG on one logical clock, with the checkers fed as things happen. Throws a
 * SimViolation (seed, checker, trace tail) when a property breaks.
 */
export class Simulation {
  readonly rng: SimRandom;
  readonly params: SimParams;
  readonly stats: SimStats = emptyStats();
  readonly trace: Trace;
  readonly checks: Checks;
  readonly history: LogHistory;
  readonly ledger: AckLedger;
  readonly network: SimNetwork;
  readonly nodes: SimNode[];
  readonly clients: ClientPool;
  readonly faults: FaultPlan;
  readonly budget: FaultBudget;
  private readonly queue = new EventQueue<NodeEvent | { kind: 'call'; run: () => void }>();
  private readonly byId = new Map<string, SimNode>();
  private now = 0;
  private boots = 0;
  /** When each crashed process crashed (its packets not yet out of the machine are lost). */
  private readonly crashedAt = new Map<number, number>();
  private tick = 0;

  constructor(
    readonly seed: number,
    options: SimOptions = {},
  ) {
    this.rng = new SimRandom(seed);
    this.trace = new Trace(options.traceTail ?? 40);
    this.checks = new Checks(options.checkers);
    this.history = new LogHistory(this.checks);
    this.ledger = new AckLedger(this.history, this.checks);
    this.params = drawParams(this.rng, options);
    const ids = Array.from({ length: this.params.nodes }, (_, i) => `n${i + 1}`);
    const note = (line: string) => this.trace.add(`${this.now} ${line}`);
    this.network = new SimNetwork(this.rng, ids, this.stats, (delay, p, sender) => this.queue.push(this.now + delay, { kind: 'packet', packet: p, sender, sentAt: this.now }), note);
    const profile = drawProfile(this.rng, ids);
    const env: NodeEnv = {
      rng: this.rng,
      params: this.params,
      nodes: ids,
      history: this.history,
      stats: this.stats,
      now: () => this.now,
      send: (p, boot) => this.network.send(p, boot),
      crashed: (boot) => this.crashedAt.set(boot, this.now),
      scheduleWrite: (node, boot, at, write) => this.queue.push(at, { kind: 'write', node, boot, write }),
      nextBoot: () => ++this.boots,
      leadershipChanged: (node, host) => this.faults.electionEvent(node, host),
      diskLatency: () => {
        const { diskStall, diskLatency } = this.faults.profile;
        if (!this.rng.chance(diskStall)) return this.rng.int(diskLatency[0], diskLatency[1]);
        this.stats.faults.diskStall++;
        return this.rng.int(20, 150);
      },
      note,
    };
    this.nodes = ids.map((id) => new SimNode(id, env));
    this.budget = new FaultBudget(this.nodes);
    for (const n of this.nodes) this.byId.set(n.id, n);
    const hosts = () => new Set(this.nodes.filter((n) => n.live && [...n.process!.cores.values()].some((c) => c.state.role === 'leader')).map((n) => n.id));
    const at = (steps: number, run: () => void) => this.queue.push(this.now + steps, { kind: 'call', run });
    this.faults = new FaultPlan({ nodes: this.nodes, network: this.network, stats: this.stats, budget: this.budget, at, hosts, note }, this.rng, profile);
    this.network.links = profile.links;
    this.clients = new ClientPool(this.params.clients, { rng: this.rng, nodes: ids, ledger: this.ledger, stats: this.stats, now: () => this.now, send: (p) => this.network.send(p), note });
  }

  /** Runs the whole schedule; returns its figures or throws a SimViolation. */
  run(): SimResult {
    try {
      this.schedule();
    } catch (e) {
      if (e === STORM) return this.result(); // a message storm, with the liveness checker off: the run just ends
      const checker = e instanceof CheckFailure ? e.checker : 'exception';
      const detail = e instanceof CheckFailure ? e.detail : e instanceof Error ? (e.stack ?? e.message) : String(e);
      throw new SimViolation(this.seed, this.params.nodes, checker, detail, this.trace.lastEvents());
    }
    return this.result();
  }

  private result(): SimResult {
    return { seed: this.seed, params: this.params, profile: this.faults.profile, traceHash: this.trace.hash, stats: this.stats };
  }

  private schedule(): void {
    const p = this.params;
    this.stats.schedules = 1;
    this.stats.byNodes = { [p.nodes]: 1 };
    this.stats.byFamily = { [this.faults.profile.family]: 1 };
    const foundAt = Array.from({ length: p.rooms }, () => this.rng.int(0, Math.floor(p.faultTicks * 0.3)));
    const rooms = foundAt.map((_, i) => `r${i + 1}`);
    for (const n of this.nodes) n.start();
    const convergence = new Convergence(this.nodes, this.history, this.ledger, this.clients, this.checks);
    const probeAt = p.faultTicks + CALM_TICKS;
    for (this.tick = 0; ; this.tick++) {
      this.runEventsUntil((this.tick + 1) * p.tickSteps);
      if (this.tick < p.faultTicks) this.faults.atTick(this.tick);
      if (this.tick === p.faultTicks) this.healForGood();
      for (let i = 0; i < rooms.length; i++) if (foundAt[i] !== -1 && this.tick >= foundAt[i] && this.found(rooms[i])) foundAt[i] = -1;
      for (const n of this.nodes) n.tick(this.tick);
      for (const r of this.history.committedRooms()) this.clients.roomKnown(r);
      this.clients.onTick();
      this.checkTick();
      if (this.tick >= probeAt) this.clients.probe(this.history.committedRooms()); // rooms committed late are probed too
      if (this.tick > probeAt && convergence.done()) break;
      if (this.tick === probeAt + PROBE_TICKS && this.checks.has('liveness')) convergence.probesAcknowledged(PROBE_TICKS);
      if (this.tick >= probeAt + LIVENESS_TICKS) {
        if (this.checks.has('liveness')) convergence.fail(LIVENESS_TICKS);
        this.stats.ticks = this.tick;
        return; // not converged, and nobody asked: the end-state checks would only restate it
      }
    }
    this.stats.ticks = this.tick;
    this.stats.slowestConvergence = this.tick - probeAt;
    convergence.finalCheck();
  }

  private runEventsUntil(end: number): void {
    while (this.queue.peekTime() < end) {
      const { time, item } = this.queue.pop()!;
      this.now = time;
      if (item.kind === 'call') item.run();
      else this.dispatch(item);
      for (const room of this.history.takeGrown()) checkElectability(room, this.nodes, this.history, this.checks); // the moment something commits
      if (this.queue.size > MAX_IN_FLIGHT) {
        this.checks.fail('liveness', `message storm: ${this.queue.size} packets and writes on their way at step ${this.now}`);
        throw STORM;
      }
    }
    this.now = end;
  }

  private dispatch(ev: NodeEvent): void {
    if (ev.kind === 'write') return this.byId.get(ev.node)!.deliver(ev);
    const p: Packet = ev.packet;
    if (ev.sender && (this.crashedAt.get(ev.sender.boot) ?? Infinity) < ev.sentAt + ev.sender.leavesAfter) return; // died with its machine
    if (p.kind === 'reply') {
      this.trace.add(`${this.now} ${describePacket(p)}`);
      return this.clients.onReply(p);
    }
    const to = this.byId.get(p.to);
    if (!to?.up || (p.kind !== 'request' && this.network.blocked(p.from, p.to))) return;
    if (p.kind !== 'heartbeat') this.trace.add(`${this.now} ${describePacket(p)}`);
    to.deliver(ev);
  }

  /** Founds `room` on a random running node that knows where it stands; false when none can yet. */
  private found(room: string): boolean {
    // a founder that knows too few of the current disks would found a room born without a majority of voters
    const amnesia = this.faults.profile.amnesia;
    const able = this.nodes.filter((n) => n.live && n.process!.decided && (!amnesia || this.budget.canFound(n.disk.knownDisks(n.id))));
    if (able.length === 0) return false;
    const n = this.rng.pick(able);
    this.trace.add(`${this.now} ${n.id} founds ${room}`);
    n.process!.found(room);
    return true;
  }

  private healForGood(): void {
    this.faults.healAll();
    this.network.links = CLEAN_LINKS;
    this.clients.sending = false;
    this.trace.add(`${this.now} faults end`);
  }

  private checkTick(): void {
    for (const room of this.history.committedRooms()) {
      const disks = this.nodes.flatMap((n) => {
        const d = n.disk.rooms.get(room);
        return d ? [[n.id, d] as const] : [];
      });
      this.history.commitPrefixes(room, disks);
      checkElectability(room, this.nodes, this.history, this.checks);
    }
  }
}

/** Runs one seed. */
export const simulate = (seed: number, options: SimOptions = {}): SimResult => new Simulation(seed, options).run();
