import { SchedulerRegistry } from '@nestjs/schedule';
import { Test, type TestingModule } from '@nestjs/testing';
import { Clock } from '../../../common/clock/clock';
import { loadConfig } from '../../../common/config/load-config';
import { NODE_CONFIG } from '../../../common/config/node-config';
import type { RoomRecord } from '../../../common/store/chat-records';
import { ChatStore } from '../../../common/store/chat-store';
import { storeProviders } from '../../../common/store/store.module';
import { FakeClock, FakeSocket } from '../../../testing/fakes';
import { ClientRegistry } from '../../members/client-registry';
import { ReplicaService } from './replica.service';
import { RoomDeletionParticipant } from './room-deletion.participant';
import { RoomHostAuthority } from './room-host-authority';
import { roomRecord } from '../../../testing/records';

const room = (roomId: string, hostNode: string, state: RoomRecord['state'] = 'ACTIVE', deletionTxn: string | null = null): RoomRecord =>
  roomRecord({ roomId, roomName: roomId, hostNode, state, deletionTxn });

describe(RoomDeletionParticipant.name, () => {
  let moduleRef: TestingModule;
  let sut: RoomDeletionParticipant;
  let store: ChatStore;
  let socket: FakeSocket;
  const deleted: string[] = [];

  const build = async () => {
    moduleRef = await Test.createTestingModule({
      providers: [
        RoomDeletionParticipant,
        RoomHostAuthority,
        ClientRegistry,
        SchedulerRegistry,
        { provide: NODE_CONFIG, useValue: loadConfig({ NODE_ID: 'node1', DELETE_PREPARE_TIMEOUT: '5' }) },
        ...storeProviders(store),
        { provide: Clock, useValue: new FakeClock() },
        { provide: ReplicaService, useValue: { applyDeleted: (roomId: string) => deleted.push(roomId) } },
      ],
    }).compile();
    sut = moduleRef.get(RoomDeletionParticipant);
    const clients = moduleRef.get(ClientRegistry);
    socket = new FakeSocket();
    clients.register(clients.connect(socket.asWebSocket()), 'r2', 'bob', 0);
  };

  beforeEach(async () => {
    jest.useFakeTimers();
    deleted.length = 0;
    store = ChatStore.inMemory();
    store.rooms.insertRoom(room('r1', 'node1'));
    store.rooms.insertRoom(room('r2', 'node2'));
    await build();
  });
  afterEach(async () => {
    await moduleRef.close();
    store.close();
    jest.useRealTimers();
  });

  it('rolls a prepared deletion back by itself when the host sends neither commit nor rollback in time', () => {
    expect(sut.prepare('r2', 't1', 'node2', 'alice').vote).toBe('READY');
    expect(store.rooms.getRoom('r2')).toMatchObject({ state: 'DELETION_PENDING', deletionTxn: 't1' });
    jest.advanceTimersByTime(4_999);
    expect(store.rooms.getRoom('r2')?.state).toBe('DELETION_PENDING');
    jest.advanceTimersByTime(1);
    expect(store.rooms.getRoom('r2')).toMatchObject({ state: 'ACTIVE', deletionTxn: null });
    expect(socket.sent('delete_room_cancelled')).toEqual([{ room_id: 'r2', transaction_id: 't1' }]);
  });

  it('commits only the transaction the host prepared, and then no timer fires', () => {
    expect(() => sut.commit('r2', 't1', 'r2', 'node2')).toThrow(/no deletion of room r2 was prepared/);
    sut.prepare('r2', 't1', 'node2', undefined);
    expect(() => sut.commit('r2', 'other', 'r2', 'node2')).toThrow(/prepared/);
    expect(() => sut.commit('r2', 't1', 'r2', 'node3')).toThrow(/hosted by node2, not by node3/);
    expect(sut.commit('r2', 't1', 'r2', 'node2')).toEqual({ success: true, node_id: 'node1' });
    expect(deleted).toEqual(['r2']);
    jest.advanceTimersByTime(10_000);
    expect(socket.sent('delete_room_cancelled')).toEqual([]);
  });

  it('refuses prepare, commit and rollback from a node that is not the host, and never deletes a room hosted here', () => {
    expect(() => sut.prepare('r2', 't1', 'node3', undefined)).toThrow(/hosted by node2/);
    expect(store.rooms.getRoom('r2')?.state).toBe('ACTIVE');
    sut.prepare('r2', 't1', 'node2', undefined);
    expect(() => sut.rollback('r2', 't1', 'node3')).toThrow(/hosted by node2/);
    expect(store.rooms.getRoom('r2')?.state).toBe('DELETION_PENDING');
    expect(sut.prepare('r1', 't2', 'node2', undefined).vote).toBe('ABORT');
    expect(() => sut.commit('r1', 't2', 'r1', 'node2')).toThrow(/hosted by this node/);
    expect(() => sut.commit('r1', 't2', 'r1', null)).toThrow(/hosted by this node/);
    expect(deleted).toEqual([]);
  });

  it('re-arms the timer at start for a deletion that was pending before a restart', async () => {
    store.rooms.setRoomState('r2', 'DELETION_PENDING', 't9');
    await moduleRef.close();
    await build();
    sut.onApplicationBootstrap();
    jest.advanceTimersByTime(5_000);
    expect(store.rooms.getRoom('r2')).toMatchObject({ state: 'ACTIVE', deletionTxn: null });
  });
  it('takes no part in deleting a room of our nodes (it has a log: only its log deletes it), refusing with -32403', () => {
    store.logs.saveState({ roomId: 'r2', epoch: 1, vote: null, commit: 1, applied: 1, learner: false, hostNode: 'node2', hostEpoch: 1 });
    expect(() => sut.prepare('r2', 't1', 'node2', 'alice')).toThrow(expect.objectContaining({ code: -32403, faultString: expect.stringMatching(/only through its replicated log/) }));
    store.rooms.setRoomState('r2', 'DELETION_PENDING', 't1'); // as if prepared before an upgrade
    expect(() => sut.commit('r2', 't1', 'r2', 'node2')).toThrow(expect.objectContaining({ code: -32403 }));
    expect(() => sut.rollback('r2', 't1', 'node2')).toThrow(expect.objectContaining({ code: -32403 }));
    expect(store.rooms.getRoom('r2')).toMatchObject({ state: 'DELETION_PENDING', deletionTxn: 't1' });
    expect(deleted).toEqual([]);
    expect(socket.frames).toEqual([]);
  });

  it('answers a repeated commit of a deletion it already applied', () => {
    sut.prepare('r2', 't1', 'node2', undefined);
    sut.commit('r2', 't1', 'r2', 'node2');
    store.tombstones.deleteRoom({ roomId: 'r2', roomName: 'r2', hostNode: 'node2', deletedAt: 't', transactionId: 't1' }); // what applyDeleted does
    expect(sut.commit('r2', 't1', 'r2', 'node2')).toEqual({ success: true, node_id: 'node1' });
    expect(deleted).toEqual(['r2']);
  });
});
