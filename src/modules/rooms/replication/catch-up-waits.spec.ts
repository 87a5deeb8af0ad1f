import { peek } from '../../../testing/deferred';
import { CatchUpWaits } from './catch-up-waits';
import { Deadlines } from './deadlines';

describe(CatchUpWaits.name, () => {
  let now: number;
  let catchingUp: Set<string>;
  let deadlines: Deadlines;
  let sut: CatchUpWaits;
  const ran: string[] = [];
  const request = (name: string, fail = false) => async () => {
    ran.push(name);
    if (fail) throw new Error(`${name} refused`);
    return name;
  };

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    now = 0;
    catchingUp = new Set();
    deadlines = new Deadlines(() => now, 10);
    sut = new CatchUpWaits(deadlines, () => now + 1000, (roomId) => catchingUp.has(roomId));
    ran.length = 0;
  });

  afterEach(() => {
    deadlines.close();
    jest.useRealTimers();
  });

  it('runs a request in the caller\'s turn when the room is not catching up (a batch of sends keeps its order)', async () => {
    const a = sut.serve('r1', request('a'));
    const b = sut.serve('r1', request('b'));
    expect(ran).toEqual(['a', 'b']); // before any await
    await expect(Promise.all([a, b])).resolves.toEqual(['a', 'b']);
    let thrown: Promise<unknown> | undefined;
    expect(() => (thrown = sut.serve('r1', () => { throw new Error('sync'); }))).not.toThrow();
    await expect(thrown).rejects.toThrow('sync'); // a synchronous throw becomes a rejection
  });

  it('holds the requests of a room that catches up, runs them in arrival order once it has, and leaves other rooms alone', async () => {
    catchingUp.add('r1');
    const held = ['a', 'b', 'c'].map((n) => sut.serve('r1', request(n, n === 'b')));
    const other = sut.serve('r2', request('other'));
    expect(ran).toEqual(['other']);
    sut.check('r1');
    await Promise.resolve();
    expect(ran).toEqual(['other']); // still catching up: they wait on
    catchingUp.delete('r1');
    sut.check('r1');
    expect(ran).toEqual(['other']); // in a microtask, not inside the caller (the log writer's round)
    await Promise.resolve();
    expect(ran).toEqual(['other', 'a', 'b', 'c']);
    await expect(held[0]).resolves.toBe('a');
    await expect(held[1]).rejects.toThrow('b refused');
    await expect(held[2]).resolves.toBe('c');
    await expect(other).resolves.toBe('other');
  });

  it('refuses a held request retryably once its deadline passed, and does not run it later', async () => {
    catchingUp.add('r1');
    const early = sut.serve('r1', request('early'));
    now = 600;
    const late = sut.serve('r1', request('late'));
    now = 1000;
    jest.advanceTimersByTime(10);
    expect(await peek(early)).toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE', details: { retryable: true } });
    expect(await peek(late)).toBe('pending');
    catchingUp.delete('r1');
    sut.check('r1');
    await expect(late).resolves.toBe('late');
    expect(ran).toEqual(['late']);
  });
});
