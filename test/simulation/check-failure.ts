/** A checker found a property broken. The simulator adds the seed and the trace tail. */
export class CheckFailure extends Error {
  constructor(
    readonly checker: string,
    readonly detail: string,
  ) {
    super(`${checker}: ${detail}`);
  }
}

/** A violation found in one seeded run: what to replay and what happened last. */
export class SimViolation extends Error {
  constructor(
    readonly seed: number,
    readonly nodes: number,
    readonly checker: string,
    readonly detail: string,
    readonly traceTail: readonly string[],
  ) {
    super(`seed ${seed} (${nodes} nodes): ${checker}: ${detail}\n  replay: SIM_SEED=${seed} SIM_NODES=${nodes}\n  last events:\n    ${traceTail.join('\n    ')}`);
  }
}
