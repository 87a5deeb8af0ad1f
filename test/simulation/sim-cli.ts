import { runJob, type SimJob } from './run-seeds';
import type { SimStats } from './sim-stats';
import { LIVENESS_TICKS, PROBE_TICKS } from './simulator';

/**
 * `npm run sim -- --seeds N [--from S] [--nodes 3|5] [--mutant NAME]`: runs N schedules (nodes
 * drawn per seed unless given) and prints what they covered and every failing seed; with
 * --mutant, hunts that mutant for up to N seeds instead. Exits 1 on a failure (or an uncaught mutant).
 */
function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function num(name: string, fallback: number | undefined): number | undefined {
  const raw = arg(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${raw}`);
  return n;
}

function figures(s: SimStats, ms: number): string {
  const faults = Object.entries(s.faults).map(([k, v]) => `  ${k.padEnd(14)} ${v}`);
  const total = Object.values(s.faults).reduce((a, b) => a + b, 0);
  return [
    `schedules run     ${s.schedules} in ${(ms / 1000).toFixed(1)} s`,
    `  by nodes        ${Object.entries(s.byNodes).map(([k, v]) => `${k}: ${v}`).join(', ')}`,
    `  by family       ${Object.entries(s.byFamily).map(([k, v]) => `${k}: ${v}`).join(', ')}`,
    `ticks             ${s.ticks}`,
    `messages          ${s.messages}`,
    `acks              ${s.acks}`,
    `elections won     ${s.elections}`,
    `slowest to converge after the calm: ${s.slowestConvergence} ticks (bound ${LIVENESS_TICKS}; probes within ${PROBE_TICKS})`,
    `faults injected   ${total}, by kind:`,
    ...faults,
  ].join('\n');
}

function main(): number {
  const count = num('seeds', 1000)!;
  const from = num('from', 1)!;
  const nodes = num('nodes', undefined);
  if (nodes !== undefined && nodes !== 3 && nodes !== 5) throw new Error('--nodes must be 3 or 5');
  const mutant = arg('mutant');
  const job: SimJob = mutant ? { kind: 'hunt', mutant, from, max: count, nodes } : { kind: 'seeds', from, count, nodes };
  console.log(mutant ? `hunting mutant ${mutant}: seeds ${from}..${from + count - 1}` : `running seeds ${from}..${from + count - 1}${nodes ? ` on ${nodes} nodes` : ''}`);
  const r = runJob(job, (done, s) => console.log(`  ${done} schedules, ${s.acks} acks, failures so far: see the end`));
  if (mutant) {
    console.log(r.seedsToCatch === null ? `NOT caught in ${count} seeds` : `caught after ${r.seedsToCatch} seeds:\n${r.failures[0].message}`);
    return r.seedsToCatch === null ? 1 : 0;
  }
  console.log(figures(r.stats, r.ms));
  console.log(`failing seeds     ${r.failures.length}${r.failures.length ? ': ' + r.failures.map((f) => `${f.seed} (${f.nodes} nodes, ${f.checker})`).join(', ') : ''}`);
  if (r.failures.length > 0) console.log(`\nfirst failure:\n${r.failures[0].message}`);
  return r.failures.length > 0 ? 1 : 0;
}

process.exitCode = main();
