import { HostReplication } from '../../src/modules/rooms/consensus/host-replication';
import { RaftLog } from '../../src/modules/rooms/consensus/raft-log';
import { RejoinStatus } from '../../src/modules/rooms/consensus/rejoin-status';
import { RoomLogCore } from '../../src/modules/rooms/consensus/room-log-core';
import { CHECKERS, type CheckerName } from './check-failure';
import { bundleWorker, runInWorker } from './in-worker';
import { MUTANTS } from './mutants';
import { NodeProcess } from './node-process';

/**
 * A checker that has never failed proves little. Each row breaks one rule of the core (or of the
 * adapter's use of it) at runtime, turns every checker off but one, and expects that one to
 * catch the mutant within MAX_SEEDS schedules; the four required mutants (and the others) are
 * also hunted with every safety checker on, on 3 and 5 nodes. Hunts run in a worker thread (in-worker.ts); the seeds
 * each took are printed. Replay one: `npm run sim -- --mutant NAME --nodes N --seeds 300`.
 */
const MAX_SEEDS = 300;

/** Each checker on its own, against a mutant it must catch. */
const ALONE: [mutant: string, checker: CheckerName, nodes: number][] = [
  ['vote-twice', 'election safety', 5],
  ['skip-prev-check', 'log matching', 3],
  ['vote-without-log-check', 'committed entries never change', 5],
  ['vote-without-log-check', 'leader completeness', 5],
  ['serve-before-caught-up', 'a caught-up host applied the past', 5],
  ['serve-before-caught-up', 'a caught-up host applied the past', 3],
  ['commit-older-epoch-by-counting', 'committed entries stay electable', 5],
  ['ack-before-persist', 'committed entries stay electable', 3],
  ['ack-retry-before-commit', 'acknowledged means committed', 3],
  ['truncate-on-stale-append', 'nothing shown vanishes', 3],
  ['ack-retry-before-commit', 'one sequence, one message', 3],
  ['no-resend', 'liveness', 3],
];

const REQUIRED = ['vote-without-log-check', 'ack-before-persist', 'commit-older-epoch-by-counting', 'ack-retry-before-commit'];
/** Every safety checker on: the four required mutants on 3 and 5 nodes, and the others. */
const ALL_ON: [mutant: string, nodes: number, max: number][] = [
  ...REQUIRED.flatMap((m): [string, number, number][] => [
    [m, 3, MAX_SEEDS],
    [m, 5, MAX_SEEDS],
  ]),
  // (not on 3 nodes: there a host's appends leave only after its write, so nothing it counts is unwritten)
  ['host-counts-unwritten-entries', 5, MAX_SEEDS],
  ['learner-votes', 3, MAX_SEEDS],
  ['two-copies-commit-older-epoch', 3, MAX_SEEDS],
  ['host-stored-before-write', 3, MAX_SEEDS],
  ['vote-twice', 3, MAX_SEEDS],
  ['skip-prev-check', 5, MAX_SEEDS],
  ['truncate-on-stale-append', 5, MAX_SEEDS],
  ['serve-before-caught-up', 5, MAX_SEEDS],
  // rare: a crash between answering a vote and storing it, then a second candidate at that epoch (about 1 schedule in 200)
  ['vote-before-persist', 3, 1000],
];

/** Mutants too rare to hunt from seed 1: the seed that found the bug each one puts back must catch it. */
const AT_SEED: [mutant: string, nodes: number, seed: number][] = [
  // a wiped host's late append (hostStored) taken by a peer that had told the new disk "never heard of it"
  ['rejoin-on-never-heard', 3, 43932],
];

describe('simulator mutants: every checker catches a broken core', () => {
  jest.setTimeout(120_000);
  const took: string[] = [];

  beforeAll(() => bundleWorker());
  afterAll(() => console.log(`seeds each mutant took to be caught:\n  ${took.join('\n  ')}`));

  it('patches a prototype and puts the original back', () => {
    const protos: object[] = [RoomLogCore.prototype, Object.getPrototypeOf(RoomLogCore.prototype) as object, HostReplication.prototype, RaftLog.prototype, RejoinStatus.prototype, NodeProcess.prototype];
    const methods = () => protos.map((p) => Object.getOwnPropertyNames(p).map((k) => Object.getOwnPropertyDescriptor(p, k)!).map((d) => (d.value ?? d.get) as unknown));
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

  it.each(ALL_ON)('%s is caught with every safety checker on (%i nodes, at most %i seeds)', async (mutant, nodes, max) => {
    // liveness off: a broken core may also stall a room, but what must catch it is a safety checker
    const r = await runInWorker({ kind: 'hunt', mutant, from: 1, max, nodes, checkers: CHECKERS.filter((c) => c !== 'liveness') });
    took.push(`${mutant} / all checkers / ${nodes} nodes: ${r.seedsToCatch ?? `not caught in ${max}`} (${r.failures[0]?.checker ?? '-'})`);
    expect(r.seedsToCatch).not.toBeNull();
    expect(r.failures[0].checker).not.toBe('liveness'); // a safety checker, not a stall
  });

  it.each(AT_SEED)('%s is caught with every safety checker on (%i nodes, seed %i)', async (mutant, nodes, seed) => {
    const r = await runInWorker({ kind: 'hunt', mutant, from: seed, max: 1, nodes, checkers: CHECKERS.filter((c) => c !== 'liveness') });
    took.push(`${mutant} / all checkers / ${nodes} nodes / seed ${seed}: ${r.seedsToCatch === null ? 'not caught' : 'caught'} (${r.failures[0]?.checker ?? '-'})`);
    expect(r.seedsToCatch).toBe(1);
    expect(r.failures[0].checker).not.toBe('liveness');
  });
});
