import { FakeClock } from '../../../testing/fakes';
import { Deadlines } from './deadlines';

describe(Deadlines.name, () => {
  let clock: FakeClock;
  let sut: Deadlines;
  let expired: string[];

  beforeEach(() => {
    jest.useFakeTimers();
    clock = new FakeClock(0);
    sut = new Deadlines(() => clock.now(), 100);
    expired = [];
  });
  afterEach(() => {
    sut.close();
    jest.useRealTimers();
  });

  /** Moves the clock and the sweeping timer together. */
  const advance = (ms: number) => {
    clock.advance(ms);
    jest.advanceTimersByTime(ms);
  };

  it('expires each deadline at its time, once, within a sweep', () => {
    sut.add(250, () => expired.push('a'));
    sut.add(500, () => expired.push('b'));
    advance(200);
    expect(expired).toEqual([]);
    advance(100);
    expect(expired).toEqual(['a']);
    advance(1000);
    expect(expired).toEqual(['a', 'b']);
  });

  it('expires deadlines added out of time order at their own times', () => {
    sut.add(500, () => expired.push('late'));
    sut.add(150, () => expired.push('early'));
    advance(200);
    expect(expired).toEqual(['early']);
    advance(300);
    expect(expired).toEqual(['early', 'late']);
  });

  it('a cancelled deadline never expires', () => {
    const cancel = sut.add(100, () => expired.push('cancelled'));
    sut.add(100, () => expired.push('kept'));
    cancel();
    advance(500);
    expect(expired).toEqual(['kept']);
  });

  it('runs no timer while nothing is open (thousands of idle rooms cost nothing)', () => {
    expect(jest.getTimerCount()).toBe(0);
    const cancel = sut.add(1000, () => undefined);
    sut.add(50, () => undefined);
    expect(jest.getTimerCount()).toBe(1); // one timer, however many deadlines
    advance(100);
    cancel();
    advance(100);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('close() ends every open deadline at once (the node is shutting down: nobody waits for it)', () => {
    sut.add(10_000, () => expired.push('a'));
    sut.add(20_000, () => expired.push('b'));
    sut.close();
    expect(expired).toEqual(['a', 'b']);
    expect(jest.getTimerCount()).toBe(0);
  });
});
