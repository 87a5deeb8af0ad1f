/** The properties the simulator checks (docs/replication.md's "must hold", split where one has two sides). */
export const CHECKERS = [
  'election safety',
  'log matching',
  'committed entries never change',
  'leader completeness',
  'a caught-up host applied the past',
  'committed entries stay electable',
  'acknowledged means committed',
  'nothing shown vanishes',
  'one sequence, one message',
  'liveness',
] as const;
export type CheckerName = (typeof CHECKERS)[number];

/** A checker found a property broken. The simulator adds the seed and the trace tail. */
export class CheckFailure extends Error {
  constructor(
    readonly checker: CheckerName,
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

/**
 * The checkers a run applies: all of them, or some only (a mutant test turns the others off to
 * show that one checker, alone, catches its mutant). A check that is off lets the run go on.
 */
export class Checks {
  private readonly on: ReadonlySet<CheckerName>;

  constructor(only?: readonly CheckerName[]) {
    this.on = new Set(only ?? CHECKERS);
  }

  has(checker: CheckerName): boolean {
    return this.on.has(checker);
  }

  fail(checker: CheckerName, detail: string): void {
    if (this.on.has(checker)) throw new CheckFailure(checker, detail);
  }
}
