import { Logger } from '@nestjs/common';
import { PEER_BATCH_BYTES, PEER_REPLY_BYTES } from '../../../common/xmlrpc';
import { deferred, flushPromises, type Deferred } from '../../../testing/deferred';
import { FakeClock } from '../../../testing/fakes';
import type { PeerDirectory } from '../../peers/peer-directory';
import type { RoomMessage } from '../consensus/room-messages';
import { RoomLogOutbox } from './room-log-outbox';
import type { WireItem } from './room-log-wire';

/** node2 and node3; each roomLog call waits until the test answers or fails it. */
class FakePeer {
  readonly nodeIds = ['node2', 'node3'];
  readonly calls: { to: string; items: WireItem[]; answer: Deferred<string> }[] = [];
  roomLog(to: string, batchJson: string): Promise<string> {
    const answer = deferred<string>();
    this.calls.push({ to, items: JSON.parse(batchJson) as WireItem[], answer });
    return answer.promise;
  }
  to(node: string) {
    return this.calls.filter((c) => c.to === node);
  }
}

/** A vote request for `to` in room `roomId`; `pad` makes it about that many bytes. */
const vote = (roomId: string, to = 'node2', pad = 0): WireItem => [roomId, { type: 'vote', from: 'node1', to, epoch: 2, last: { epoch: 1, index: 1 }, ...(pad ? { pad: 'x'.repeat(pad) } : {}) } as RoomMessage];
const roomsOf = (items: WireItem[]) => items.map(([roomId]) => roomId);

describe(RoomLogOutbox.name, () => {
  let peers: FakePeer;
  let clock: FakeClock;
  let replies: [string, string][];
  let sut: RoomLogOutbox;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    peers = new FakePeer();
    clock = new FakeClock();
    replies = [];
    sut = new RoomLogOutbox(peers as unknown as PeerDirectory, clock);
    sut.onReply((from, json) => replies.push([from, json]));
  });
  afterEach(() => sut.onModuleDestroy());

  it('sends at once, keeps one call in flight per peer, and batches what queued meanwhile into the next call', async () => {
    sut.send(vote('a'));
    sut.send(vote('b'));
    sut.send(vote('c'));
    sut.send(vote('x', 'node3'));
    expect(peers.to('node2').map((c) => roomsOf(c.items))).toEqual([['a']]);
    expect(peers.to('node3').map((c) => roomsOf(c.items))).toEqual([['x']]); // lanes are independent

    peers.to('node2')[0].answer.resolve('[]');
    await flushPromises();
    expect(peers.to('node2').map((c) => roomsOf(c.items))).toEqual([['a'], ['b', 'c']]);
    expect(sut.pending()).toBe(0);
  });

  it('cuts batches by bytes to stay under the peers\' body limit (a message larger than the budget still goes, alone)', async () => {
    const quarter = Math.floor(PEER_BATCH_BYTES / 4);
    sut.send(vote('first'));
    for (const room of ['a', 'b', 'c', 'd', 'e']) sut.send(vote(room, 'node2', quarter));
    sut.send(vote('huge', 'node2', PEER_BATCH_BYTES * 2));
    for (let i = 0; peers.to('node2').length < 4 && i < 10; i++) {
      peers.to('node2').at(-1)!.answer.resolve('[]');
      await flushPromises();
    }
    expect(peers.to('node2').map((c) => roomsOf(c.items))).toEqual([['first'], ['a', 'b', 'c'], ['d', 'e'], ['huge']]);
  });

  it('hands a peer\'s reply (its messages for this node) to the reply handler, and nothing for an empty one', async () => {
    sut.send(vote('a'));
    sut.send(vote('b'));
    peers.calls[0].answer.resolve('[]');
    await flushPromises();
    peers.calls[1].answer.resolve('[["b",{"type":"voteResult"}]]');
    await flushPromises();
    expect(replies).toEqual([['node2', '[["b",{"type":"voteResult"}]]']]);
  });

  it('does not retry a failed call (the cores send again what matters) and reports a peer failing after three in a row', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      for (let i = 1; i <= 3; i++) {
        sut.send(vote(`r${i}`));
        peers.to('node2').at(-1)!.answer.reject(new Error('connect ECONNREFUSED'));
        await flushPromises();
        jest.advanceTimersByTime(1000); // the lane backs off before its next call
        await flushPromises();
      }
      expect(peers.to('node2').map((c) => roomsOf(c.items))).toEqual([['r1'], ['r2'], ['r3']]); // each once
      expect(sut.backlog().find((b) => b.peer === 'node2')).toMatchObject({ pending: 0, failing: true, failures: 3, lastError: 'connect ECONNREFUSED' });

      sut.send(vote('r4'));
      peers.to('node2').at(-1)!.answer.resolve('[]');
      await flushPromises();
      expect(sut.backlog().find((b) => b.peer === 'node2')).toMatchObject({ failing: false, failures: 0, lastError: null });
    } finally {
      jest.useRealTimers();
    }
  });

  it('shows each peer\'s backlog: how many wait, and for how long the oldest has', async () => {
    sut.send(vote('a'));
    clock.advance(1000);
    sut.send(vote('b'));
    clock.advance(500);
    sut.send(vote('c'));
    expect(sut.backlog()).toEqual([
      { peer: 'node2', pending: 2, oldestPendingMs: 500, failing: false, failures: 0, lastError: null },
      { peer: 'node3', pending: 0, oldestPendingMs: null, failing: false, failures: 0, lastError: null },
    ]);
    expect(sut.pending()).toBe(2);
  });

  it('answers a peer\'s call with what is queued for it, within the reply budget, and leaves the rest queued', () => {
    sut.send(vote('in-flight'));
    const third = Math.floor(PEER_REPLY_BYTES / 3);
    for (const room of ['a', 'b', 'c']) sut.send(vote(room, 'node2', third));
    const reply = JSON.parse(sut.takeFor('node2')) as WireItem[];
    expect(roomsOf(reply)).toEqual(['a', 'b']);
    expect(sut.pending()).toBe(1);
    expect(sut.takeFor('node3')).toBe('[]');
    expect(sut.takeFor('node9')).toBe('[]');
  });

  it('while a peer\'s call is answered, keeps what is queued for it for the reply; what the reply leaves goes in a call after', async () => {
    const answered = sut.answering('node2');
    sut.send(vote('a'));
    sut.send(vote('big', 'node2', PEER_REPLY_BYTES));
    sut.send(vote('x', 'node3'));
    expect(peers.to('node2')).toEqual([]); // rides the reply instead
    expect(peers.to('node3')).toHaveLength(1); // other lanes are not held

    expect(roomsOf(JSON.parse(sut.takeFor('node2')) as WireItem[])).toEqual(['a']);
    answered();
    await flushPromises();
    expect(peers.to('node2').map((c) => roomsOf(c.items))).toEqual([['big']]);
  });

  it('drops messages for nodes that are not peers, and sends nothing once the node is shutting down', () => {
    sut.send(vote('a', 'node9'));
    sut.onModuleDestroy();
    sut.send(vote('b'));
    expect(peers.calls).toEqual([]);
    expect(sut.pending()).toBe(0);
  });
});
