import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Clock } from '../../../common/clock/clock';
import { loadConfig } from '../../../common/config/load-config';
import { NODE_CONFIG } from '../../../common/config/node-config';
import type { ReplicationEvent } from '../../../common/protocol/peer-wire';
import { CHAT_STORE, ChatStore } from '../../../common/store/chat-store';
import { deferred, flushPromises, peek, type Deferred } from '../../../testing/deferred';
import { chatErrorCode, FakeClock, FakeSocket } from '../../../testing/fakes';
import { roomRecord } from '../../../testing/records';
import { ClientRegistry } from '../../members/client-registry';
import { PeerDirectory } from '../../peers/peer-directory';
import { CommitLedger } from './commit-ledger';
import { LocalWrites } from './local-writes';
import { RoomEventPublisher } from './room-events.publisher';
import { RoomHostService } from './room-host.service';

/** Two peers (three nodes); each replicated change waits until the test says a majority stored it. */
class QuorumPeers {
  readonly nodeIds = ['node2', 'node3'];
  readonly majority = 2;
  readonly replicated: { event: ReplicationEvent; stored: Deferred }[] = [];
  readonly discarded: string[] = [];
  replicate(event: ReplicationEvent): Promise<void> {
    const stored = deferred();
    this.replicated.push({ event, stored });
    return stored.promise;
  }
  discardRoom(roomId: string): void {
    this.discarded.push(roomId);
  }
  /** The last change replicated: a majority stored it (or could not). */
  storeLast(): void {
    this.replicated.at(-1)!.stored.resolve();
  }
  loseLast(): void {
    this.replicated.at(-1)!.stored.reject(new Error('not stored by a majority in time'));
  }
}

describe(`${RoomHostService.name} (quorum and serving)`, () => {
  let moduleRef: TestingModule;
  let store: ChatStore;
  let peers: QuorumPeers;
  let member: FakeSocket;
  let sut: RoomHostService;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    store = ChatStore.inMemory();
    peers = new QuorumPeers();
    moduleRef = await Test.createTestingModule({
      providers: [
        RoomHostService,
        LocalWrites,
        RoomEventPublisher,
        CommitLedger,
        ClientRegistry,
        { provide: NODE_CONFIG, useValue: loadConfig({ NODE_ID: 'node1', FAILOVER_TIMEOUT: '1' }) },
        { provide: CHAT_STORE, useValue: store },
        { provide: Clock, useValue: new FakeClock() },
        { provide: PeerDirectory, useValue: peers },
      ],
    }).compile();
    sut = moduleRef.get(RoomHostService);
    const clients = moduleRef.get(ClientRegistry);
    member = new FakeSocket();
    clients.register(clients.connect(member.asWebSocket()), 'r1', 'bob', 0);
  });

  afterEach(async () => {
    await moduleRef.close();
    store.close();
  });

  /** Room r1 hosted here with alice (connected through node2) as a member, served (claimed) unless told otherwise. */
  const hostedRoom = (serve = true) => {
    store.insertRoom(roomRecord({ hostNode: 'node1' }));
    store.addMember('r1', 'alice', 'node2', 't');
    if (serve) sut.startServing('r1');
  };

  describe('which rooms it serves', () => {
    it('with failover on and peers, a room hosted here before this run is not served until a majority confirms it', async () => {
      hostedRoom(false);
      await moduleRef.init();
      expect(sut.claimsAtBoot).toBe(true);
      expect(sut.roomsToConfirm()).toEqual(['r1']);
      expect(await chatErrorCode(() => sut.send('r1', 'alice', 'hi', null))).toBe('ADMIN_NODE_UNAVAILABLE');
      expect(store.getRoom('r1')?.lastSequence).toBe(0);

      sut.startServing('r1');
      expect(sut.roomsToConfirm()).toEqual([]);
      expect(sut.send('r1', 'alice', 'hi', null).message.sequenceNumber).toBe(1);
    });

    it('leaves a deletion it had decided (COMMITTING) before the restart until a majority confirms this node', async () => {
      hostedRoom(false);
      store.setRoomState('r1', 'COMMITTING', 'txn-1');
      await moduleRef.init();
      expect(store.getRoom('r1')).toMatchObject({ state: 'COMMITTING', deletionTxn: 'txn-1' });
      expect(sut.roomsToConfirm()).toEqual(['r1']);
      expect(peers.replicated).toEqual([]);

      sut.finishDeletion(store.getRoom('r1')!); // what RoomClaim does once confirmed
      expect(store.getRoom('r1')).toBeNull();
      expect(store.getTombstone('r1')).toMatchObject({ transactionId: 'txn-1' });
      expect(peers.replicated.map((r) => r.event.kind)).toEqual(['deleted']);
    });

    it('with failover off (FAILOVER_TIMEOUT=0) nobody else can take a room over: what is hosted here is served at boot', () => {
      hostedRoom(false);
      const config = loadConfig({ NODE_ID: 'node1', FAILOVER_TIMEOUT: '0' });
      const off = new RoomHostService(config, store, new FakeClock(), moduleRef.get(RoomEventPublisher), moduleRef.get(CommitLedger), peers as unknown as PeerDirectory, moduleRef.get(LocalWrites));
      expect(off.claimsAtBoot).toBe(false);
      off.onApplicationBootstrap();
      expect(off.isServing('r1')).toBe(true);
      expect(off.roomsToConfirm()).toEqual([]);
    });

    it('serves a room it creates at once (nobody else can hold it yet)', async () => {
      const creating = sut.create('general', 'alice', null);
      await flushPromises(); // written with the turn's other local writes, then replicated
      peers.storeLast();
      const room = await creating;
      expect(sut.isServing(room.roomId)).toBe(true);
      expect(room).toMatchObject({ hostEpoch: 1, promisedEpoch: 1, epochStart: 1, logEpoch: 1 });
    });

    it('refuses changes retryably while a newer epoch is promised to another node', async () => {
      hostedRoom();
      store.setEpochs('r1', { hostNode: 'node1', hostEpoch: 1, promisedEpoch: 2, epochStart: 1, logEpoch: 1 });
      const e = await sut.leave('r1', 'alice').catch((err: unknown) => err);
      expect(e).toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE', details: { retryable: true } });
      expect(store.getMember('r1', 'alice')).not.toBeNull();
    });

    it('names the new host when the room moved away (hostedRoom), and keeps ROOM_NOT_FOUND for a room never hosted here', () => {
      store.insertRoom(roomRecord({ roomId: 'moved', roomName: 'moved', hostNode: 'node3', hostEpoch: 2, promisedEpoch: 2 }));
      store.insertRoom(roomRecord({ roomId: 'other', roomName: 'other', hostNode: 'node3' }));
      expect(() => sut.hostedRoom('moved')).toThrow(expect.objectContaining({ code: 'ADMIN_NODE_UNAVAILABLE', details: expect.objectContaining({ admin_node: 'node3', host_epoch: 2 }) }));
      expect(() => sut.hostedRoom('other')).toThrow(expect.objectContaining({ code: 'ROOM_NOT_FOUND' }));
    });

    it('stopServing drops what no majority stored, takes its events back from the outboxes, and waits for a claim if no other host is known', async () => {
      hostedRoom();
      const sent = sut.send('r1', 'alice', 'hi', null);
      await flushPromises();
      sut.stopServing('r1', { adminNode: 'node1', hostEpoch: 1 });
      await expect(sent.acked).rejects.toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE' });
      expect(peers.discarded).toEqual(['r1']);
      expect(sut.isServing('r1')).toBe(false);
      expect(sut.roomsToConfirm()).toEqual(['r1']);
      peers.storeLast(); // a late ack changes nothing: members were never shown it
      await flushPromises();
      expect(member.sent('new_message')).toEqual([]);
    });

    it('after stepping down to another host it does not try to re-claim the room', () => {
      hostedRoom();
      sut.stopServing('r1', { adminNode: 'node2', hostEpoch: 2 });
      store.setEpochs('r1', { hostNode: 'node2', hostEpoch: 2, promisedEpoch: 2, epochStart: 1, logEpoch: 1 });
      expect(sut.roomsToConfirm()).toEqual([]);
    });
  });

  describe('answers only once a majority stored the change', () => {
    it('create: room_created waits for the majority; without one the client is told to retry', async () => {
      const creating = sut.create('general', 'alice', null);
      expect(await peek(creating)).toBe('pending');
      peers.loseLast();
      await expect(creating).rejects.toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE', details: { retryable: true } });
    });

    it('join and leave wait for the majority of their member event', async () => {
      hostedRoom();
      const joining = sut.join('r1', 'bob', 'node2');
      expect(await peek(joining)).toBe('pending');
      peers.storeLast();
      expect((await joining).joined).toBe(true);

      const leaving = sut.leave('r1', 'bob');
      expect(await peek(leaving)).toBe('pending');
      peers.storeLast();
      await expect(leaving).resolves.toBeUndefined();
    });

    it('send: members are shown the message and the sender is answered only at commit; the join replay stops before it', async () => {
      hostedRoom();
      const sent = sut.send('r1', 'alice', 'hi', 'c1');
      await flushPromises();
      expect(await peek(sent.acked)).toBe('pending');
      expect(member.sent('new_message')).toEqual([]);
      expect(sut.visibleUpTo('r1')).toBe(0);

      const joining = sut.join('r1', 'carol', 'node1');
      peers.storeLast(); // carol's member_joined
      expect((await joining).history).toEqual([]); // not shown before its majority

      peers.replicated.find((r) => r.event.kind === 'message')!.stored.resolve();
      await expect(sent.acked).resolves.toBeUndefined();
      expect(member.sent('new_message').map((m) => m.sequence_number)).toEqual([1]);
      expect(sut.visibleUpTo('r1')).toBe(1);
    });

    it("history pages for clients stop before the first message no majority stored yet; peers catching up still get it", async () => {
      hostedRoom();
      const committed = sut.send('r1', 'alice', 'one', null);
      await flushPromises();
      peers.storeLast();
      await committed.acked;
      sut.send('r1', 'alice', 'two', null); // sequenced, waiting for its majority
      await flushPromises();
      expect(sut.visibleUpTo('r1')).toBe(1);
      const seqs = (page: { messages: { sequenceNumber: number }[] }) => page.messages.map((m) => m.sequenceNumber);
      expect(seqs(sut.page('r1', { limit: 10 }, true))).toEqual([1]);
      expect(seqs(sut.page('r1', { after: 0, limit: 10 }, true))).toEqual([1]);
      expect(seqs(sut.page('r1', { before: 5, limit: 10 }, true))).toEqual([1]);
      expect(sut.page('r1', { limit: 10 }, true)).toMatchObject({ lastSequence: 1, hasMore: false });
      expect(seqs(sut.page('r1', { after: 0, limit: 10 }))).toEqual([1, 2]);
    });

    it('a retry of a message still waiting for its majority replicates it again and answers once that is stored', async () => {
      hostedRoom();
      const first = sut.send('r1', 'alice', 'hi', 'c1');
      await flushPromises();
      peers.loseLast();
      await expect(first.acked).rejects.toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE' });

      const retry = sut.send('r1', 'alice', 'hi', 'c1');
      expect(retry).toMatchObject({ duplicate: true, message: { sequenceNumber: 1 } });
      expect(peers.replicated.filter((r) => r.event.kind === 'message')).toHaveLength(2);
      peers.storeLast();
      await expect(retry.acked).resolves.toBeUndefined();
      expect(store.getRoom('r1')?.lastSequence).toBe(1);
      expect(member.sent('new_message')).toHaveLength(1);
    });

    it('a retry of a committed message is answered at once, without replicating again', async () => {
      hostedRoom();
      const first = sut.send('r1', 'alice', 'hi', 'c1');
      await flushPromises();
      peers.storeLast();
      await first.acked;
      const retry = sut.send('r1', 'alice', 'hi', 'c1');
      await expect(retry.acked).resolves.toBeUndefined();
      expect(peers.replicated.filter((r) => r.event.kind === 'message')).toHaveLength(1);
    });
  });
});
