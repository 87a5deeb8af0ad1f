import { Logger } from '@nestjs/common';
import { peek } from '../../../testing/deferred';
import { chatErrorCode, type FakeSocket } from '../../../testing/fakes';
import { LogCluster } from '../../../testing/log-cluster';
import { RoomDeletionCoordinator } from './room-deletion.coordinator';
import { RoomHostService } from './room-host.service';

describe(RoomDeletionCoordinator.name, () => {
  let cluster: LogCluster;
  let sut: RoomDeletionCoordinator;
  let host: RoomHostService;
  let roomId: string;
  /** alice (the creator) on node1, bob on node2. */
  let alice: FakeSocket;
  let bob: FakeSocket;
  const node = (id: string) => cluster.node(id);

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    cluster = await LogCluster.start(['node1', 'node2', 'node3'], { providers: [RoomHostService, RoomDeletionCoordinator] });
    sut = node('node1').get(RoomDeletionCoordinator);
    host = node('node1').get(RoomHostService);
    roomId = (await host.create('general', 'alice', null)).roomId;
    await host.join(roomId, 'alice', 'node1');
    await host.join(roomId, 'bob', 'node2');
    await cluster.settle();
    alice = node('node1').member(roomId, 'alice');
    bob = node('node2').member(roomId, 'bob');
  });

  afterEach(async () => {
    await cluster.close();
    jest.useRealTimers();
  });

  describe('refuses before anything is written', () => {
    const unchanged = () => {
      expect(node('node1').store.logs.entriesOfKind(roomId, 'room_deleted')).toEqual([]);
      expect(alice.frames).toEqual([]);
    };

    it('lets only the room creator delete it (UNAUTHORIZED)', async () => {
      expect(await chatErrorCode(() => sut.deleteRoom(roomId, 'bob'))).toBe('UNAUTHORIZED');
      unchanged();
    });

    it('answers ROOM_NOT_FOUND for an unknown room, and retryably, naming the host, on a node that does not host it', async () => {
      expect(await chatErrorCode(() => sut.deleteRoom('nope', 'alice'))).toBe('ROOM_NOT_FOUND');
      const elsewhere = await node('node2').get(RoomDeletionCoordinator).deleteRoom(roomId, 'alice').catch((e: unknown) => e);
      expect(elsewhere).toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE', details: { admin_node: 'node1' } });
      unchanged();
    });

    it('refuses a room that is not ACTIVE (INVALID_STATE)', async () => {
      node('node1').store.rooms.setRoomState(roomId, 'DELETION_PENDING', 'other-txn');
      expect(await chatErrorCode(() => sut.deleteRoom(roomId, 'alice'))).toBe('INVALID_STATE');
      unchanged();
    });
  });

  it('deletes the room on every node with one log entry: a tombstone stays, and every member hears both deletion events', async () => {
    const outcome = await sut.deleteRoom(roomId, 'alice');
    await cluster.settle();

    expect(outcome).toEqual({ success: true, transactionId: expect.any(String) });
    const txn = outcome.transactionId;
    for (const id of cluster.ids) {
      expect(node(id).store.rooms.getRoom(roomId)).toBeNull();
      expect(node(id).store.members.listMembers(roomId)).toEqual([]);
      expect(node(id).store.logs.state(roomId)).toBeNull();
      expect(node(id).store.tombstones.getTombstone(roomId)).toEqual({ roomId, roomName: 'general', hostNode: 'node1', deletedAt: '2026-01-01T00:00:00.000Z', transactionId: txn });
    }
    for (const socket of [alice, bob]) {
      expect(socket.types).toEqual(['delete_room_initiated', 'room_deleted']);
      expect(socket.sent('delete_room_initiated')).toEqual([{ room_id: roomId, initiator: 'alice', status: 'in_progress', transaction_id: txn }]);
      expect(socket.sent('room_deleted')).toEqual([{ room_id: roomId, room_name: 'general', message: "Room 'general' has been deleted", transaction_id: txn }]);
    }
    expect(host.hostedRooms()).toEqual([]);
    expect(await chatErrorCode(() => host.join(roomId, 'carol', 'node1'))).toBe('ROOM_NOT_FOUND');
  });

  it('tells the requester the transaction once it is written, before anyone hears of it, and the outcome once a majority stored it', async () => {
    cluster.network.cut.add('node2');
    cluster.network.cut.add('node3');
    const started: { txn: string; framesSoFar: number }[] = [];
    const deleting = sut.deleteRoom(roomId, 'alice', (txn) => started.push({ txn, framesSoFar: alice.frames.length }));
    await cluster.settle();

    expect(started).toEqual([{ txn: expect.any(String), framesSoFar: 0 }]);
    expect(await peek(deleting)).toBe('pending');
    expect(node('node1').store.rooms.getRoom(roomId)).not.toBeNull(); // not committed: nobody is told yet
    // no join or message slips in behind the deletion
    expect(await chatErrorCode(() => host.join(roomId, 'carol', 'node1'))).toBe('INVALID_STATE');
    expect(await chatErrorCode(() => host.send(roomId, 'alice', 'late', null))).toBe('INVALID_STATE');

    cluster.network.cut.delete('node2');
    await cluster.advance(2000);
    expect(await deleting).toEqual({ success: true, transactionId: started[0].txn });
    expect(alice.types).toEqual(['delete_room_initiated', 'room_deleted']);
  });

  it('a deletion no majority confirmed in time is refused retryably; the room takes joins again, and the deletion commits once the peers are back', async () => {
    cluster.network.cut.add('node2');
    cluster.network.cut.add('node3');
    const deleting = sut.deleteRoom(roomId, 'alice').catch((e: unknown) => e);
    await cluster.advance(node('node1').config.quorumTimeoutMs + 200);

    expect(await deleting).toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE', details: { retryable: true } });
    const joining = host.join(roomId, 'carol', 'node1');
    expect(await peek(joining)).toBe('pending'); // taken (no longer INVALID_STATE), waiting for its majority

    cluster.network.cut.clear();
    await cluster.advance(2000);
    for (const id of cluster.ids) expect(node(id).store.tombstones.getTombstone(roomId)).not.toBeNull(); // what was written first commits first
    await expect(joining).rejects.toMatchObject({ code: 'ROOM_NOT_FOUND' }); // the room it joined went first
    expect(await chatErrorCode(() => sut.deleteRoom(roomId, 'alice'))).toBe('ROOM_NOT_FOUND'); // the client's retry
  });
});
