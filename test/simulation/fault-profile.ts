import type { LinkFaults } from './sim-network';
import type { SimRandom } from './sim-random';

export type FaultKind = 'crash' | 'wipe' | 'pause' | 'partition' | 'oneWayCut' | 'clusterCrash';

/**
 * A family of schedules, each good at finding one kind of bug: `mixed` draws everything at random;
 * `hostChurn` cuts off each new host with partial logs, now and then (Raft's Figure 8 needs that);
 * `amnesia` wipes disks (within the budget); `storm` strikes every few ticks; `calm` rarely.
 */
export type FaultFamily = 'mixed' | 'hostChurn' | 'amnesia' | 'storm' | 'calm';

/** How one run misbehaves, drawn from its seed. */
export interface FaultProfile {
  readonly family: FaultFamily;
  /** Disks may be wiped; then at most a minority of the nodes is faulty at any time. */
  readonly amnesia: boolean;
  /** Mean ticks between two faults. */
  readonly every: number;
  readonly weights: Readonly<Record<FaultKind, number>>;
  readonly links: LinkFaults;
  /** A write takes lo..hi steps (an fsync is often slower than a message). */
  readonly diskLatency: readonly [number, number];
  /** Chance that one write takes much longer (a stalled disk). */
  readonly diskStall: number;
  /** Longest partition or cut, in ticks: short ones flap (leaders come and go with partial logs), long ones starve. */
  readonly cutTicks: number;
  /** Chance that a new host is cut off alone right away (and the host cut off before it is back). */
  readonly isolateNewHost: number;
  /** Chance that a node crashes right after it reports a new role, host or epoch (faults cluster around elections). */
  readonly electionCrash: number;
}

export function drawProfile(rng: SimRandom, nodes: readonly string[]): FaultProfile {
  const family = rng.pick<FaultFamily>(['mixed', 'mixed', 'mixed', 'hostChurn', 'hostChurn', 'hostChurn', 'amnesia', 'amnesia', 'amnesia', 'storm', 'calm']);
  const slowNodes: Record<string, number> = {};
  if (rng.chance(0.5)) for (const n of nodes) slowNodes[n] = rng.pick([0, 0, 0, 10, 40]);
  const amnesia = family === 'amnesia' || (family === 'mixed' && rng.chance(0.3));
  const w = () => rng.pick([0, 1, 2, 3]);
  const weights = { crash: w(), wipe: amnesia ? 1 + w() : 0, pause: w(), partition: w(), oneWayCut: w(), clusterCrash: amnesia ? 0 : rng.pick([0, 0, 1]) };
  if (Object.values(weights).every((x) => x === 0)) weights.crash = 1;
  const churn = family === 'hostChurn';
  return {
    family,
    amnesia,
    every: family === 'storm' ? rng.pick([1, 2, 4]) : family === 'calm' ? rng.pick([16, 32, 64]) : churn ? rng.pick([32, 64, 128]) : family === 'amnesia' ? rng.pick([8, 16, 32]) : rng.pick([2, 4, 8, 16, 32]),
    weights,
    links: {
      drop: churn ? rng.pick([0, 0.01]) : rng.pick([0, 0.01, 0.05, 0.15]),
      duplicate: rng.pick([0, 0.02, 0.1]),
      longDelay: rng.pick([0, 0.01, 0.05]),
      maxDelay: rng.pick([2, 5, 10]),
      slowNodes,
    },
    diskLatency: rng.pick([[1, 4], [2, 10], [5, 30]] as const),
    diskStall: rng.pick([0, 0.01, 0.05]),
    electionCrash: churn ? rng.pick([0, 0, 0.05]) : rng.pick([0, 0.1, 0.3, 0.5]),
    cutTicks: rng.pick([12, 30, 80]),
    isolateNewHost: churn ? rng.pick([0.5, 0.8]) : rng.pick([0, 0, 0.2, 0.5]),
  };
}
