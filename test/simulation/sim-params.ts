import type { CheckerName } from './check-failure';
import type { SimRandom } from './sim-random';

/** The cluster's timing and sizes in one run (logical time: a step is the network's unit, a tick the cores'). */
export interface SimParams {
  readonly nodes: number;
  readonly tickSteps: number;
  readonly heartbeatTicks: number;
  /** A peer silent this long is reported down. */
  readonly silenceTicks: number;
  readonly electionTicks: number;
  readonly resendTicks: number;
  readonly maxAppendEntries: number;
  readonly maxInflight: number;
  /** Tick every core, not only those that are not quiet. */
  readonly tickAll: boolean;
  readonly rooms: number;
  readonly clients: number;
  /** Faults happen during the first `faultTicks`; then everything heals. */
  readonly faultTicks: number;
}

export interface SimOptions {
  nodes?: number;
  tickAll?: boolean;
  faultTicks?: number;
  /** Events kept for the report of a violation (the trace hash covers all of them anyway). */
  traceTail?: number;
  /** Only these checkers (all by default). */
  checkers?: readonly CheckerName[];
}

export function drawParams(rng: SimRandom, o: SimOptions): SimParams {
  const nodes = rng.pick([3, 5]); // drawn even when given: a seed found with 3 drawn replays with 3 given
  return {
    nodes: o.nodes ?? nodes,
    tickSteps: 10,
    heartbeatTicks: 2,
    silenceTicks: 6,
    electionTicks: 10,
    resendTicks: rng.int(3, 6),
    maxAppendEntries: rng.pick([1, 1, 1, 2, 4, 8]),
    maxInflight: rng.int(1, 4),
    tickAll: o.tickAll ?? rng.chance(0.1),
    rooms: rng.int(1, 3),
    clients: rng.int(2, 5),
    faultTicks: o.faultTicks ?? rng.int(150, 400),
  };
}
