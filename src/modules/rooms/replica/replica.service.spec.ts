import { Logger } from '@nestjs/common';
import { peek } from '../../../testing/deferred';
import { LogCluster } from '../../../testing/log-cluster';
import { messageRecord, roomRecord } from '../../../testing/records';
import { RoomHostService } from '../host/room-host.service';
import { ReplicaService } from './replica.service';

describe(ReplicaService.name, () => {
  let cluster: LogCluster;
  let sut: ReplicaService;
  let roomId: string;
  const node = (id: string) => cluster.node(id);
  const host = () => node('node1').get(RoomHostService);

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    cluster = await LogCluster.start(['node1', 'node2', 'node3'], { providers: [ReplicaService, RoomHostService] });
    sut = node('node2').get(ReplicaService);
    roomId = (await host().create('general', 'alice', null)).roomId;
    await host().join(roomId, 'alice', 'node1');
    await cluster.settle();
  });

  afterEach(async () => {
    await cluster.close();
    jest.useRealTimers();
  });

  describe('waitForSequence', () => {
    it('resolves at once for a message already applied here, and once a later one is', async () => {
      await host().send(roomId, 'alice', 'one', null);
      await cluster.settle();
      await expect(sut.waitForSequence(roomId, 1)).resolves.toBeUndefined();

      cluster.network.cut.add('node2');
      await host().send(roomId, 'alice', 'two', null); // committed by node1 and node3
      const waiting = sut.waitForSequence(roomId, 2);
      await cluster.settle();
      expect(await peek(waiting)).toBe('pending');
      cluster.network.cut.delete('node2');
      await cluster.advance(2000);
      await expect(waiting).resolves.toBeUndefined();
    });

    it('gives up after the quorum wait when the message does not reach this node', async () => {
      cluster.network.cut.add('node2');
      await host().send(roomId, 'alice', 'one', null);
      const waiting = sut.waitForSequence(roomId, 1).catch((e: Error) => e);
      await cluster.advance(node('node2').config.quorumTimeoutMs + 100);
      expect(await waiting).toMatchObject({ message: `message 1 of room ${roomId} has not reached this node yet` });
    });
  });

  describe('rooms a reference node hosts (no log here)', () => {
    it('delivers their messages to members here without storing them; messages of a room with a log come only from the log', () => {
      node('node2').store.rooms.insertRoom(roomRecord({ roomId: 'ref', roomName: 'ref', hostNode: 'node3' }));
      const bob = node('node2').member('ref', 'bob');
      const alice = node('node2').member(roomId, 'alice');

      sut.deliverForeign(messageRecord(1, { roomId: 'ref', content: 'from the reference' }));
      sut.deliverForeign(messageRecord(1, { roomId, content: 'forged' }));

      expect(bob.sent('new_message').map((m) => m.content)).toEqual(['from the reference']);
      expect(node('node2').store.messages.messagesAfter('ref', 0, 10)).toEqual([]);
      expect(alice.sent('new_message')).toEqual([]);
    });
  });

  describe('applyDeleted', () => {
    it('drops the room, its log and its core here, keeps a tombstone and tells the members, once', async () => {
      const bob = node('node2').member(roomId, 'bob');
      sut.applyDeleted(roomId, 'general', 'txn-1', 'node1');
      sut.applyDeleted(roomId, 'general', 'txn-1', 'node1');

      expect(node('node2').store.rooms.getRoom(roomId)).toBeNull();
      expect(node('node2').store.logs.state(roomId)).toBeNull();
      expect(node('node2').store.tombstones.getTombstone(roomId)).toMatchObject({ roomName: 'general', hostNode: 'node1', transactionId: 'txn-1' });
      expect(node('node2').logs.hostOf(roomId)).toBeNull();
      expect(bob.types).toEqual(['room_deleted']);
    });
  });

  it('lists the rooms a node hosts that have sockets here', async () => {
    const other = (await node('node3').get(RoomHostService).create('other', 'carol', null)).roomId;
    await cluster.settle();
    node('node2').member(roomId, 'bob');
    expect(sut.roomsWithLocalMembers('node1').map((r) => r.roomId)).toEqual([roomId]);
    expect(sut.roomsWithLocalMembers('node3')).toEqual([]); // nobody here is in 'other'
    node('node2').member(other, 'dave');
    expect(sut.roomsWithLocalMembers('node3').map((r) => r.roomId)).toEqual([other]);
  });
});
