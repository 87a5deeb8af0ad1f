import { PeerOutbox, type EncodedEvent, type OutboxOptions } from './peer-outbox';

const event = (n: number, bytes = 100): EncodedEvent => ({ event: { kind: 'deleted', room_id: `room-${n}`, room_name: `r${n}`, transaction_id: null }, json: '{}', bytes });
const ids = (batch: EncodedEvent[]) => batch.map(({ event: e }) => (e.kind === 'deleted' ? e.room_id : e.kind));

/** Lets every pending promise callback run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

interface Call {
  batch: EncodedEvent[];
  settled: boolean;
  answer(): void;
  refuse(reason?: string): void;
}

/** One peer seen through the outbox: each call stays in flight until the test answers or refuses it. */
class FakePeer {
  readonly calls: Call[] = [];
  /** Every event the peer accepted, in order. */
  readonly delivered: string[] = [];
  readonly sleeps: number[] = [];
  failed = false;
  dropped = 0;

  readonly sendBatch = (batch: EncodedEvent[]) =>
    new Promise<void>((resolve, reject) => {
      const call: Call = {
        batch: [...batch],
        settled: false,
        answer: () => {
          call.settled = true;
          this.delivered.push(...ids(call.batch));
          resolve();
        },
        refuse: (reason = 'timeout') => {
          call.settled = true;
          reject(new Error(reason));
        },
      };
      this.calls.push(call);
    });
  readonly sleep = (ms: number) => {
    this.sleeps.push(ms);
    return Promise.resolve();
  };

  get last(): Call {
    return this.calls[this.calls.length - 1];
  }
  /** Answers the call in flight, and every call that follows, until the outbox goes quiet. */
  async answerAll(): Promise<void> {
    for (let call = this.inFlight(); call; call = this.inFlight()) {
      call.answer();
      await settle();
    }
  }
  private inFlight(): Call | undefined {
    return this.calls.find((c) => !c.settled);
  }
}

describe(PeerOutbox.name, () => {
  let peer: FakePeer;
  let sut: PeerOutbox;
  let now: number;
  const outbox = (options: OutboxOptions = {}) => new PeerOutbox(peer.sendBatch, () => peer.failed, () => peer.dropped++, { sleep: peer.sleep, now: () => now, ...options });

  beforeEach(() => {
    now = 1_000_000;
    peer = new FakePeer();
    sut = outbox();
  });

  it('sends at once, keeps one call in flight and coalesces later events into the next call, in order', async () => {
    sut.push(event(1));
    expect(peer.calls.map((c) => ids(c.batch))).toEqual([['room-1']]);

    sut.push(event(2));
    sut.push(event(3));
    sut.push(event(4));
    await settle();
    expect(peer.calls).toHaveLength(1);
    expect(sut.pending).toBe(4);

    await peer.answerAll();

    expect(peer.calls.map((c) => ids(c.batch))).toEqual([['room-1'], ['room-2', 'room-3', 'room-4']]);
    expect(peer.delivered).toEqual(['room-1', 'room-2', 'room-3', 'room-4']);
    expect(sut.pending).toBe(0);
  });

  it('splits a long backlog into batches of at most 256 without losing order', async () => {
    sut.push(event(0));
    for (let i = 1; i <= 300; i++) sut.push(event(i));

    await peer.answerAll();

    expect(peer.calls.map((c) => c.batch.length)).toEqual([1, 256, 44]);
    expect(peer.delivered).toEqual(Array.from({ length: 301 }, (_, i) => `room-${i}`));
  });

  it('retries the same batch with doubling backoff (capped at 2 s) while the peer is not failed, then resets it', async () => {
    sut.push(event(1));
    for (let i = 0; i < 8; i++) {
      peer.last.refuse();
      await settle();
    }
    expect(peer.sleeps).toEqual([50, 100, 200, 400, 800, 1600, 2000, 2000]);
    expect(peer.calls.every((c) => ids(c.batch).join() === 'room-1')).toBe(true);

    peer.last.answer();
    await settle();
    expect(sut.pending).toBe(0);

    sut.push(event(2));
    peer.last.refuse();
    await settle();
    expect(peer.sleeps.at(-1)).toBe(50);
    expect(peer.dropped).toBe(0);
  });

  it('retries a refused batch with half as many events, down to one, and grows back after successes', async () => {
    sut.push(event(0));
    for (let i = 1; i <= 8; i++) sut.push(event(i));
    peer.last.answer();
    await settle();
    expect(ids(peer.last.batch)).toHaveLength(8);

    peer.last.refuse('Request body is larger than 1048576 bytes; send smaller calls');
    await settle();
    expect(ids(peer.last.batch)).toEqual(['room-1', 'room-2', 'room-3', 'room-4']);
    peer.last.refuse();
    await settle();
    peer.last.refuse();
    await settle();
    peer.last.refuse();
    await settle();
    expect(ids(peer.last.batch)).toEqual(['room-1']);

    await peer.answerAll();
    expect(peer.calls.slice(-4).map((c) => c.batch.length)).toEqual([1, 2, 4, 1]);
    expect(peer.delivered).toEqual(Array.from({ length: 9 }, (_, i) => `room-${i}`));
  });

  it('bounds a batch by encoded bytes as well as by count; a single event always travels', async () => {
    sut = outbox({ maxBatchBytes: 1000 });
    sut.push(event(0, 5000));
    for (let i = 1; i <= 12; i++) sut.push(event(i, 199));

    await peer.answerAll();

    // 5 events of 199 bytes (plus a separator each) fit in 1000 bytes
    expect(peer.calls.map((c) => c.batch.length)).toEqual([1, 5, 5, 2]);
    expect(peer.delivered).toHaveLength(13);
  });

  it('reports a peer that keeps refusing once, with the backlog and the reason, and once when it recovers', async () => {
    const failing: unknown[] = [];
    const recovered: number[] = [];
    sut = outbox({ failingAfter: 3, onFailing: (b) => failing.push(b), onRecovered: (n) => recovered.push(n) });
    sut.push(event(1));
    sut.push(event(2));
    for (let i = 0; i < 5; i++) {
      now += 1000;
      peer.last.refuse('body too large');
      await settle();
    }

    expect(failing).toEqual([{ pending: 2, oldestPendingMs: 3000, failing: true, failures: 3, lastError: 'body too large' }]);
    expect(sut.backlog()).toEqual({ pending: 2, oldestPendingMs: 5000, failing: true, failures: 5, lastError: 'body too large' });

    await peer.answerAll();
    expect(recovered).toEqual([5]);
    expect(sut.backlog()).toEqual({ pending: 0, oldestPendingMs: null, failing: false, failures: 0, lastError: null });
  });

  it('drops the queue and calls onDropped when a call fails and the peer is failed', async () => {
    sut.push(event(1));
    sut.push(event(2));
    peer.failed = true;
    peer.last.refuse();
    await settle();

    expect(peer.dropped).toBe(1);
    expect(sut.pending).toBe(0);
    expect(peer.sleeps).toEqual([]);
    expect(peer.calls).toHaveLength(1);
  });

  it('does not queue for a failed peer: drops and calls onDropped', () => {
    peer.failed = true;

    sut.push(event(1));

    expect(peer.calls).toEqual([]);
    expect(sut.pending).toBe(0);
    expect(peer.dropped).toBe(1);
  });

  it('drops everything and calls onDropped when the queue overflows (50 000 events)', () => {
    for (let i = 0; i < 50_000; i++) sut.push(event(i));
    expect(sut.pending).toBe(50_000);
    expect(peer.dropped).toBe(0);

    sut.push(event(50_000));

    expect(sut.pending).toBe(0);
    expect(peer.dropped).toBe(1);
  });

  // The queue is dropped (peer failed) while a call is in flight; the peer answers again and new
  // events are queued; then the old call completes. The new events must still be sent.
  it('still sends events queued after a drop that happened while a call was in flight', async () => {
    sut.push(event(1));
    peer.failed = true;
    sut.push(event(2)); // dropped
    peer.failed = false;
    sut.push(event(3));
    expect(sut.pending).toBe(1);

    await peer.answerAll();

    expect(peer.dropped).toBe(1);
    expect(peer.delivered).toEqual(['room-1', 'room-3']);
  });

  // Same root cause, reached without any failure: an overflow can only happen while a call is in flight.
  it('still sends events queued after an overflow drop that happened while a call was in flight', async () => {
    for (let i = 0; i <= 50_000; i++) sut.push(event(i)); // the last push overflows and drops
    sut.push(event(99_999));

    await peer.answerAll();

    expect(peer.dropped).toBe(1);
    expect(peer.delivered).toEqual(['room-0', 'room-99999']);
  });

  it('sends nothing more once closed', async () => {
    sut.push(event(1));
    sut.push(event(2));
    sut.close();
    sut.push(event(3));

    await peer.answerAll();

    expect(peer.delivered).toEqual(['room-1']);
    expect(sut.pending).toBe(0);
  });
});
