import {
  decodeContent,
  encodeContent,
  latencyStats,
  median,
  MemberRoomLedger,
  p95,
  p99,
  quantileExclusive,
} from '../../bench/stats';
import { parseNewMessageFast } from '../../bench/load';
import { areaOf } from '../../bench/profile-summary';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('reference percentile rules (Python statistics, exclusive method)', () => {
  // Expected values computed with CPython 3.11 `statistics.quantiles` / `median` / `stdev`.
  it('matches quantiles(n=20)[18] and quantiles(n=100)[98] on 1..1000', () => {
    const data = range(1, 1000);
    expect(p95(data)).toBeCloseTo(950.95, 9);
    expect(p99(data)).toBeCloseTo(990.99, 9);
    expect(median(data)).toBe(500.5);
  });

  it('interpolates like Python on small and uneven samples', () => {
    expect(p95(range(1, 21))).toBeCloseTo(20.9, 9);
    const uneven = [1, 2, 3, 10, ...range(100, 197)];
    expect(p99(uneven)).toBeCloseTo(196.97, 9);
    expect(quantileExclusive([1, 2, 3, 4], 1, 4)).toBeCloseTo(1.25, 9);
  });

  it('reports p95 only above 20 samples and p99 only above 100 samples, as the reference does', () => {
    expect(p95(range(1, 20))).toBe(0);
    expect(p99(range(1, 100))).toBe(0);
    expect(p99(range(1, 101))).toBeGreaterThan(0);
  });

  it('builds the latency_stats block from unsorted samples, stdev only with two or more', () => {
    const stats = latencyStats([...range(1, 1000)].reverse());
    expect(stats).toMatchObject({
      min_latency_ms: 1,
      max_latency_ms: 1000,
      avg_latency_ms: 500.5,
      median_latency_ms: 500.5,
      p95_latency_ms: 950.95,
      p99_latency_ms: 990.99,
      samples: 1000,
    });
    expect(stats.stdev_latency_ms).toBeCloseTo(288.819, 3);
    expect(latencyStats([5]).stdev_latency_ms).toBe(0);
    expect(latencyStats([]).avg_latency_ms).toBe(0);
  });
});

describe(MemberRoomLedger.name, () => {
  it('counts a clean in-order stream as complete', () => {
    const sut = new MemberRoomLedger(10);
    for (const seq of [11, 12, 13]) sut.record(seq);
    expect(sut.account([11, 12, 13])).toEqual({ expected: 3, delivered: 3, lost: 0, duplicated: 0, out_of_order: 0, unexpected: 0 });
  });

  it('ignores history from before the join', () => {
    const sut = new MemberRoomLedger(10);
    expect(sut.record(9)).toBe(false);
    expect(sut.record(10)).toBe(false);
    expect(sut.account([8, 9, 10]).expected).toBe(0);
  });

  it('finds lost, duplicated and out-of-order deliveries', () => {
    const sut = new MemberRoomLedger(0);
    for (const seq of [1, 3, 2, 3, 5]) sut.record(seq);
    expect(sut.account([1, 2, 3, 4, 5])).toEqual({
      expected: 5,
      delivered: 4,
      lost: 1, // 4 never arrived
      duplicated: 1, // 3 twice
      out_of_order: 3, // 3 after 1, 2 after 3, 5 after 3
      unexpected: 0,
    });
  });

  it('counts deliveries whose acknowledgement never came back as unexpected, not lost', () => {
    const sut = new MemberRoomLedger(0);
    for (const seq of [1, 2]) sut.record(seq);
    expect(sut.account([1])).toMatchObject({ expected: 1, delivered: 2, lost: 0, unexpected: 1 });
  });

  it('keeps up with sequence numbers far beyond its initial capacity', () => {
    const sut = new MemberRoomLedger(100);
    for (let seq = 101; seq <= 5100; seq++) sut.record(seq);
    expect(sut.account(range(101, 5100))).toMatchObject({ delivered: 5000, lost: 0, out_of_order: 0 });
  });
});

describe('bench message content', () => {
  it('round-trips client, counter and send time, padded to a size', () => {
    const content = encodeContent(7, 42, 1234.5678, 200);
    expect(content).toHaveLength(200);
    expect(decodeContent(content)).toEqual({ client: 7, n: 42, sentAtMs: 1234.568 });
    expect(decodeContent('hello')).toBeUndefined();
  });

  it('reads new_message frames on the fast path whatever the spacing, and declines other frames', () => {
    const data = { message_id: 'm', room_id: 'r-1', username: 'u', content: encodeContent(3, 4, 5.5), sequence_number: 17, timestamp: 't' };
    const compact = JSON.stringify({ type: 'new_message', data });
    const spaced = JSON.stringify({ type: 'new_message', data }, null, 1);
    for (const text of [compact, spaced]) {
      expect(parseNewMessageFast(text)).toEqual({ roomId: 'r-1', sequence: 17, meta: { client: 3, n: 4, sentAtMs: 5.5 } });
    }
    expect(parseNewMessageFast(JSON.stringify({ type: 'message_sent', data }))).toBeUndefined();
    expect(parseNewMessageFast(JSON.stringify({ type: 'new_message', data: { ...data, content: 'hi' } }))).toBeUndefined();
  });
});

describe('profile areas', () => {
  it('attributes script URLs to the project, npm packages and node internals', () => {
    expect(areaOf('file:///work/main/dist/modules/rooms/rooms.service.js', 'f')).toBe('src/modules/rooms/rooms.service.ts');
    expect(areaOf('file:///work/main/node_modules/@nestjs/core/router.js', 'f')).toBe('npm:@nestjs/core');
    expect(areaOf('node:internal/streams/readable', 'f')).toBe('node:internal');
    expect(areaOf('', '(garbage collector)')).toBe('(garbage collector)');
  });
});
