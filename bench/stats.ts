// Statistics with the reference benchmark's rules (Python `statistics`), plus delivery accounting.

/** Python `statistics.quantiles(data, n, method='exclusive')[i - 1]` on already sorted data. */
export function quantileExclusive(sorted: ArrayLike<number>, i: number, n: number): number {
  const ld = sorted.length;
  if (ld === 0) return 0;
  if (ld === 1) return sorted[0];
  const m = ld + 1;
  let j = Math.floor((i * m) / n);
  j = j < 1 ? 1 : j > ld - 1 ? ld - 1 : j;
  const delta = i * m - j * n;
  return (sorted[j - 1] * (n - delta) + sorted[j] * delta) / n;
}

/** Python `statistics.median`. */
export function median(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The reference's p95: quantiles(n=20)[18], only with more than 20 samples, else 0. */
export function p95(sorted: ArrayLike<number>): number {
  return sorted.length > 20 ? quantileExclusive(sorted, 19, 20) : 0;
}

/** The reference's p99: quantiles(n=100)[98], only with more than 100 samples, else 0. */
export function p99(sorted: ArrayLike<number>): number {
  return sorted.length > 100 ? quantileExclusive(sorted, 99, 100) : 0;
}

export interface LatencyStats {
  avg_latency_ms: number;
  min_latency_ms: number;
  max_latency_ms: number;
  median_latency_ms: number;
  p95_latency_ms: number;
  p99_latency_ms: number;
  stdev_latency_ms: number;
  samples: number;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** The reference's latency_stats block (stdev is the sample stdev, only with >= 2 samples). */
export function latencyStats(samples: ArrayLike<number>): LatencyStats {
  const sorted = Float64Array.from(samples as ArrayLike<number>).sort();
  const n = sorted.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i];
  const avg = n ? sum / n : 0;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (sorted[i] - avg) ** 2;
  return {
    avg_latency_ms: round3(avg),
    min_latency_ms: round3(n ? sorted[0] : 0),
    max_latency_ms: round3(n ? sorted[n - 1] : 0),
    median_latency_ms: round3(median(sorted)),
    p95_latency_ms: round3(p95(sorted)),
    p99_latency_ms: round3(p99(sorted)),
    stdev_latency_ms: round3(n >= 2 ? Math.sqrt(sq / (n - 1)) : 0),
    samples: n,
  };
}

/** A growable Float64Array: latency samples without boxing (fan-out runs collect ~10^6). */
export class SampleBuffer {
  private data = new Float64Array(1024);
  length = 0;
  push(x: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = x;
  }
  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

export interface DeliveryCounts {
  expected: number;
  delivered: number;
  lost: number;
  duplicated: number;
  out_of_order: number;
  unexpected: number;
}

/**
 * What one member saw of one room. A member should see every sequence number after the
 * `last_sequence` it joined at, each exactly once, each exactly one higher than the one before.
 */
export class MemberRoomLedger {
  private seen = new Uint8Array(64);
  private last: number;
  delivered = 0;
  duplicated = 0;
  outOfOrder = 0;

  constructor(readonly baseSequence: number) {
    this.last = baseSequence;
  }

  /** Records one `new_message`; returns false when it is a duplicate or not after the join. */
  record(sequence: number): boolean {
    const idx = sequence - this.baseSequence - 1;
    if (idx < 0) return false; // history replay from before the join: not part of the run
    if (idx >= this.seen.length) {
      let size = this.seen.length;
      while (size <= idx) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.seen);
      this.seen = next;
    }
    if (this.seen[idx]) {
      this.duplicated++;
      return false;
    }
    this.seen[idx] = 1;
    if (sequence !== this.last + 1) this.outOfOrder++;
    if (sequence > this.last) this.last = sequence;
    this.delivered++;
    return true;
  }

  has(sequence: number): boolean {
    const idx = sequence - this.baseSequence - 1;
    return idx >= 0 && idx < this.seen.length && this.seen[idx] === 1;
  }

  /**
   * Compares with the sequence numbers the room's host acknowledged to senders during the run:
   * each acknowledged one after the join that never arrived is lost; arrivals nobody saw
   * acknowledged (an ack that never came back) are `unexpected`, not an error.
   */
  account(acked: Iterable<number>): DeliveryCounts {
    let expected = 0;
    let lost = 0;
    for (const seq of acked) {
      if (seq <= this.baseSequence) continue;
      expected++;
      if (!this.has(seq)) lost++;
    }
    return {
      expected,
      delivered: this.delivered,
      lost,
      duplicated: this.duplicated,
      out_of_order: this.outOfOrder,
      unexpected: Math.max(0, this.delivered - (expected - lost)),
    };
  }
}

export function addCounts(a: DeliveryCounts, b: DeliveryCounts): DeliveryCounts {
  return {
    expected: a.expected + b.expected,
    delivered: a.delivered + b.delivered,
    lost: a.lost + b.lost,
    duplicated: a.duplicated + b.duplicated,
    out_of_order: a.out_of_order + b.out_of_order,
    unexpected: a.unexpected + b.unexpected,
  };
}

export const zeroCounts = (): DeliveryCounts => ({
  expected: 0,
  delivered: 0,
  lost: 0,
  duplicated: 0,
  out_of_order: 0,
  unexpected: 0,
});

/** Content of a bench message: `bench|<client>|<n>|<send time ms>|<padding>`. */
export function encodeContent(client: number, n: number, sentAtMs: number, padTo = 0): string {
  const base = `bench|${client}|${n}|${sentAtMs.toFixed(3)}`;
  return base.length >= padTo ? base : base + '|' + 'x'.repeat(padTo - base.length - 1);
}

export function decodeContent(content: string): { client: number; n: number; sentAtMs: number } | undefined {
  if (!content.startsWith('bench|')) return undefined;
  const parts = content.split('|', 4);
  const client = Number(parts[1]);
  const n = Number(parts[2]);
  const sentAtMs = Number(parts[3]);
  if (!Number.isInteger(client) || !Number.isInteger(n) || !Number.isFinite(sentAtMs)) return undefined;
  return { client, n, sentAtMs };
}
