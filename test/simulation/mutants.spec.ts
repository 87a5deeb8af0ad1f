import { HostReplication } from '../../src/modules/rooms/consensus/host-replication';
import { RaftLog } from '../../src/modules/rooms/consensus/raft-log';
import { RoomLogCore } from '../../src/modules/rooms/consensus/room-log-core';
import type { CheckerName } from './check-failure';
import { bundleWorker, runInWorker } from './in-worker';
import { MUTANTS } from './mutants';
import { NodeProcess } from './node-process';

/**
 * A checker that has never failed proves little. Each row breaks one rule of the core (or of the
 * adapter's use of it) at runtime, turns every checker off but one, and expects that one to
 * catch the mutant within MAX_SEEDS schedules; the four mutants issue 18 names are also hunted
 * with every checker on, on 3 and 5 nodes. Hunts run in a worker thread (in-worker.ts); the seeds
 * each took are printed. Replay one: `npm run sim -- --mutant NAME --nodes N --seeds 300`.
 */
const MAX_SEEDS = 300;

const ALONE: [mutant: string, checker: CheckerName, nodes: number][] = [
  ['vote-before-persist', 'election safety', 3],
  ['learner-votes', 'election safety', 3],
  ['skip-prev-check', 'log matching', 3],
  ['vote-without-log-check', 'committed entries never change', 5],
  ['vote-without-log-check', 'leader completeness', 5],
  ['commit-older-epoch-by-counting', 'committed entries stay electable', 3],
  ['ack-before-persist', 'committed entries stay electable', 3],
  ['ack-retry-before-commit', 'acknowledged means committed', 3],
  ['truncate-on-stale-append', 'nothing shown vanishes', 3],
  ['ack-retry-before-commit', 'one sequence, one message', 3],
  ['no-resend', 'liveness', 3],
];

const REQUIRED = ['vote-without-log-check', 'ack-before-persist', 'commit-older-epoch-by-counting', 'ack-retry-before-commit'];
const ALL_ON: [mutant: string, nodes: number][] = [...REQUIRED, 'host-counts-unwritten-entries'].flatMap((m) => [[m, 3] as [string, number], [m, 5] as [string, number]]);

describe('simulator mutants: every checker catches a broken core', () => {
  jest.setTimeout(120_000);
  const took: string[] = [];

  beforeAll(() => bundleWorker());
  afterAll(() => console.log(`seeds each mutant took (at most ${MAX_SEEDS}):\n  ${took.join('\n  ')}`));

  it('patches a prototype and puts the original back', () => {
    const protos: object[] = [RoomLogCore.prototype, HostReplication.prototype, RaftLog.prototype, NodeProcess.prototype];
    const methods = () => protos.map((p) => Object.getOwnPropertyNames(p).map((k) => Object.getOwnPropertyDescriptor(p, k)!.value as unknown));
    const before = methods();
    for (const m of MUTANTS) {
      const restore = m.apply();
      expect(methods()).not.toEqual(before);
      restore();
    }
    expect(methods()).toEqual(before);
  });

  it.each(ALONE)('%s is caught by "%s" alone (%i nodes)', async (mutant, checker, nodes) => {
    const r = await runInWorker({ kind: 'hunt', mutant, from: 1, max: MAX_SEEDS, nodes, checkers: [checker] });
    took.push(`${mutant} / ${checker} alone / ${nodes} nodes: ${r.seedsToCatch ?? `not caught in ${MAX_SEEDS}`}`);
    expect(r.seedsToCatch).not.toBeNull();
    expect(r.failures[0].checker).toBe(checker);
  });

  it.each(ALL_ON)('%s is caught with every checker on (%i nodes)', async (mutant, nodes) => {
    const r = await runInWorker({ kind: 'hunt', mutant, from: 1, max: MAX_SEEDS, nodes });
    took.push(`${mutant} / all checkers / ${nodes} nodes: ${r.seedsToCatch ?? `not caught in ${MAX_SEEDS}`} (${r.failures[0]?.checker ?? '-'})`);
    expect(r.seedsToCatch).not.toBeNull();
    expect(r.failures[0].checker).not.toBe('liveness'); // a safety checker, not a stall
  });
});
