import { loadConfig } from '../../../common/config/load-config';
import type { RoomRecord } from '../../../common/store/chat-records';
import { ChatStore } from '../../../common/store/chat-store';
import type { ReplicationEvent, RoomWire } from '../../../common/protocol/peer-wire';
import { FakeClock } from '../../../testing/fakes';
import { RoomHostAuthority } from './room-host-authority';
import { roomRecord } from '../../../testing/records';

const room = (roomId: string, hostNode: string): RoomRecord => roomRecord({ roomId, roomName: roomId, hostNode });
const wire = (roomId: string, host: string, creator = 'alice'): ReplicationEvent => ({
  kind: 'room',
  room: { room_id: roomId, room_name: roomId, description: null, creator_id: creator, host_node: host, host_epoch: 1, state: 'ACTIVE', created_at: 't', last_sequence: 0, deletion_txn: null } as RoomWire,
});
const msg = (roomId: string): ReplicationEvent => ({
  kind: 'message',
  message: { message_id: 'm', room_id: roomId, username: 'alice', content: 'x', sequence_number: 1, timestamp: 't', client_message_id: null },
});

describe(RoomHostAuthority.name, () => {
  let store: ChatStore;
  let sut: RoomHostAuthority;

  beforeEach(() => {
    store = ChatStore.inMemory();
    store.insertRoom(room('mine', 'node1'));
    store.insertRoom(room('theirs', 'node2'));
    store.deleteRoom({ roomId: 'gone', roomName: 'gone', hostNode: 'node3', deletedAt: 't', transactionId: null });
    sut = new RoomHostAuthority(loadConfig({ NODE_ID: 'node1' }), store, new FakeClock());
  });
  afterEach(() => store.close());

  it('knows a room host from its replica or its tombstone', () => {
    expect([sut.knownHost('mine'), sut.knownHost('theirs'), sut.knownHost('gone'), sut.knownHost('never')]).toEqual(['node1', 'node2', 'node3', undefined]);
  });

  it('lets only the known host change a room, and nobody change a room hosted here', () => {
    expect(sut.refusal('theirs', 'node2')).toBeNull();
    expect(sut.refusal('theirs', 'node3')).toMatch(/hosted by node2, not by node3/);
    expect(sut.refusal('mine', 'node2')).toMatch(/hosted by this node/);
    expect(sut.refusal('mine', null)).toMatch(/hosted by this node/);
    expect(sut.refusal('theirs', null)).toBeNull(); // unsigned: the caller is unknown
    expect(sut.refusal('never', 'node3')).toBeNull();
  });

  it('checks a batch as a whole, with the rooms it introduces', () => {
    expect(sut.batchRefusal('node3', [wire('new', 'node3'), msg('new')])).toBeNull();
    expect(sut.batchRefusal('node3', [wire('new', 'node2')])).toMatch(/names node2 as its host, but node3 sent it/);
    expect(sut.batchRefusal('node3', [wire('new', 'node3'), msg('theirs')])).toMatch(/hosted by node2/);
    expect(sut.batchRefusal('node2', [wire('theirs', 'node3')])).toMatch(/host cannot be changed/);
    expect(sut.batchRefusal('node2', [wire('theirs', 'node2', 'mallory')])).toMatch(/creator cannot be changed/);
    expect(sut.batchRefusal('node2', [{ kind: 'deleted', room_id: 'mine', room_name: 'mine', transaction_id: null }])).toMatch(/hosted by this node/);
    expect(sut.batchRefusal('node2', [{ kind: 'future_kind' } as never, msg('theirs')])).toBeNull();
  });
});
