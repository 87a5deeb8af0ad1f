import type { SimNode } from './sim-node';

type Birth = Readonly<Record<string, string>>;

/**
 * What Raft needs to lose nothing acknowledged with wiped disks about: in every room, at most a
 * minority of the nodes is faulty at once. Faulty in a room: not running (crashed, paused), on a
 * fresh disk still deciding whether it rejoins, or on a rejoining disk that is not a voter of the
 * room (a learner until the room's host promotes it; a room whose founder knew the disk makes it
 * a voter at once). A fault may be injected only when every room stays within the budget, and a
 * room may be founded only where it starts within it.
 */
export class FaultBudget {
  constructor(private readonly nodes: readonly SimNode[]) {}

  private get minority(): number {
    return Math.floor((this.nodes.length - 1) / 2);
  }

  /** Rooms with an entry on some disk or in some running core (a founding not written yet counts), with their birth certificates. */
  private rooms(): Map<string, Birth> {
    const out = new Map<string, Birth>();
    for (const n of this.nodes) {
      for (const [room, d] of n.disk.rooms) {
        if (out.has(room)) continue;
        if (d.lastIndex() > 0 || (n.process?.cores.get(room)?.state.last.index ?? 0) > 0) out.set(room, d.birth);
      }
    }
    return out;
  }

  private faultyIn(room: string | null, birth: Birth | null): Set<string> {
    const out = new Set<string>();
    for (const n of this.nodes) {
      if (!n.live || n.disk.rejoin === 'undecided') out.add(n.id);
      else if (room !== null && n.disk.rejoin === 'rejoining') {
        const core = n.process!.cores.get(room);
        const voter = core ? !core.state.learner : birth![n.id] === n.disk.id;
        if (!voter) out.add(n.id);
      }
    }
    return out;
  }

  /** Whether `node` may become faulty now. */
  allows(node: SimNode): boolean {
    const within = (faulty: Set<string>) => faulty.has(node.id) || faulty.size < this.minority;
    if (!within(this.faultyIn(null, null))) return false;
    for (const [room, birth] of this.rooms()) if (!within(this.faultyIn(room, birth))) return false;
    return true;
  }

  /** Whether a room born with this certificate starts within the budget. */
  canFound(birth: Birth): boolean {
    return this.faultyIn('', birth).size <= this.minority;
  }

  /** The faulty nodes of every room, for the trace. */
  describe(): string {
    const parts = [...this.rooms()].map(([room, birth]) => `${room}:${[...this.faultyIn(room, birth)].join(',')}`);
    return `${[...this.faultyIn(null, null)].join(',') || '-'} ${parts.join(' ')}`;
  }
}
