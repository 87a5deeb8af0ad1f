import { Logger } from '@nestjs/common';
import { ChatError } from '../../../common/errors/chat-error';
import { peek } from '../../../testing/deferred';
import { LogCluster } from '../../../testing/log-cluster';
import { MESSAGE, ROOM, type MessageData, type RoomData } from './room-entries';
import { RoomLogs } from './room-logs.service';

const HOUR = 3_600_000;

const ROOM_DATA: RoomData = { room_name: 'general', description: null, creator_id: 'alice', created_at: '2026-01-01T00:00:00.000Z' };
const message = (content: string, clientMessageId: string | null = null) => ({
  kind: MESSAGE,
  data: { message_id: content, username: 'alice', content, timestamp: 't', client_message_id: clientMessageId } satisfies MessageData,
  clientKey: clientMessageId ? `alice\u0000${clientMessageId}` : null,
});
const storageFull = () => Object.assign(new Error('database or disk is full'), { errcode: 13 });

describe(RoomLogs.name, () => {
  let cluster: LogCluster;
  /** The RoomLogs of one node. */
  const sut = (id: string) => cluster.node(id).logs;
  const failure = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as ChatError);

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    cluster = await LogCluster.start(['node1', 'node2', 'node3']);
  });

  afterEach(async () => {
    await cluster.close();
    jest.useRealTimers();
  });

  /** r1 founded on node1 and known everywhere. */
  const founded = async () => {
    await sut('node1').found('r1', { kind: ROOM, data: ROOM_DATA });
    await cluster.settle();
  };

  describe('found', () => {
    it('resolves once a majority stored the room\'s first entry, and every node then holds the room', async () => {
      cluster.network.cut.add('node2');
      cluster.network.cut.add('node3');
      const founding = sut('node1').found('r1', { kind: ROOM, data: ROOM_DATA });
      await cluster.settle();
      expect(await peek(founding)).toBe('pending');
      expect(sut('node1').hosts('r1')).toBe(true); // hosted at once: no election for a new room

      cluster.network.cut.delete('node2'); // the host sends again what was not answered
      await cluster.advance(2000);
      await expect(founding).resolves.toMatchObject({ entry: { index: 1, epoch: 1, kind: ROOM }, duplicate: false });

      cluster.network.cut.delete('node3');
      await cluster.advance(2000);
      for (const id of cluster.ids) expect(cluster.node(id).store.rooms.getRoom('r1')).toMatchObject({ roomName: 'general', hostNode: 'node1', hostEpoch: 1 });
      expect(sut('node3').hostOf('r1')).toEqual({ node: 'node1', epoch: 1 });
    });
  });

  describe('propose', () => {
    beforeEach(founded);

    it('resolves each entry once committed where the host wrote it, numbering messages in order', async () => {
      const sent = await Promise.all([sut('node1').propose('r1', message('one')), sut('node1').propose('r1', message('two'))]);
      expect(sent.map((s) => [s.entry.index, s.entry.sequence, s.duplicate])).toEqual([[2, 1, false], [3, 2, false]]);
      await cluster.settle();
      for (const id of cluster.ids) expect(cluster.node(id).store.messages.messagesAfter('r1', 0, 10).map((m) => m.content)).toEqual(['one', 'two']);
    });

    it('answers a retry of an entry already applied at once, with the first attempt\'s entry', async () => {
      const first = await sut('node1').propose('r1', message('hello', 'c1'));
      await cluster.settle();
      const batches = cluster.network.delivered.length;

      const retry = sut('node1').propose('r1', message('hello again', 'c1'));
      expect(await peek(retry)).toBe('resolved');
      expect(await retry).toEqual({ entry: first.entry, duplicate: true });
      expect(cluster.network.delivered.length).toBe(batches); // nothing new was written
    });

    it('a retry of an entry not committed yet waits for that same entry', async () => {
      cluster.network.cut.add('node2');
      cluster.network.cut.add('node3');
      const first = sut('node1').propose('r1', message('hello', 'c1'));
      const retry = sut('node1').propose('r1', message('hello', 'c1'));
      await cluster.settle();
      expect(await peek(retry)).toBe('pending');
      cluster.network.cut.delete('node2');
      await cluster.advance(2000);
      const [a, b] = await Promise.all([first, retry]);
      expect(b).toEqual({ entry: a.entry, duplicate: true });
      expect(cluster.node('node2').store.messages.messagesAfter('r1', 0, 10)).toHaveLength(1);
    });

    it('refuses retryably on a node that does not host the room, naming the host; ROOM_NOT_FOUND for a room it has no log of', async () => {
      const refused = await failure(sut('node2').propose('r1', message('hi')));
      expect(refused).toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE', details: { retryable: true, admin_node: 'node1', host_epoch: 1 } });
      expect(refused?.message).toMatch(/hosted by node1/);
      expect(await failure(sut('node2').propose('nope', message('hi')))).toMatchObject({ code: 'ROOM_NOT_FOUND' });
    });

    it('refuses retryably once no majority confirmed the entry in time (it may still be stored)', async () => {
      cluster.network.cut.add('node2');
      cluster.network.cut.add('node3');
      const sending = failure(sut('node1').propose('r1', message('hi', 'c1')));
      await cluster.advance(cluster.node('node1').config.quorumTimeoutMs + 200);
      const refused = await sending;
      expect(refused).toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE', details: { retryable: true } });
      expect(refused?.message).toMatch(/Not confirmed by a majority of nodes in time; it may still be stored: retry with the same client_message_id/);
    });

    it('measures the quorum deadline on the monotonic clock: a wall clock set forward an hour gives up on nothing, one set back an hour delays nothing', async () => {
      cluster.network.cut.add('node2');
      cluster.network.cut.add('node3');
      const node1 = cluster.node('node1');
      const forward = failure(sut('node1').propose('r1', message('forward', 'c-forward')));
      node1.clock.jump(HOUR);
      await cluster.advance(200);
      expect(await peek(forward)).toBe('pending');
      const back = failure(sut('node1').propose('r1', message('back', 'c-back')));
      node1.clock.jump(-2 * HOUR);
      await cluster.advance(node1.config.quorumTimeoutMs + 200);
      expect(await back).toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE', message: expect.stringMatching(/in time/) });
      expect(await forward).toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE', message: expect.stringMatching(/in time/) });
    });

    it('refuses retryably, naming the new host, an entry another host replaced before a majority stored it', async () => {
      cluster.network.cut.add('node1');
      const lost = failure(sut('node1').propose('r1', message('lost')));
      for (const id of ['node2', 'node3']) cluster.node(id).peers.suspect('node1');
      await cluster.advance(2000);
      expect(sut('node3').hostOf('r1')).toEqual({ node: 'node2', epoch: 2 });
      await sut('node2').propose('r1', message('kept'));

      cluster.network.cut.delete('node1');
      for (const id of ['node2', 'node3']) cluster.node(id).peers.answering('node1');
      await cluster.advance(3000);
      expect(await lost).toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE', message: expect.stringMatching(/Another host replaced this change/), details: { retryable: true, admin_node: 'node2', host_epoch: 2 } });
      expect(cluster.node('node1').store.messages.messagesAfter('r1', 0, 10).map((m) => m.content)).toEqual(['kept']); // never shown, nowhere
    });
  });

  describe('store failures', () => {
    beforeEach(founded);

    it('fails the waits of a write that could not be stored with STORE_UNAVAILABLE, refuses at once while writes fail, and campaigns for the room once they work again', async () => {
      const node1 = cluster.node('node1');
      jest.spyOn(node1.store.logs, 'replaceFrom').mockImplementationOnce(() => {
        throw storageFull();
      });
      expect(await failure(sut('node1').propose('r1', message('not stored')))).toMatchObject({ code: 'STORE_UNAVAILABLE' });
      expect(node1.store.transactions.writesFailing).toBe(true);
      expect(await failure(sut('node1').propose('r1', message('meanwhile')))).toMatchObject({ code: 'STORE_UNAVAILABLE' });
      expect(await failure(sut('node1').found('r2', { kind: ROOM, data: ROOM_DATA }))).toMatchObject({ code: 'STORE_UNAVAILABLE' });

      await cluster.advance(1000); // the store's probe write succeeds: writes work again
      expect(node1.store.transactions.writesFailing).toBe(false);
      expect(sut('node1').hosts('r1')).toBe(false); // reloaded from disk: it asks for the room back first
      await cluster.advance(1000);
      expect(sut('node1').hostOf('r1')).toEqual({ node: 'node1', epoch: 2 });
      await sut('node1').propose('r1', message('after'));
      await cluster.settle();
      expect(cluster.node('node2').store.messages.messagesAfter('r1', 0, 10).map((m) => m.content)).toEqual(['after']);
    });

    it('does not tell a client "nothing was saved" when a write after the one that stored its entry fails: it is answered once the entry commits', async () => {
      const node1 = cluster.node('node1');
      jest.spyOn(node1.store.messages, 'insertMessage').mockImplementationOnce(() => {
        throw storageFull(); // the entry is on disk; applying it (the next write) fails
      });
      const outcome = failure(sut('node1').propose('r1', message('stored, then a write failed')));
      await cluster.advance(3000);
      expect(await outcome).toBeNull();
      for (const id of cluster.ids) expect(cluster.node(id).store.messages.messagesAfter('r1', 0, 10).map((m) => m.content)).toEqual(['stored, then a write failed']);
    });
  });

  describe('load', () => {
    beforeEach(founded);

    it('a node that hosted a room before it restarted asks for it back at once, without waiting for a failover', async () => {
      await cluster.stop('node1');
      await cluster.restart('node1');
      await cluster.settle();
      expect(sut('node1').hosts('r1')).toBe(true);
      expect(sut('node2').hostOf('r1')).toEqual({ node: 'node1', epoch: 2 });
      expect(sut('node1').hostedRooms()).toEqual(['r1']);
    });

    it('knows a room\'s last host from disk before its core is loaded', async () => {
      await cluster.stop('node2');
      const node2 = await cluster.restart('node2');
      expect(node2.logs.hostOf('r1')).toEqual({ node: 'node1', epoch: 1 });
      expect(node2.logs.hostOf('never')).toBeNull();
    });
  });

  describe('ticks', () => {
    beforeEach(founded);

    it('ticks only rooms with work to do: an idle room costs nothing, on its host or elsewhere', async () => {
      await sut('node1').found('r2', { kind: ROOM, data: { ...ROOM_DATA, room_name: 'busy' } });
      await cluster.settle();
      const ticks = new Map<string, number>();
      for (const id of cluster.ids) {
        for (const roomId of ['r1', 'r2']) {
          const core = sut(id).load(roomId)!.core;
          jest.spyOn(core, 'tick').mockImplementation(function (this: typeof core) {
            ticks.set(`${id} ${roomId}`, (ticks.get(`${id} ${roomId}`) ?? 0) + 1);
          });
        }
      }
      cluster.network.cut.add('node3');
      void sut('node1').propose('r2', message('waits for node3')).catch(() => undefined);
      await cluster.advance(1000);
      expect([...ticks.keys()]).toEqual(['node1 r2']); // r2's host has node3 to catch up; everything else is quiet
    });

    it('counts rooms that have no host while an election runs', async () => {
      expect(sut('node2').leaderless()).toBe(0);
      cluster.network.cut.add('node1');
      cluster.node('node2').peers.suspect('node1');
      expect(sut('node2').leaderless()).toBe(1);
    });
  });
});
