import { SequenceWaiters } from './sequence-waiters';

/** What a waiter has resolved to so far; 'pending' while it has not settled. */
const track = (promise: Promise<boolean>) => {
  const state: { value: boolean | 'pending' } = { value: 'pending' };
  void promise.then((v) => (state.value = v));
  return state;
};
/** Lets resolved promises run their callbacks. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe(SequenceWaiters.name, () => {
  let sut: SequenceWaiters;
  const T0 = 1_000_000;

  beforeEach(() => {
    sut = new SequenceWaiters();
  });

  describe('reached', () => {
    it('resolves true the waiters at or below the reached sequence, and keeps the others pending', async () => {
      const w3 = track(sut.wait('r1', 3, T0));
      const w1 = track(sut.wait('r1', 1, T0));
      const w2 = track(sut.wait('r1', 2, T0));
      const w5 = track(sut.wait('r1', 5, T0));

      sut.reached('r1', 2, T0 + 10);
      await flush();
      expect([w1.value, w2.value, w3.value, w5.value]).toEqual([true, true, 'pending', 'pending']);

      sut.reached('r1', 4, T0 + 20);
      await flush();
      expect([w3.value, w5.value]).toEqual([true, 'pending']);

      sut.reached('r1', 5, T0 + 30);
      await flush();
      expect(w5.value).toBe(true);
    });

    it('leaves waiters pending while the room stays below their sequence', async () => {
      const w = track(sut.wait('r1', 7, T0));
      sut.reached('r1', 6, T0 + 1);
      sut.reached('r1', 6, T0 + 2);
      await flush();
      expect(w.value).toBe('pending');
      expect(sut.size).toBe(1);
    });

    it('only touches the room it is about', async () => {
      const a = track(sut.wait('r1', 1, T0));
      const b = track(sut.wait('r2', 1, T0));
      sut.reached('r2', 10, T0 + 1);
      sut.reached('unknown', 10, T0 + 1);
      await flush();
      expect([a.value, b.value]).toEqual(['pending', true]);
    });
  });

  describe('size', () => {
    it('counts rooms with waiters, and forgets a room once its last waiter is resolved or released', () => {
      expect(sut.size).toBe(0);
      void sut.wait('r1', 1, T0);
      void sut.wait('r1', 2, T0);
      void sut.wait('r2', 1, T0);
      expect(sut.size).toBe(2);
      sut.reached('r1', 1, T0);
      expect(sut.size).toBe(2);
      sut.reached('r1', 2, T0);
      expect(sut.size).toBe(1);
      sut.release('r2');
      expect(sut.size).toBe(0);
    });
  });

  describe('stalled', () => {
    it('lists rooms whose waiters waited at least the grace period, up to their highest awaited sequence', () => {
      void sut.wait('r1', 4, T0);
      void sut.wait('r1', 9, T0 + 500);
      void sut.wait('r2', 2, T0 + 600);

      expect(sut.stalled(T0 + 999, 1000)).toEqual([]);
      expect(sut.stalled(T0 + 1000, 1000)).toEqual([{ roomId: 'r1', upTo: 9 }]);
      expect(sut.stalled(T0 + 1600, 1000)).toEqual([{ roomId: 'r2', upTo: 2 }]);
    });

    it('does not list a room that made progress within the grace period', () => {
      void sut.wait('r1', 5, T0);
      void sut.wait('r2', 5, T0);
      sut.reached('r1', 3, T0 + 800);

      expect(sut.stalled(T0 + 1000, 1000)).toEqual([{ roomId: 'r2', upTo: 5 }]);
      expect(sut.stalled(T0 + 1800, 1000)).toEqual([{ roomId: 'r1', upTo: 5 }]);
    });

    it('reports a stall once, and again only after another grace period without progress', () => {
      void sut.wait('r1', 5, T0);
      expect(sut.stalled(T0 + 1000, 1000)).toHaveLength(1);
      expect(sut.stalled(T0 + 1500, 1000)).toEqual([]);
      expect(sut.stalled(T0 + 2000, 1000)).toEqual([{ roomId: 'r1', upTo: 5 }]);
    });

    it('does not list rooms whose waiters were all satisfied', () => {
      void sut.wait('r1', 5, T0);
      sut.reached('r1', 5, T0 + 1);
      expect(sut.stalled(T0 + 10_000, 1000)).toEqual([]);
    });
  });

  describe('release', () => {
    it("resolves the room's waiters false, and leaves other rooms waiting", async () => {
      const a = track(sut.wait('r1', 1, T0));
      const b = track(sut.wait('r1', 2, T0));
      const other = track(sut.wait('r2', 1, T0));

      sut.release('r1');
      await flush();

      expect([a.value, b.value, other.value]).toEqual([false, false, 'pending']);
      expect(sut.stalled(T0 + 10_000, 1000)).toEqual([{ roomId: 'r2', upTo: 1 }]);
    });

    it('does nothing for a room without waiters, and a released waiter is not resolved again by a later reach', async () => {
      expect(() => sut.release('nobody')).not.toThrow();
      const w = track(sut.wait('r1', 1, T0));
      sut.release('r1');
      sut.reached('r1', 1, T0 + 1);
      await flush();
      expect(w.value).toBe(false);
      expect(sut.size).toBe(0);
    });
  });
});
