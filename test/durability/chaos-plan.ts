import type { SeededRandom } from './seeded-random';

/**
 * The chaos run's seeded fault plan (test/durability/chaos.e2e-spec.ts): what happens to which
 * node in each round, drawn from one seed so that a failing run can be replayed.
 */

export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return n;
}

/** kill -9 (sometimes SIGTERM) of one node or two in a row, traffic while they are down, then restarts. */
export interface CrashFault {
  kind: 'crash';
  /** Nodes (1-based) stopped one after the other, each with its signal. */
  victims: { node: number; signal: 'SIGKILL' | 'SIGTERM' }[];
  /** Between stopping the first and the second victim. */
  gapMs: number;
  /** Traffic goes on this long with the victims down (below or above failure detection). */
  downMs: number;
  /** Restart order, with a pause between two restarts. */
  restart: number[];
  restartGapMs: number;
  /** Traffic with everything up before the next round. */
  upMs: number;
}

/** kill -STOP of one node, mostly past FAILOVER_TIMEOUT (its rooms move), then kill -CONT. */
export interface PauseFault {
  kind: 'pause';
  node: number;
  pausedMs: number;
  upMs: number;
}

/** One node cut off from both peers (network namespaces), its clients still connected to it, then healed. */
export interface IsolateFault {
  kind: 'isolate';
  node: number;
  isolatedMs: number;
  upMs: number;
}

export type Fault = CrashFault | PauseFault | IsolateFault;

/**
 * `rounds` faults: about half crashes, a quarter pauses, a quarter isolations. Without network
 * namespaces an isolation becomes a pause of the same node and length, so the rest of the plan
 * (and every later draw) is the same for a seed either way.
 */
export function planFaults(rng: SeededRandom, rounds: number, canIsolate: boolean): Fault[] {
  const plan: Fault[] = [];
  for (let r = 0; r < rounds; r++) {
    const roll = rng.float();
    const nodes = rng.shuffle([1, 2, 3]);
    const upMs = rng.int(300, 1500);
    if (roll < 0.5) {
      const count = rng.chance(0.25) ? 2 : 1;
      const victims = nodes.slice(0, count).map((node) => ({ node, signal: rng.chance(0.2) ? ('SIGTERM' as const) : ('SIGKILL' as const) }));
      plan.push({ kind: 'crash', victims, gapMs: rng.int(100, 700), downMs: rng.int(200, 1600), restart: rng.shuffle(victims.map((v) => v.node)), restartGapMs: rng.int(0, 600), upMs });
    } else {
      // one pause in five stays under FAILOVER_TIMEOUT (1 s): a hiccup that must not move anything for good
      const ms = roll < 0.75 && rng.chance(0.2) ? rng.int(300, 700) : rng.int(1300, 2800);
      if (roll < 0.75 || !canIsolate) plan.push({ kind: 'pause', node: nodes[0], pausedMs: ms, upMs });
      else plan.push({ kind: 'isolate', node: nodes[0], isolatedMs: ms, upMs });
    }
  }
  return plan;
}

export function describeFault(f: Fault): string {
  if (f.kind === 'pause') return `kill -STOP node${f.node} for ${f.pausedMs} ms, then -CONT; up ${f.upMs} ms`;
  if (f.kind === 'isolate') return `isolate node${f.node} from both peers for ${f.isolatedMs} ms, then heal; up ${f.upMs} ms`;
  return (
    `${f.victims.map((v) => `${v.signal === 'SIGKILL' ? 'kill -9' : 'SIGTERM'} node${v.node}`).join(`, +${f.gapMs} ms `)}; down ${f.downMs} ms; ` +
    `restart ${f.restart.map((n) => `node${n}`).join(`, +${f.restartGapMs} ms `)}; up ${f.upMs} ms`
  );
}
