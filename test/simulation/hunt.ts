import { SimViolation } from './check-failure';
import type { Mutant } from './mutants';
import type { SimOptions } from './sim-params';
import { simulate } from './simulator';

export interface Catch {
  readonly seed: number;
  /** Seeds run until the first violation, that one included. */
  readonly seedsRun: number;
  readonly violation: SimViolation;
}

/** Runs seeds from..from+max-1 with `mutant` applied (restored afterwards); the first violation, or null. */
export function hunt(mutant: Mutant, from: number, max: number, options: SimOptions = {}): Catch | null {
  const restore = mutant.apply();
  try {
    for (let i = 0; i < max; i++) {
      try {
        simulate(from + i, options);
      } catch (e) {
        if (e instanceof SimViolation) return { seed: from + i, seedsRun: i + 1, violation: e };
        throw e;
      }
    }
    return null;
  } finally {
    restore();
  }
}
