import { Test, type TestingModule } from '@nestjs/testing';
import { Clock } from '../../../common/clock/clock';
import { loadConfig } from '../../../common/config/load-config';
import { NODE_CONFIG } from '../../../common/config/node-config';
import { CHAT_STORE, ChatStore } from '../../../common/store/chat-store';
import { FakeClock, FakeSocket } from '../../../testing/fakes';
import { ClientRegistry } from '../../members/client-registry';
import { PeerDirectory } from '../../peers/peer-directory';
import type { ReplicationEvent } from '../../../common/protocol/peer-wire';
import { ReplicaService } from './replica.service';
import { RoomHostAuthority } from './room-host-authority';
import { LogReconciler } from './log-reconciler';
import { HostChanges } from './host-changes';
import { RoomHostService } from '../host/room-host.service';

const ROOM = {
  room_id: 'r1',
  room_name: 'general',
  description: null,
  creator_id: 'alice',
  host_node: 'node2',
  host_epoch: 1,
  state: 'ACTIVE',
  created_at: '2026-01-01T00:00:00.000Z',
  last_sequence: 0,
  deletion_txn: null,
};
const message = (n: number): ReplicationEvent => ({
  kind: 'message',
  message: { message_id: `m${n}`, room_id: 'r1', username: 'alice', content: `hi ${n}`, sequence_number: n, timestamp: 't', client_message_id: null },
});

describe(ReplicaService.name, () => {
  let moduleRef: TestingModule;
  let sut: ReplicaService;
  let store: ChatStore;
  let clients: ClientRegistry;
  const fetched: unknown[][] = [];

  beforeEach(async () => {
    store = ChatStore.inMemory();
    fetched.length = 0;
    const peers = {
      has: (id: string) => id === 'node2' || id === 'node3',
      subscribe: () => undefined,
      call: async (_node: string, method: string, params: unknown[]) => {
        fetched.push([method, ...params]);
        return { success: true, messages: [message(2)].map((e) => (e as Extract<ReplicationEvent, { kind: 'message' }>).message), first_sequence: 1, last_sequence: 2 };
      },
    };
    moduleRef = await Test.createTestingModule({
      providers: [
        ReplicaService,
        RoomHostAuthority,
        LogReconciler,
        HostChanges,
        ClientRegistry,
        { provide: RoomHostService, useValue: { stopServing: () => undefined } }, // this node hosts none of these rooms
        { provide: NODE_CONFIG, useValue: loadConfig({ NODE_ID: 'node1' }) },
        { provide: CHAT_STORE, useValue: store },
        { provide: Clock, useValue: new FakeClock() },
        { provide: PeerDirectory, useValue: peers },
      ],
    }).compile();
    sut = moduleRef.get(ReplicaService);
    clients = moduleRef.get(ClientRegistry);
  });

  afterEach(async () => {
    await moduleRef.close();
    store.close();
  });

  it('stores the host events in order and delivers each message once to the room sockets', async () => {
    const socket = new FakeSocket();
    const conn = clients.connect(socket.asWebSocket());
    clients.register(conn, 'r1', 'bob', 0);
    await sut.receive('node2', [{ kind: 'room', room: ROOM }, message(1), message(2)]);
    await sut.receive('node2', [message(2)]); // a repeat is a duplicate, not a second delivery
    expect(store.getRoom('r1')?.lastSequence).toBe(2);
    expect(socket.sent('new_message').map((m) => m.sequence_number)).toEqual([1, 2]);
  });

  it('fills a gap from the host before delivering what follows it', async () => {
    await sut.receive('node2', [{ kind: 'room', room: ROOM }, message(1), message(3)]);
    expect(fetched).toEqual([['get_messages', 'r1', 1, null, 500]]);
    expect(store.messagesAfter('r1', 0, 10).map((m) => m.sequenceNumber)).toEqual([1, 2, 3]);
  });

  it('reports a batch it could not apply to the caller, so the sender retries instead of dropping it', async () => {
    await sut.receive('node2', [{ kind: 'room', room: ROOM }]);
    const apply = jest.spyOn(store, 'applyReplicaMessage').mockImplementationOnce(() => {
      throw new Error('disk full');
    });
    await expect(sut.receive('node2', [message(1)])).rejects.toThrow(/disk full/);
    apply.mockRestore();
    await sut.receive('node2', [message(1)]); // the retry goes through, and later batches still apply
    expect(store.getRoom('r1')?.lastSequence).toBe(1);
  });

  it('refuses a whole batch from a peer that is not the room host, and applies none of it', async () => {
    const socket = new FakeSocket();
    const conn = clients.connect(socket.asWebSocket());
    await sut.receive('node2', [{ kind: 'room', room: ROOM }, message(1)]);
    clients.register(conn, 'r1', 'bob', 1);
    const forged = sut.receive('node3', [message(2), { kind: 'member', event_type: 'member_joined', event: { room_id: 'r1', username: 'mallory' } as never, node_id: 'node3' }]);
    await expect(forged).rejects.toMatchObject({ code: -32403, faultString: expect.stringMatching(/hosted by node2, not by node3/) });
    await expect(sut.receive('node3', [{ kind: 'room', room: { ...ROOM, host_node: 'node3' } }])).rejects.toMatchObject({ code: -32403 });
    await expect(sut.receive('node2', [{ kind: 'room', room: { ...ROOM, room_id: 'r2', host_node: 'node3' } }])).rejects.toMatchObject({ code: -32403 });
    expect(store.getRoom('r1')).toMatchObject({ hostNode: 'node2', lastSequence: 1 });
    expect(store.getRoom('r2')).toBeNull();
    expect(store.listMembers('r1')).toEqual([]);
    expect(socket.sent('new_message')).toEqual([]);
  });

  it('keeps no state for a caller that is not a configured peer', async () => {
    await expect(sut.receive('node9', [{ kind: 'room', room: { ...ROOM, host_node: 'node9' } }])).rejects.toMatchObject({ code: -32403, faultString: expect.stringMatching(/not in PEER_NODES/) });
    expect(store.getRoom('r1')).toBeNull();
    expect((sut as unknown as { chains: Map<string, unknown> }).chains.has('node9')).toBe(false);
  });
});
