import type { LoggerService } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Clock } from '../../../common/clock/clock';
import { loadConfig } from '../../../common/config/load-config';
import { NODE_CONFIG } from '../../../common/config/node-config';
import { ChatStore } from '../../../common/store/chat-store';
import { storeProviders } from '../../../common/store/store.module';
import { FakeClock } from '../../../testing/fakes';
import { storeConnection } from '../../../testing/store-connection';
import { ClientRegistry } from '../../members/client-registry';
import type { CoreConfig } from '../consensus/core-types';
import type { Entry } from '../consensus/log-entry';
import type { Append, RoomMessage } from '../consensus/room-messages';
import { RoomLogCore } from '../consensus/room-log-core';
import { entryBytes } from './entry-bytes';
import { LoadedRoom } from './loaded-room';
import { LogApplier } from './log-applier';
import { LogWriter, type LeadershipChange } from './log-writer';
import { MESSAGE, ROOM, ROOM_DELETED } from './room-entries';
import { RoomLogOutbox } from './room-log-outbox';
import type { WireItem } from './room-log-wire';
import { SqlStableLog } from './sql-stable-log';

const NODES = ['node1', 'node2', 'node3'];
const roomEntry = (index: number, epoch = 1): Entry => ({ index, epoch, kind: ROOM, sequence: 0, clientKey: null, data: { room_name: `room ${index}`, description: null, creator_id: 'alice', created_at: 't' } });
const messageEntry = (index: number, epoch = 1, sequence = index - 1): Entry => ({ index, epoch, kind: MESSAGE, sequence, clientKey: null, data: { message_id: `m${index}.${epoch}`, username: 'alice', content: 'hi', timestamp: 't', client_message_id: null } });
const append = (from: string, epoch: number, prev: [index: number, epoch: number], entries: Entry[], commit: number): Append => ({ type: 'append', from, to: 'node2', epoch, prev: { index: prev[0], epoch: prev[1] }, entries, commit });

/** What the writer handed to the outbox, with what the room's log on disk held at that moment. */
class RecordingOutbox {
  readonly sent: { roomId: string; message: RoomMessage; onDisk: { lastIndex: number; vote: string | null } }[] = [];
  constructor(private readonly store: ChatStore) {}
  send([roomId, message]: WireItem): void {
    const state = this.store.logs.state(roomId);
    this.sent.push({ roomId, message: message as RoomMessage, onDisk: { lastIndex: this.store.logs.lastIndex(roomId), vote: state?.vote ?? null } });
  }
}

/** Warnings logged, by the class that logged them. */
class CapturingLogger implements LoggerService {
  readonly warnings: string[] = [];
  log(): void {}
  error(): void {}
  debug(): void {}
  verbose(): void {}
  warn(message: string): void {
    this.warnings.push(message);
  }
}

describe(LogWriter.name, () => {
  let moduleRef: TestingModule;
  let store: ChatStore;
  let outbox: RecordingOutbox;
  let logger: CapturingLogger;
  /** The durability of every outermost transaction, in order. */
  let transactions: boolean[];
  /** Writes ('write': an outermost transaction) and syncs of the write-ahead log, in order. */
  let disk: ('write' | 'sync')[];
  let written: { roomId: string; change: LeadershipChange | null }[];
  let gone: [string, string][];
  let sut: LogWriter;

  beforeEach(async () => {
    logger = new CapturingLogger();
    store = ChatStore.inMemory();
    outbox = new RecordingOutbox(store);
    moduleRef = await Test.createTestingModule({
      providers: [
        LogWriter,
        LogApplier,
        ClientRegistry,
        { provide: RoomLogOutbox, useValue: outbox },
        { provide: NODE_CONFIG, useValue: loadConfig({ NODE_ID: 'node2' }) },
        ...storeProviders(store),
        { provide: Clock, useValue: new FakeClock() },
      ],
    })
      .setLogger(logger)
      .compile();
    sut = moduleRef.get(LogWriter);
    written = [];
    gone = [];
    // as RoomLogs does: a room with more to do after its write (entries to apply once stored) is queued again
    sut.onRoomWritten((room, change) => {
      written.push({ roomId: room.roomId, change });
      if (room.core.hasReady()) sut.queue(room);
    });
    sut.onRoomGone((roomId, why) => gone.push([roomId, why]));
    transactions = [];
    disk = [];
    const db = storeConnection(store);
    const transaction = store.transactions.run.bind(store.transactions);
    jest.spyOn(store.transactions, 'run').mockImplementation((work, durable = true) => {
      if (!db.isTransaction) {
        transactions.push(durable);
        disk.push('write');
      }
      return transaction(work, durable);
    });
    const sync = store.transactions.syncCommitted.bind(store.transactions);
    jest.spyOn(store.transactions, 'syncCommitted').mockImplementation((done) => {
      disk.push('sync');
      sync(done);
    });
  });

  afterEach(async () => {
    await moduleRef.close();
    store.close();
  });

  /** Room `roomId` on node `self` with a real core over its stored log (created empty if new). */
  const load = (roomId: string, self = 'node2'): LoadedRoom => {
    if (!store.logs.state(roomId)) store.logs.saveState({ roomId, epoch: 0, vote: null, commit: 0, applied: 0, learner: false, hostNode: null, hostEpoch: 0 });
    const state = store.logs.state(roomId)!;
    const cfg: CoreConfig = { self, disk: `${self}-disk`, voters: NODES, electionTicks: 10, resendTicks: 5, maxAppendEntries: 64, maxAppendBytes: 65536, maxInflight: 4, entryBytes, random: () => 0 };
    return new LoadedRoom(roomId, new RoomLogCore(cfg, new SqlStableLog(store.logs, roomId), state, state.applied, state.hostEpoch === state.epoch ? state.hostNode : null), state, self);
  };
  /** Steps `m` into the room's core and lets the writer store its Ready. */
  const deliver = async (room: LoadedRoom, m: RoomMessage) => {
    room.core.step(m);
    sut.queue(room);
    while (room.core.hasReady()) await sut.flushSoon();
    await sut.flushSoon();
  };

  it('stores every room queued in one turn in one transaction and one sync, and sends a host\'s appends once it committed', async () => {
    const rooms = ['a', 'b', 'c'].map((id) => load(id, 'node2'));
    for (const room of rooms) {
      room.core.found({ kind: ROOM, data: roomEntry(1).data });
      sut.queue(room);
    }
    await sut.flushSoon();

    expect(disk).toEqual(['write', 'sync']);
    expect(transactions).toEqual([false]); // the commit is not fsynced: the sync after it is
    for (const id of ['a', 'b', 'c']) expect(store.logs.entry(id, 1)).toMatchObject({ kind: ROOM, epoch: 1 });
    expect(outbox.sent.map((s) => [s.roomId, s.message.type, s.message.to])).toEqual(
      ['a', 'b', 'c'].flatMap((id) => [[id, 'append', 'node1'], [id, 'append', 'node3']]),
    );
    expect(outbox.sent.every((s) => s.onDisk.lastIndex === 1)).toBe(true);
  });

  it('writes nothing once the application shut down (the store closes next), queued or queued later', async () => {
    const [queued, later] = ['a', 'b'].map((id) => load(id, 'node2'));
    queued.core.found({ kind: ROOM, data: roomEntry(1).data });
    sut.queue(queued);
    sut.onApplicationShutdown();
    later.core.found({ kind: ROOM, data: roomEntry(1).data });
    sut.queue(later);
    await sut.flushSoon();

    expect(transactions).toEqual([]);
    expect(outbox.sent).toEqual([]);
    expect([store.logs.lastIndex('a'), store.logs.lastIndex('b')]).toEqual([0, 0]);
  });

  it('syncs a write only when it stores entries or changes the epoch, the vote or the learner flag', async () => {
    const room = load('r1');
    await deliver(room, append('node1', 1, [0, 0], [roomEntry(1), messageEntry(2)], 0)); // entries (and epoch 1)
    expect(disk).toEqual(['write', 'sync']);
    disk.length = 0;
    await deliver(room, append('node1', 1, [2, 1], [], 2)); // only the commit moves: rebuilt from the log after a power cut
    expect(disk).toEqual(['write']);
    disk.length = 0;
    room.core.peerDown('node1');
    await deliver(room, { type: 'vote', from: 'node3', to: 'node2', epoch: 2, last: { index: 2, epoch: 1 } }); // a vote
    expect(disk.slice(-2)).toEqual(['write', 'sync']);
    expect(store.logs.state('r1')).toMatchObject({ epoch: 2, vote: 'node3', commit: 2, applied: 2 });
  });

  it('holds answers until the sync that covers them ended; rounds written while a sync runs share the next one', async () => {
    const syncs: ((error: Error | null) => void)[] = [];
    jest.spyOn(store.transactions, 'syncCommitted').mockImplementation((done) => void syncs.push(done));
    const [a, b] = ['a', 'b'].map((id) => load(id));
    const answers = () => outbox.sent.filter((s) => s.message.type === 'appendResult').map((s) => s.roomId);
    const flushed = jest.fn();

    a.core.step(append('node1', 1, [0, 0], [roomEntry(1)], 0));
    sut.queue(a);
    void sut.flushSoon().then(flushed);
    await new Promise((r) => setImmediate(r));
    expect(syncs).toHaveLength(1);
    b.core.step(append('node1', 1, [0, 0], [roomEntry(1)], 0));
    sut.queue(b);
    await new Promise((r) => setImmediate(r)); // b is written while a's sync runs: no second sync yet
    expect([syncs.length, answers(), flushed.mock.calls.length]).toEqual([1, [], 0]);

    syncs[0](null);
    await new Promise((r) => setImmediate(r));
    expect([syncs.length, answers(), flushed.mock.calls.length]).toEqual([2, ['a'], 1]);
    syncs[1](null);
    await new Promise((r) => setImmediate(r));
    expect([syncs.length, answers()]).toEqual([2, ['a', 'b']]);
    expect(a.core.state.last.index + b.core.state.last.index).toBe(2);
  });

  it('answers an append, and grants a vote, only once what the answer says is on disk', async () => {
    const room = load('r1');
    await deliver(room, append('node1', 1, [0, 0], [roomEntry(1), messageEntry(2)], 0));
    room.core.peerDown('node1');
    await deliver(room, { type: 'vote', from: 'node3', to: 'node2', epoch: 2, last: { index: 2, epoch: 1 } });

    // (node2 also asks for pre-votes itself once node1 is down: not what this is about)
    const answers = outbox.sent.filter((s) => s.message.type === 'appendResult' || s.message.type === 'voteResult');
    expect(answers.map((s) => [s.message.type, s.onDisk])).toEqual([
      ['appendResult', { lastIndex: 2, vote: null }],
      ['voteResult', { lastIndex: 2, vote: 'node3' }],
    ]);
    expect(answers[1].message).toMatchObject({ granted: true, epoch: 2 });
  });

  it('applies committed entries in the same write: the room exists here once its first entry committed', async () => {
    const room = load('r1');
    await deliver(room, append('node1', 1, [0, 0], [roomEntry(1)], 0));
    expect(store.rooms.getRoom('r1')).toBeNull();
    await deliver(room, append('node1', 1, [1, 1], [], 1));
    expect(store.rooms.getRoom('r1')).toMatchObject({ roomName: 'room 1', hostNode: 'node1', hostEpoch: 1 });
    expect(store.logs.state('r1')).toMatchObject({ commit: 1, applied: 1, hostNode: 'node1', hostEpoch: 1 });
  });

  it('reports a change of host once written, with the host before it, and routes the room to the new host', async () => {
    const room = load('r1');
    const changes = () => written.filter((w) => w.change !== null).map((w) => w.change);
    await deliver(room, append('node1', 1, [0, 0], [roomEntry(1)], 1));
    expect(changes()).toEqual([{ now: { role: 'follower', leader: 'node1', epoch: 1 }, was: { role: 'follower', leader: null, epoch: 0 }, previousHost: null }]);

    await deliver(room, append('node3', 2, [1, 1], [messageEntry(2, 2, 0)], 1));
    expect(changes()[1]).toEqual({ now: { role: 'follower', leader: 'node3', epoch: 2 }, was: { role: 'follower', leader: 'node1', epoch: 1 }, previousHost: { node: 'node1', epoch: 1 } });
    expect(store.rooms.getRoom('r1')).toMatchObject({ hostNode: 'node3', hostEpoch: 2 });
    expect(store.logs.state('r1')).toMatchObject({ hostNode: 'node3', hostEpoch: 2 });
  });

  it('says so when a follower drops entries no majority stored (an earlier host wrote them)', async () => {
    const room = load('r1');
    await deliver(room, append('node1', 1, [0, 0], [roomEntry(1), messageEntry(2), messageEntry(3)], 1));
    await deliver(room, append('node3', 2, [1, 1], [messageEntry(2, 2, 0)], 1));

    expect(logger.warnings).toEqual(['Room r1: dropped 2 entries from index 2 that no majority stored (an earlier host wrote them); following node3']);
    expect(store.logs.lastIndex('r1')).toBe(2);
    expect(store.logs.entry('r1', 2)).toMatchObject({ epoch: 2 });
  });

  it('after a failed write, syncs what earlier rounds committed before a reloaded core can take it as stored', async () => {
    const syncs: ((error: Error | null) => void)[] = [];
    jest.spyOn(store.transactions, 'syncCommitted').mockImplementation((done) => void syncs.push(done));
    const now = jest.spyOn(store.transactions, 'syncCommittedNow').mockImplementation(() => undefined);
    const [a, b] = ['a', 'b'].map((id) => load(id));
    a.core.step(append('node1', 1, [0, 0], [roomEntry(1)], 0));
    sut.queue(a);
    await new Promise((r) => setImmediate(r)); // a's round is committed, its sync has not ended
    jest.spyOn(store.logs, 'replaceFrom').mockImplementationOnce(() => {
      throw Object.assign(new Error('database or disk is full'), { errcode: 13 });
    });
    b.core.step(append('node1', 1, [0, 0], [roomEntry(1)], 0));
    sut.queue(b);
    await new Promise((r) => setImmediate(r));

    expect(gone).toEqual([['b', 'not-stored']]);
    expect(now).toHaveBeenCalledTimes(1);
    expect(outbox.sent.filter((s) => s.message.type === 'appendResult').map((s) => s.roomId)).toEqual(['a']); // a's answer went once a was on disk
  });

  it('stores nothing of a round whose write fails, sends nothing, and hands its rooms back to be reloaded from disk', async () => {
    const rooms = ['a', 'b'].map((id) => load(id));
    jest.spyOn(store.logs, 'replaceFrom').mockImplementationOnce(() => {
      throw Object.assign(new Error('database or disk is full'), { errcode: 13 });
    });
    for (const room of rooms) {
      room.core.step({ ...append('node1', 1, [0, 0], [roomEntry(1)], 0) });
      sut.queue(room);
    }
    await sut.flushSoon();

    expect(gone).toEqual([['a', 'not-stored'], ['b', 'not-stored']]);
    expect(outbox.sent).toEqual([]);
    expect(written).toEqual([]);
    expect(store.logs.lastIndex('a') + store.logs.lastIndex('b')).toBe(0);
    expect(store.transactions.writesFailing).toBe(true);
  });

  it('hands back a room whose deletion it applied: its log is gone, a tombstone stays', async () => {
    const room = load('r1');
    const deletion: Entry = { index: 2, epoch: 1, kind: ROOM_DELETED, sequence: 0, clientKey: null, data: { transaction_id: 'txn-1', initiator: 'alice', deleted_at: 't' } };
    await deliver(room, append('node1', 1, [0, 0], [roomEntry(1), deletion], 2));

    expect(gone).toEqual([['r1', 'deleted']]);
    expect(store.logs.state('r1')).toBeNull();
    expect(store.tombstones.getTombstone('r1')).toMatchObject({ transactionId: 'txn-1', hostNode: 'node1' });
    expect(outbox.sent.map((s) => s.message.type)).toEqual(['appendResult']); // the host still hears that it is stored here
  });
});
