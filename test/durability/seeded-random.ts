/** Seeded randomness for fault tests: the seed is printed so that a failing run can be replayed. */

/** mulberry32: a tiny seeded PRNG, so a failing run can be replayed with its printed seed. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The run's seed: env FAILOVER_SEED or `fallback`, printed so that a failure can be replayed. */
export function failoverSeed(fallback = 20261201): number {
  const raw = process.env.FAILOVER_SEED;
  const seed = raw ? Number(raw) : fallback;
  if (!Number.isSafeInteger(seed)) throw new Error(`FAILOVER_SEED must be an integer, got ${raw}`);
  console.log(`failover seed ${seed} (replay with FAILOVER_SEED=${seed})`);
  return seed;
}

/** A seeded random source with the helpers fault tests need. */
export class SeededRandom {
  private readonly next: () => number;
  constructor(readonly seed: number) {
    this.next = mulberry32(seed);
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }
}
