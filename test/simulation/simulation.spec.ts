import { bundleWorker, runInWorker } from './in-worker';
import type { SimStats } from './sim-stats';
import { simulate } from './simulator';

/**
 * The deterministic simulator in `npm test`: a fixed budget of seeded schedules of whole clusters
 * (3 and 5 nodes) under crashes, wiped disks, pauses, partitions and a lossy, duplicating,
 * reordering network, every checker applied as the run goes (in a worker thread: see
 * in-worker.ts). A failure names its seed; `SIM_SEED=<n> SIM_NODES=<3|5>` replays it here (and
 * prints the end of its trace). `npm run sim -- --seeds N` runs more.
 */
const BUDGET: Record<number, number> = { 3: Number(process.env.SIM_SCHEDULES_3 ?? 6000), 5: Number(process.env.SIM_SCHEDULES_5 ?? 3000) };

function summary(nodes: number, s: SimStats, ms: number): string {
  const faults = Object.entries(s.faults)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return `${nodes} nodes: ${s.schedules} schedules in ${(ms / 1000).toFixed(1)} s, ${s.ticks} ticks, ${s.messages} messages, ${s.acks} acks, ${s.elections} elections, converged within ${s.slowestConvergence} ticks of the calm; faults: ${faults}`;
}

describe('deterministic cluster simulation', () => {
  jest.setTimeout(180_000);

  const replay = process.env.SIM_SEED;
  if (replay !== undefined) {
    it(`replays seed ${replay}`, () => {
      const nodes = process.env.SIM_NODES ? Number(process.env.SIM_NODES) : undefined;
      const r = simulate(Number(replay), { nodes, traceTail: 300 }); // a violation throws, with the trace tail
      console.log(`seed ${replay}: trace ${r.traceHash}\n${JSON.stringify(r.params)}\n${JSON.stringify(r.profile)}\n${JSON.stringify(r.stats)}`);
    });
    return;
  }

  beforeAll(() => bundleWorker());

  it('replays a seed exactly: the same trace hash and the same figures', () => {
    for (const seed of [7, 1234]) {
      const a = simulate(seed);
      const b = simulate(seed);
      expect(b.traceHash).toBe(a.traceHash);
      expect(b.stats).toEqual(a.stats);
      expect(simulate(seed + 1).traceHash).not.toBe(a.traceHash);
    }
  });

  it.each([3, 5])('%i nodes: a fixed budget of schedules, none breaks a property', async (nodes) => {
    const r = await runInWorker({ kind: 'seeds', from: 1, count: BUDGET[nodes], nodes, stopAtFirst: true });
    console.log(summary(nodes, r.stats, r.ms));
    if (r.failures.length > 0) throw new Error(r.failures[0].message);
    expect(r.stats.schedules).toBe(BUDGET[nodes]);
    expect(r.stats.acks).toBeGreaterThan(BUDGET[nodes]); // clients got through: the checkers had acks to check
    for (const kind of ['crash', 'wipe', 'pause', 'partition', 'drop', 'duplicate', 'reorder'] as const) expect(r.stats.faults[kind]).toBeGreaterThan(0);
  });
});
