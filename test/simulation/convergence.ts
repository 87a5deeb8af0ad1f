import type { AckLedger } from './ack-ledger';
import { CheckFailure, type Checks } from './check-failure';
import type { LogHistory } from './log-history';
import type { RoomDisk } from './sim-disk';
import type { ClientPool } from './sim-clients';
import type { SimNode } from './sim-node';

/**
 * (g) liveness, checked once the faults are over and the cluster had a few election timeouts of
 * calm: a probe append commits on every room, every client's message is acknowledged, and every
 * node converges (running, decided, a voter of every room, one host, identical committed logs all
 * applied, every core quiet). Then the end-state checks of (d) and (e).
 */
export class Convergence {
  constructor(
    private readonly nodes: readonly SimNode[],
    private readonly history: LogHistory,
    private readonly ledger: AckLedger,
    private readonly clients: ClientPool,
    private readonly checks: Checks,
  ) {}

  done(): boolean {
    return this.problems(1).length === 0;
  }

  /** (g) a new append commits within a bound on every room: its probe was acknowledged. */
  probesAcknowledged(ticks: number): void {
    const late = this.clients.unprobed(this.history.committedRooms());
    if (late.length > 0) throw new CheckFailure('liveness', `${ticks} ticks after the calm began, no probe acknowledged on ${late.join(', ')}: ${this.problems(6).join('; ')}`);
  }

  fail(ticks: number): never {
    throw new CheckFailure('liveness', `${ticks} ticks after the calm began, still: ${this.problems(6).join('; ')}`);
  }

  /** What keeps the cluster from being converged (at most `max` reasons). */
  problems(max: number): string[] {
    const out: string[] = [];
    const say = (s: string) => out.length < max && out.push(s);
    for (const n of this.nodes) {
      if (!n.live) say(`${n.id} is not running`);
      else if (!n.process!.decided) say(`${n.id} (fresh disk) has not decided whether it rejoins`);
    }
    if (out.length > 0) return out;
    const committed = this.history.committedRooms();
    for (const n of this.nodes) {
      for (const [room, d] of n.disk.rooms) if (d.lastIndex() > 0 && !committed.includes(room) && this.canCommit(room)) say(`${room} (on ${n.id}'s disk) never committed`);
    }
    for (const room of this.clients.unprobed(committed)) say(`the probe of ${room} is not acknowledged`);
    for (const w of this.clients.waiting().slice(0, 2)) say(`${w} is not acknowledged`);
    for (const room of committed) this.roomProblems(room, say);
    return out;
  }

  /**
   * A room whose founding never committed is stillborn (its creation was never acknowledged) when
   * its records are mostly learners, or when only learners hold any of it (a founder wiped after
   * its first entry reached a learner alone): nobody can host it or promote anyone. Every other
   * room must commit.
   */
  private canCommit(room: string): boolean {
    const held = (n: SimNode) => (n.disk.rooms.get(room)?.lastIndex() ?? 0) > 0 && n.process!.cores.get(room)?.state.learner === false;
    if (!this.nodes.some(held)) return false;
    const birth = this.nodes.map((n) => n.disk.rooms.get(room)?.birth).find((b) => b !== undefined)!;
    const voter = (n: SimNode) => {
      const core = n.process!.cores.get(room);
      return core ? !core.state.learner : n.disk.rejoin === 'clean' || birth[n.id] === n.disk.id; // a node told of it later is a voter then
    };
    return this.nodes.filter(voter).length >= Math.floor(this.nodes.length / 2) + 1;
  }

  private roomProblems(room: string, say: (s: string) => void): void {
    const cores = this.nodes.map((n) => ({ id: n.id, core: n.process!.cores.get(room), disk: n.disk.rooms.get(room) }));
    const leaders = cores.filter((c) => c.core?.state.role === 'leader');
    if (leaders.length !== 1) return void say(`${room} has ${leaders.length} hosts (${leaders.map((l) => `${l.id}@e${l.core!.state.epoch}`).join(',')})`);
    const host = leaders[0].core!.state;
    const last = host.last.index;
    if (this.history.committed(room).length !== last) say(`${room}: committed ${this.history.committed(room).length} of the host's ${last}`);
    for (const { id, core, disk } of cores) {
      if (!core || !disk) {
        say(`${id} does not know ${room}`);
        continue;
      }
      const s = core.state;
      if (s.learner) say(`${id} is still a learner of ${room}`);
      if (s.epoch !== host.epoch || (s.role !== 'leader' && s.leader !== leaders[0].id)) say(`${id} on ${room}: ${s.role} e${s.epoch} leader=${s.leader}, host is ${leaders[0].id}@e${host.epoch}`);
      if (s.commit !== last || disk.lastIndex() !== last || disk.applied !== last) say(`${id} on ${room}: commit ${s.commit}, disk ${disk.lastIndex()}, applied ${disk.applied}, host's last ${last}`);
      if (!core.quiet) say(`${id} on ${room} is not quiet (${s.role})`);
    }
  }

  /** (d) and (e) at the end: every ack on every disk where it was given; every node applied the whole history. */
  finalCheck(): void {
    const disks = new Map<string, ReadonlyMap<string, RoomDisk>>(this.nodes.map((n) => [n.id, n.disk.rooms]));
    this.ledger.finalCheck(disks);
    for (const room of this.history.committedRooms()) {
      const length = this.history.committed(room).length;
      for (const n of this.nodes) {
        const shown = this.history.shownUpTo(n.id, room);
        if (shown !== length) this.checks.fail('nothing shown vanishes', `${n.id} applied ${shown} of ${room}'s ${length} committed entries in the end`);
      }
    }
  }
}
