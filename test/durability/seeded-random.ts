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

/**
 * A seeded random source: every seeded test (fault suites, chaos, the fuzzer, the simulator) draws
 * from one of these, so a printed seed replays the run.
 */
export class SeededRandom {
  private readonly draw: () => number;
  constructor(readonly seed: number) {
    this.draw = mulberry32(seed);
  }
  /** [0, 1) */
  float(): number {
    return this.draw();
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.draw() * (hi - lo + 1));
  }
  /** True with probability `p` (no draw when `p` is 0). */
  chance(p: number): boolean {
    return p > 0 && this.draw() < p;
  }
  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }
  /** Picks by weight: [[weight, value], ...]. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    const total = items.reduce((n, [w]) => n + w, 0);
    let r = this.draw() * total;
    for (const [w, v] of items) if ((r -= w) < 0) return v;
    return items[items.length - 1][1];
  }
  /** `items` in random order (a new array). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
  /** `k` distinct items of `items` in random order. */
  sample<T>(items: readonly T[], k: number): T[] {
    return this.shuffle(items).slice(0, k);
  }
}
