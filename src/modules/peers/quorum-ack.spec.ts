import { NoQuorumError, QuorumAck, QuorumWaits } from './quorum-ack';

/** What a QuorumAck's promise has done so far, read without waiting for it. */
async function outcome(ack: QuorumAck): Promise<'pending' | 'stored' | Error> {
  const seen = await Promise.race([ack.promise.then(() => 'stored' as const, (e: Error) => e), new Promise<'pending'>((r) => setImmediate(() => r('pending')))]);
  return seen;
}

describe(QuorumAck.name, () => {
  it('resolves at once when no peer needs to store the change (a node alone is its own majority)', async () => {
    const sut = new QuorumAck(0, 0, 1000);
    expect(sut.done).toBe(true);
    expect(await outcome(sut)).toBe('stored');
  });

  it('resolves only once `needed` peers acked (3 of 5 nodes: the host and 2 peers)', async () => {
    const sut = new QuorumAck(2, 4, 1000);
    sut.ack();
    expect(sut.done).toBe(false);
    expect(await outcome(sut)).toBe('pending');
    sut.ack();
    expect(sut.done).toBe(true);
    expect(await outcome(sut)).toBe('stored');
  });

  it('rejects with NoQuorumError as soon as too many peers dropped it for a majority to remain possible', async () => {
    const sut = new QuorumAck(1, 2, 1000); // 3 nodes: one of the two peers must store it
    sut.lose('peer failed');
    expect(await outcome(sut)).toBe('pending'); // the other peer can still make it
    sut.lose('peer failed');
    const e = await outcome(sut);
    expect(e).toBeInstanceOf(NoQuorumError);
    expect((e as Error).message).toMatch(/not stored by a majority: peer failed/);
  });

  it('a lost peer does not undo a quorum already reached, and acks after a rejection change nothing', async () => {
    const stored = new QuorumAck(1, 2, 1000);
    stored.ack();
    stored.lose('late drop');
    stored.lose('late drop');
    expect(await outcome(stored)).toBe('stored');

    const refused = new QuorumAck(1, 1, 1000);
    refused.lose('dropped');
    refused.ack();
    expect(await outcome(refused)).toBeInstanceOf(NoQuorumError);
  });

  it('expires at its deadline, not before, with a retryable reason', async () => {
    const sut = new QuorumAck(1, 2, 1000);
    expect(sut.expire(999)).toBe(false);
    expect(await outcome(sut)).toBe('pending');
    expect(sut.expire(1000)).toBe(true);
    const e = await outcome(sut);
    expect(e).toBeInstanceOf(NoQuorumError);
    expect((e as Error).message).toMatch(/in time/);
    sut.ack(); // a peer storing it after the deadline: the sender was already told to retry
    expect(await outcome(sut)).toBeInstanceOf(NoQuorumError);
  });

  it('a rejection nobody waits for is not an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      new QuorumAck(1, 1, 0).expire(0);
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('unhandledRejection', listener);
    }
    expect(unhandled).toEqual([]);
  });
});

describe(QuorumWaits.name, () => {
  let now: number;
  let sut: QuorumWaits;

  beforeEach(() => {
    jest.useFakeTimers();
    now = 0;
    sut = new QuorumWaits(() => now, 100);
  });

  afterEach(() => {
    sut.close();
    jest.useRealTimers();
  });

  it('runs no timer for a change already stored', () => {
    sut.track(new QuorumAck(0, 0, 500));
    expect(jest.getTimerCount()).toBe(0);
  });

  it('expires open changes by their deadline with one sweeper, and stops sweeping once none is open', async () => {
    const early = sut.track(new QuorumAck(1, 2, 250));
    const late = sut.track(new QuorumAck(1, 2, 450));
    expect(jest.getTimerCount()).toBe(1); // one timer however many changes wait

    now = 300;
    jest.advanceTimersByTime(100);
    expect(early.done).toBe(true);
    expect(late.done).toBe(false);
    await expect(early.promise).rejects.toBeInstanceOf(NoQuorumError);

    late.ack(); // stored in time: the sweeper forgets it on its next round
    now = 400;
    jest.advanceTimersByTime(100);
    await expect(late.promise).resolves.toBeUndefined();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('starts a new sweeper for changes tracked after the last one stopped', () => {
    sut.track(new QuorumAck(1, 2, 50));
    now = 100;
    jest.advanceTimersByTime(100);
    expect(jest.getTimerCount()).toBe(0);

    const next = sut.track(new QuorumAck(1, 2, 150));
    expect(jest.getTimerCount()).toBe(1);
    now = 200;
    jest.advanceTimersByTime(100);
    expect(next.done).toBe(true);
  });

  it('close() rejects every open change (shutdown: their senders are told to retry) and stops the timer', async () => {
    const open = sut.track(new QuorumAck(1, 2, 10_000));
    sut.close();
    await expect(open.promise).rejects.toBeInstanceOf(NoQuorumError);
    expect(jest.getTimerCount()).toBe(0);
  });
});
