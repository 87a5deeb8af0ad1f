import type { CheckerName } from './check-failure';
import { SimViolation } from './check-failure';
import { hunt } from './hunt';
import { MUTANTS } from './mutants';
import { addStats, emptyStats, type SimStats } from './sim-stats';
import { simulate } from './simulator';

/** Many schedules, or a mutant hunt: what a worker (or the CLI) is asked to run. */
export type SimJob =
  | { readonly kind: 'seeds'; readonly from: number; readonly count: number; readonly nodes?: number; readonly stopAtFirst?: boolean }
  | { readonly kind: 'hunt'; readonly mutant: string; readonly from: number; readonly max: number; readonly nodes?: number; readonly checkers?: readonly CheckerName[] };

export interface Failure {
  readonly seed: number;
  readonly nodes: number;
  readonly checker: string;
  readonly message: string;
}

export interface SimReport {
  readonly stats: SimStats;
  readonly failures: readonly Failure[];
  /** Hunts: seeds run until the mutant was caught (null: it was not). */
  readonly seedsToCatch: number | null;
  readonly ms: number;
}

const failure = (v: SimViolation): Failure => ({ seed: v.seed, nodes: v.nodes, checker: v.checker, message: v.message });

/** Runs `job` in this process. `progress` hears every 10,000 schedules. */
export function runJob(job: SimJob, progress: (done: number, stats: SimStats) => void = () => undefined): SimReport {
  const started = Date.now();
  const stats = emptyStats();
  if (job.kind === 'hunt') {
    const mutant = MUTANTS.find((m) => m.name === job.mutant);
    if (!mutant) throw new Error(`no mutant ${job.mutant}: ${MUTANTS.map((m) => m.name).join(', ')}`);
    const caught = hunt(mutant, job.from, job.max, { nodes: job.nodes, checkers: job.checkers });
    return { stats, failures: caught ? [failure(caught.violation)] : [], seedsToCatch: caught?.seedsRun ?? null, ms: Date.now() - started };
  }
  const failures: Failure[] = [];
  for (let i = 0; i < job.count; i++) {
    try {
      addStats(stats, simulate(job.from + i, { nodes: job.nodes }).stats);
    } catch (e) {
      if (!(e instanceof SimViolation)) throw e;
      stats.schedules++;
      stats.byNodes[e.nodes] = (stats.byNodes[e.nodes] ?? 0) + 1;
      failures.push(failure(e));
      if (job.stopAtFirst) break;
    }
    if ((i + 1) % 10_000 === 0) progress(i + 1, stats);
  }
  return { stats, failures, seedsToCatch: null, ms: Date.now() - started };
}
