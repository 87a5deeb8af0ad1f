import { PeerOutbox, type EncodedEvent } from './peer-outbox';
import { NoQuorumError, QuorumAck } from './quorum-ack';

/** Lets every pending promise callback run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A message event of `roomId` waiting for this one peer (needed 1 of 1 voter: the peer's ack alone decides). */
function messageFor(roomId: string, n: number, epoch = 1): EncodedEvent & { quorum: QuorumAck } {
  const message = { message_id: `${roomId}-m${n}`, room_id: roomId, username: 'alice', content: 'hi', sequence_number: n, timestamp: 't', client_message_id: null };
  return { event: { kind: 'message', message, epoch }, json: '{}', bytes: 100, roomId, quorum: new QuorumAck(1, 1, Number.MAX_SAFE_INTEGER) };
}

/** What the quorum of `e` says so far, read without waiting. */
async function state(e: { quorum: QuorumAck }): Promise<'waiting' | 'stored' | 'lost'> {
  await settle();
  if (!e.quorum.done) return 'waiting';
  return e.quorum.promise.then(
    () => 'stored' as const,
    (err: Error) => (err instanceof NoQuorumError ? ('lost' as const) : Promise.reject(err)),
  );
}

/** One peer whose calls stay in flight until the test answers (or refuses) them. */
class FakePeer {
  readonly calls: { ids: string[]; resolve: () => void; reject: (e: Error) => void }[] = [];
  failed = false;
  dropped = 0;
  readonly sendBatch = (batch: EncodedEvent[]) =>
    new Promise<void>((resolve, reject) => {
      this.calls.push({ ids: batch.map((e) => (e.event.kind === 'message' ? e.event.message.message_id : e.event.kind)), resolve, reject });
    });
  outbox(maxQueued = 100): PeerOutbox {
    return new PeerOutbox(this.sendBatch, () => this.failed, () => this.dropped++, { maxQueued, sleep: () => Promise.resolve(), maxBatchEvents: 2 });
  }
}

describe(`${PeerOutbox.name} (quorum acks)`, () => {
  let peer: FakePeer;
  let sut: PeerOutbox;

  beforeEach(() => {
    peer = new FakePeer();
    sut = peer.outbox();
  });

  afterEach(() => sut.close());

  it('acks an event only when the call carrying it was answered: on disk at the peer, not merely queued or sent', async () => {
    const [a, b, c] = [messageFor('r1', 1), messageFor('r1', 2), messageFor('r1', 3)];
    for (const e of [a, b, c]) sut.push(e);
    expect(peer.calls.map((call) => call.ids)).toEqual([['r1-m1']]);
    expect(await state(a)).toBe('waiting');

    peer.calls[0].resolve();
    expect(await state(a)).toBe('stored');
    expect(await state(b)).toBe('waiting'); // in the next call, not yet answered
    expect(peer.calls[1].ids).toEqual(['r1-m2', 'r1-m3']);
    peer.calls[1].resolve();
    expect([await state(b), await state(c)]).toEqual(['stored', 'stored']);
  });

  it('a refused call acks nothing; the retry that goes through acks its events', async () => {
    const a = messageFor('r1', 1);
    sut.push(a);
    peer.calls[0].reject(new Error('timeout'));
    expect(await state(a)).toBe('waiting');
    peer.calls[1].resolve();
    expect(await state(a)).toBe('stored');
  });

  it('tells every queued event that this peer will not store it when the peer is failed (the peer catches up by pulling instead)', async () => {
    const [a, b] = [messageFor('r1', 1), messageFor('r1', 2)];
    sut.push(a);
    sut.push(b);
    peer.failed = true;
    peer.calls[0].reject(new Error('connection refused'));
    expect([await state(a), await state(b)]).toEqual(['lost', 'lost']);
    expect(peer.dropped).toBe(1);

    const later = messageFor('r1', 3);
    sut.push(later); // while the peer is failed: lost at once, never queued
    expect(await state(later)).toBe('lost');
    expect(sut.pending).toBe(0);
  });

  it('loses an event that overflows the queue, and what was queued with it', async () => {
    sut = peer.outbox(2);
    const events = [1, 2, 3].map((n) => messageFor('r1', n));
    for (const e of events) sut.push(e);
    expect(await Promise.all(events.map(state))).toEqual(['lost', 'lost', 'lost']);
    expect(peer.dropped).toBe(1);
  });

  it('close() loses what is still queued, and anything pushed afterwards', async () => {
    const a = messageFor('r1', 1);
    sut.push(a);
    sut.close();
    const after = messageFor('r1', 2);
    sut.push(after);
    expect([await state(a), await state(after)]).toEqual(['lost', 'lost']);
  });

  describe('discardRoom (the host stepped down)', () => {
    it("takes back only that room's queued events, losing them; the other rooms' events go out in order", async () => {
      const events = [messageFor('r1', 1), messageFor('r2', 1), messageFor('r1', 2), messageFor('r2', 2), messageFor('r1', 3)];
      for (const e of events) sut.push(e);
      peer.calls[0].resolve(); // r1-m1 was stored before the step-down

      await settle();
      sut.discardRoom('r1');

      expect(await state(events[0])).toBe('stored');
      expect(await state(events[2])).toBe('lost');
      expect(await state(events[4])).toBe('lost');
      // the call in flight when the room was discarded carried r2-m1 and r1-m2
      expect(peer.calls[1].ids).toEqual(['r2-m1', 'r1-m2']);
      peer.calls[1].resolve();
      await settle();
      expect(peer.calls[2].ids).toEqual(['r2-m2']); // r1-m3 is never sent
      peer.calls[2].resolve();
      expect(await state(events[3])).toBe('stored');
      expect(sut.pending).toBe(0);
    });

    it('with an epoch, takes back only the events made before it (a peer refused those as stale)', async () => {
      const events = [messageFor('r1', 1, 1), messageFor('r1', 2, 1), messageFor('r1', 3, 2), messageFor('r2', 1, 1)];
      for (const e of events) sut.push(e);
      sut.discardRoom('r1', 2);
      expect(await Promise.all(events.map(state))).toEqual(['lost', 'lost', 'waiting', 'waiting']);
      peer.calls[0].resolve(); // the call in flight (r1-m1) was refused or not: its quorum is already lost
      await settle();
      expect(peer.calls[1].ids).toEqual(['r1-m3', 'r2-m1']);
    });

    it('is a no-op for a room with nothing queued', async () => {
      const a = messageFor('r2', 1);
      sut.push(a);
      sut.discardRoom('r1');
      expect(sut.pending).toBe(1);
      peer.calls[0].resolve();
      expect(await state(a)).toBe('stored');
    });
  });
});
