import { CommitWaits, type CommitOutcome } from './commit-waits';
import type { Entry } from './log-entry';

const entry = (index: number, epoch: number): Entry => ({ index, epoch, kind: 'message', sequence: index, clientKey: null, data: null });

describe(CommitWaits.name, () => {
  let sut: CommitWaits;
  let outcomes: Map<string, CommitOutcome>;
  const wait = (name: string, index: number, epoch: number) => sut.wait(index, epoch, (o) => outcomes.set(name, o));

  beforeEach(() => {
    sut = new CommitWaits();
    outcomes = new Map();
  });

  it('tells a client its entry committed only when the entry committed at its place is the one it wrote', () => {
    wait('mine', 3, 2);
    sut.committed([entry(1, 2), entry(2, 2)]);
    expect(outcomes.size).toBe(0);
    sut.committed([entry(3, 2)]);
    expect(outcomes.get('mine')).toEqual({ committed: true, entry: entry(3, 2) });
    expect(sut.size).toBe(0);
  });

  it('tells a client whose place another host\'s entry took that it was replaced (it retries)', () => {
    wait('old host', 3, 2);
    sut.committed([entry(3, 3)]);
    expect(outcomes.get('old host')).toEqual({ committed: false, reason: 'replaced' });
  });

  it('a retry waiting for the same entry is told with the first attempt', () => {
    wait('first', 4, 1);
    wait('retry', 4, 1);
    sut.committed([entry(4, 1)]);
    expect([...outcomes.keys()]).toEqual(['first', 'retry']);
    expect(outcomes.get('retry')).toMatchObject({ committed: true });
  });

  it('ends waits registered out of order, each at its own entry, and one below the batch as replaced (its entry was applied before it)', () => {
    wait('six', 6, 1);
    wait('four', 4, 1);
    wait('five', 5, 1);
    wait('two', 2, 1);
    sut.committed([entry(4, 1), entry(5, 2)]);
    expect(outcomes.get('four')).toEqual({ committed: true, entry: entry(4, 1) });
    expect(outcomes.get('five')).toEqual({ committed: false, reason: 'replaced' });
    expect(outcomes.get('two')).toEqual({ committed: false, reason: 'replaced' });
    expect(outcomes.has('six')).toBe(false);
    expect(sut.size).toBe(1);
  });

  it('when this node stops hosting (or cannot store), every wait ends, with the reason', () => {
    wait('a', 5, 1);
    wait('b', 6, 1);
    sut.hostLost();
    expect([...outcomes.values()]).toEqual([
      { committed: false, reason: 'host-lost' },
      { committed: false, reason: 'host-lost' },
    ]);
    wait('c', 7, 1);
    sut.hostLost('not-stored');
    expect(outcomes.get('c')).toEqual({ committed: false, reason: 'not-stored' });
    sut.committed([entry(5, 1)]); // too late: nobody is told twice
    expect(outcomes.get('a')).toEqual({ committed: false, reason: 'host-lost' });
  });
});
