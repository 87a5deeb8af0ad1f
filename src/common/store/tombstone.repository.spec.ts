import { appendMessages as append, roomRecord as room } from '../../testing/records';
import { ChatStore } from './chat-store';
import { TombstoneRepository } from './tombstone.repository';

describe(TombstoneRepository.name, () => {
  let store: ChatStore;
  let sut: TombstoneRepository;
  beforeEach(() => {
    store = ChatStore.inMemory();
    sut = store.tombstones;
    store.rooms.insertRoom(room());
  });
  afterEach(() => store.close());

  it('removes room, members, messages and log, and leaves a tombstone', () => {
    append(store, 5);
    store.members.addMember('r1', 'alice', 'node1', 't');
    store.logs.saveState({ roomId: 'r1', epoch: 2, vote: 'node1', commit: 1, applied: 1, learner: false, hostNode: 'node1', hostEpoch: 2 });
    store.logs.replaceFrom('r1', 1, [{ index: 1, epoch: 2, kind: 'room', sequence: 0, clientKey: null, data: {} }]);
    sut.deleteRoom({ roomId: 'r1', roomName: 'general', hostNode: 'node1', deletedAt: '2026-01-02T00:00:00.000Z', transactionId: 'txn-9' });
    expect(store.rooms.getRoom('r1')).toBeNull();
    expect(store.messages.messagesAfter('r1', 0, 10)).toEqual([]);
    expect(store.members.listMembers('r1')).toEqual([]);
    expect(sut.getTombstone('r1')).toEqual({ roomId: 'r1', roomName: 'general', hostNode: 'node1', deletedAt: '2026-01-02T00:00:00.000Z', transactionId: 'txn-9' });
    expect(store.logs.state('r1')).toBeNull();
    expect(store.logs.lastIndex('r1')).toBe(0);
    expect(sut.tombstonesAfter('', 10).map((t) => t.roomId)).toEqual(['r1']);
    expect(sut.tombstonesAfter('r1', 10)).toEqual([]);
    // the name is free again
    expect(store.rooms.findRoomByName('general')).toBeNull();
  });
});
