import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Clock } from '../../../common/clock/clock';
import { loadConfig } from '../../../common/config/load-config';
import { NODE_CONFIG } from '../../../common/config/node-config';
import type { MessageWire, ReplicationEvent, RoomWire } from '../../../common/protocol/peer-wire';
import { CHAT_STORE, ChatStore } from '../../../common/store/chat-store';
import { FakeClock, FakeSocket } from '../../../testing/fakes';
import { messageRecord, roomRecord } from '../../../testing/records';
import { ClientRegistry } from '../../members/client-registry';
import { PeerDirectory } from '../../peers/peer-directory';
import { RoomHostService } from '../host/room-host.service';
import { HostChanges } from './host-changes';
import { LogReconciler } from './log-reconciler';
import { ReplicaService } from './replica.service';
import { RoomHostAuthority } from './room-host-authority';

const wireMessage = (n: number, id: string): MessageWire => ({ message_id: id, room_id: 'r1', username: 'alice', content: id, sequence_number: n, timestamp: 't', client_message_id: null });
const message = (n: number, id: string, epoch: number): ReplicationEvent => ({ kind: 'message', message: wireMessage(n, id), epoch });
const announce = (host: string, epoch: number, epochStart: number): ReplicationEvent => ({
  kind: 'room',
  room: { room_id: 'r1', room_name: 'general', description: null, creator_id: 'alice', host_node: host, host_epoch: epoch, epoch_start: epochStart, state: 'ACTIVE', created_at: 't', last_sequence: 0, deletion_txn: null } as RoomWire,
});

describe(`${ReplicaService.name} (after a failover)`, () => {
  let moduleRef: TestingModule;
  let store: ChatStore;
  let socket: FakeSocket;
  /** node3's log of r1 as its get_messages serves it (the new host). */
  let newHostLog: MessageWire[];
  let sut: ReplicaService;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    store = ChatStore.inMemory();
    newHostLog = [];
    const peers = {
      has: (id: string) => ['node2', 'node3'].includes(id),
      subscribe: () => undefined,
      call: async (_node: string, method: string, params: [string, number, number | null, number]) => {
        if (method !== 'get_messages') throw new Error(`unexpected ${method}`);
        const [, after, before] = params;
        const messages = newHostLog.filter((m) => m.sequence_number > after && (before === null || m.sequence_number < before));
        return { success: true, messages, first_sequence: 1, last_sequence: newHostLog.length };
      },
    };
    moduleRef = await Test.createTestingModule({
      providers: [
        ReplicaService,
        RoomHostAuthority,
        LogReconciler,
        HostChanges,
        ClientRegistry,
        { provide: RoomHostService, useValue: { stopServing: () => undefined } },
        { provide: NODE_CONFIG, useValue: loadConfig({ NODE_ID: 'node1' }) },
        { provide: CHAT_STORE, useValue: store },
        { provide: Clock, useValue: new FakeClock() },
        { provide: PeerDirectory, useValue: peers },
      ],
    }).compile();
    sut = moduleRef.get(ReplicaService);
    // this node's copy of r1 (hosted by node2 at epoch 1): a, b and x3, which node2 sequenced but no majority stored
    store.insertRoom(roomRecord({ hostNode: 'node2' }));
    ['a', 'b', 'x3'].forEach((id, i) => store.applyReplicaMessage(messageRecord(i + 1, { messageId: id })));
    const clients = moduleRef.get(ClientRegistry);
    socket = new FakeSocket();
    clients.register(clients.connect(socket.asWebSocket()), 'r1', 'bob', 2); // bob has been shown a and b
  });

  afterEach(async () => {
    await moduleRef.close();
    store.close();
  });

  const idsHere = () => store.messagesAfter('r1', 0, 100).map((m) => m.messageId);

  it("follows the new host's announcement and tells local members room_host_changed", async () => {
    await sut.receive('node3', [announce('node3', 2, 3)]);
    expect(store.getRoom('r1')).toMatchObject({ hostNode: 'node3', hostEpoch: 2, promisedEpoch: 2, epochStart: 3 });
    expect(socket.sent('room_host_changed')).toEqual([{ room_id: 'r1', admin_node: 'node3', host_epoch: 2 }]);
  });

  it("aligns with the new host's log before applying its first message: the divergent tail goes, the new message follows", async () => {
    newHostLog = [wireMessage(1, 'a'), wireMessage(2, 'b'), wireMessage(3, 'c3')];
    await sut.receive('node3', [announce('node3', 2, 3), message(3, 'c3', 2)]);
    expect(idsHere()).toEqual(['a', 'b', 'c3']);
    expect(store.getRoom('r1')).toMatchObject({ lastSequence: 3, logEpoch: 2 });
    expect(socket.sent('new_message').map((m) => m.message_id)).toEqual(['c3']);
  });

  // BUG (reported; needs 5+ nodes to happen): a replica shows a message when it arrives, before the
  // host's majority, so a tail a new host drops may have been shown; the socket's cursor then
  // skips the new host's messages at those sequences and the member never sees them.
  it.failing('a member shown a message that the new host dropped still gets the new message at that sequence', async () => {
    const clients = moduleRef.get(ClientRegistry);
    const carol = new FakeSocket();
    clients.register(clients.connect(carol.asWebSocket()), 'r1', 'carol', 3); // carol was shown x3 when it arrived
    newHostLog = [wireMessage(1, 'a'), wireMessage(2, 'b'), wireMessage(3, 'c3')];
    await sut.receive('node3', [announce('node3', 2, 3), message(3, 'c3', 2)]);
    expect(carol.sent('new_message').map((m) => m.message_id)).toEqual(['c3']);
  });

  it('refuses the old host once the new epoch is known (stale epoch), applying nothing of its batch', async () => {
    await sut.receive('node3', [announce('node3', 2, 4)]);
    await expect(sut.receive('node2', [message(4, 'late', 1)])).rejects.toMatchObject({ code: -32409 });
    expect(idsHere()).toEqual(['a', 'b', 'x3']);
    expect(socket.sent('new_message')).toEqual([]);
  });

  it('keeps the old host\u2019s message the new host holds (it was on a majority), shows it to members who had not seen it, then goes on', async () => {
    newHostLog = [wireMessage(1, 'a'), wireMessage(2, 'b'), wireMessage(3, 'x3'), wireMessage(4, 'd4')];
    await sut.receive('node3', [announce('node3', 2, 4), message(4, 'd4', 2)]);
    expect(idsHere()).toEqual(['a', 'b', 'x3', 'd4']);
    expect(socket.sent('new_message').map((m) => m.sequence_number)).toEqual([3, 4]);
  });
});
