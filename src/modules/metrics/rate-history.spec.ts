import { FakeClock } from '../../testing/fakes';
import type { NodeGauges } from './node-gauges';
import { RATE_SAMPLE_INTERVAL_S, RateHistory } from './rate-history';

describe(RateHistory.name, () => {
  let counters: { messagesTotal: number; deliveriesTotal: number };
  let clock: FakeClock;
  let sut: RateHistory;

  beforeEach(() => {
    counters = { messagesTotal: 0, deliveriesTotal: 0 };
    clock = new FakeClock();
    sut = new RateHistory({ counters: () => ({ ...counters }) } as unknown as NodeGauges, clock);
  });
  afterEach(() => sut.onModuleDestroy());

  const step = (messages: number, deliveries: number) => {
    counters.messagesTotal += messages;
    counters.deliveriesTotal += deliveries;
    clock.advance(RATE_SAMPLE_INTERVAL_S * 1000);
    sut.sample();
  };

  it('has no rates before a second sample, then one per interval, per second, oldest first', () => {
    expect(sut.series()).toEqual({ interval_s: RATE_SAMPLE_INTERVAL_S, messages_per_s: [], deliveries_per_s: [] });
    step(10, 30);
    step(0, 0);
    step(4, 12);
    const perSecond = (n: number) => n / RATE_SAMPLE_INTERVAL_S;
    expect(sut.series().messages_per_s).toEqual([perSecond(10), 0, perSecond(4)]);
    expect(sut.series().deliveries_per_s).toEqual([perSecond(30), 0, perSecond(12)]);
  });

  it('divides by the time that really passed: a wall clock set back or forward an hour changes no rate', () => {
    clock.jump(-3_600_000);
    step(10, 10);
    clock.jump(3_600_000);
    step(10, 10);
    expect(sut.series().messages_per_s).toEqual([10 / RATE_SAMPLE_INTERVAL_S, 10 / RATE_SAMPLE_INTERVAL_S]);
  });

  it('keeps five minutes of history', () => {
    for (let i = 0; i < 400; i++) step(1, 1);
    expect(sut.series().messages_per_s).toHaveLength(300 / RATE_SAMPLE_INTERVAL_S);
  });
});
