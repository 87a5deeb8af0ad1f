import { appendMessages as append, roomRecord as room } from '../../testing/records';
import { ChatStore } from './chat-store';
import { RoomRepository } from './room.repository';

describe(RoomRepository.name, () => {
  let store: ChatStore;
  let sut: RoomRepository;
  beforeEach(() => {
    store = ChatStore.inMemory();
    sut = store.rooms;
    sut.insertRoom(room());
  });
  afterEach(() => store.close());

  it('keeps messages and sequence when the room metadata is refreshed', () => {
    append(store, 1);
    const { lastSequence: _l, ...meta } = room({ roomName: 'renamed', state: 'DELETION_PENDING', deletionTxn: 't1' });
    sut.upsertRoomMeta(meta);
    expect(sut.getRoom('r1')).toMatchObject({ roomName: 'renamed', lastSequence: 1, state: 'DELETION_PENDING', deletionTxn: 't1' });
    expect(store.messages.messagesAfter('r1', 0, 10)).toHaveLength(1);
  });

  it('setHost changes who hosts the room at which epoch, and nothing else', () => {
    append(store, 3);
    sut.getRoom('r1'); // cached
    sut.setHost('r1', 'node3', 4);
    expect(sut.getRoom('r1')).toMatchObject({ roomName: 'general', lastSequence: 3, hostNode: 'node3', hostEpoch: 4 });
    expect(sut.listRooms('node3').map((r) => r.roomId)).toEqual(['r1']);
    expect(sut.countRoomsHostedBy('node1')).toBe(0);
  });

  it('stores the deletion state of a room', () => {
    sut.setRoomState('r1', 'COMMITTING', 'txn-1');
    expect(sut.getRoom('r1')).toMatchObject({ state: 'COMMITTING', deletionTxn: 'txn-1' });
    sut.setRoomState('r1', 'ACTIVE', null);
    expect(sut.getRoom('r1')).toMatchObject({ state: 'ACTIVE', deletionTxn: null });
  });
});
