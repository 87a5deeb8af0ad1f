/** Faults a run injected, by kind. */
export interface FaultCounts {
  crash: number;
  /** Crashes right after an election event. */
  electionCrash: number;
  wipe: number;
  pause: number;
  partition: number;
  /** A new host cut off alone right after its election. */
  isolateHost: number;
  oneWayCut: number;
  clusterCrash: number;
  diskStall: number;
  drop: number;
  duplicate: number;
  reorder: number;
}

/** What a run (or many) did: the figures `npm run sim` prints. */
export interface SimStats {
  schedules: number;
  /** Schedules by cluster size and by fault family. */
  byNodes: Record<string, number>;
  byFamily: Record<string, number>;
  ticks: number;
  messages: number;
  acks: number;
  elections: number;
  /** The most ticks any run took, after its calm began, to have every probe acknowledged and every node converged. */
  slowestConvergence: number;
  faults: FaultCounts;
}

export const emptyStats = (): SimStats => ({
  schedules: 0,
  byNodes: {},
  byFamily: {},
  ticks: 0,
  messages: 0,
  acks: 0,
  elections: 0,
  slowestConvergence: 0,
  faults: { crash: 0, electionCrash: 0, wipe: 0, pause: 0, partition: 0, isolateHost: 0, oneWayCut: 0, clusterCrash: 0, diskStall: 0, drop: 0, duplicate: 0, reorder: 0 },
});

export function addStats(into: SimStats, s: SimStats): void {
  into.schedules += s.schedules;
  for (const [k, v] of Object.entries(s.byNodes)) into.byNodes[k] = (into.byNodes[k] ?? 0) + v;
  for (const [k, v] of Object.entries(s.byFamily)) into.byFamily[k] = (into.byFamily[k] ?? 0) + v;
  into.ticks += s.ticks;
  into.messages += s.messages;
  into.acks += s.acks;
  into.elections += s.elections;
  into.slowestConvergence = Math.max(into.slowestConvergence, s.slowestConvergence);
  for (const k of Object.keys(s.faults) as (keyof FaultCounts)[]) into.faults[k] += s.faults[k];
}
