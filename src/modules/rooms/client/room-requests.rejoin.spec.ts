import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Clock } from '../../../common/clock/clock';
import { loadConfig } from '../../../common/config/load-config';
import { NODE_CONFIG } from '../../../common/config/node-config';
import { ChatError } from '../../../common/errors/chat-error';
import { ChatMetrics } from '../../../common/metrics/chat-metrics';
import { ClientErrorFrames } from '../../../common/metrics/client-error-frames';
import type { ForwardItem } from '../../../common/protocol/peer-wire';
import { ChatStore } from '../../../common/store/chat-store';
import { storeProviders } from '../../../common/store/store.module';
import { FakeClock, FakeSocket } from '../../../testing/fakes';
import { roomRecord } from '../../../testing/records';
import { ClientRegistry } from '../../members/client-registry';
import { RequestLimiter } from '../../members/request-limiter';
import { StaleMemberCleanupService } from '../../members/stale-member-cleanup.service';
import { RoomHostService } from '../host/room-host.service';
import { UsernameGuard } from '../identity/username-guard';
import { ConnectionIdentity } from './connection-identity';
import { RoomLogs } from '../replication/room-logs.service';
import { ReplicaService } from '../replica/replica.service';
import type { HostJoin, RoomHost, SentMessage } from '../routing/room-host';
import { RoomHosts } from '../routing/room-hosts';
import { RoomLocator } from '../routing/room-locator';
import { RoomHistoryService } from './room-history.service';
import { RoomVisibility } from '../replication/room-visibility';
import { RoomRequestsService } from './room-requests.service';
import { ReadStates } from './read-states';
import { ModeratorLists } from './moderator-lists';

/**
 * The remote host (node2) as a forwarded send sees it: it has forgotten the members until they
 * join again (it removed them as members of a node that did not answer); every call is recorded.
 */
class ForgetfulHost implements RoomHost {
  readonly nodeId = 'node2';
  readonly maxSendsInFlight = 8;
  readonly calls: string[] = [];
  members = new Set<string>();
  /** When set, join waits for it (to hold sends behind a join in flight). */
  joinGate: Promise<void> | null = null;
  private sequence = 0;

  async join(username: string): Promise<HostJoin> {
    this.calls.push(`join ${username}`);
    await this.joinGate;
    this.members.add(username);
    return {} as HostJoin;
  }
  async send(item: ForwardItem): Promise<SentMessage> {
    this.calls.push(`send ${item.content}`);
    if (!this.members.has(item.username)) throw new ChatError('NOT_MEMBER', 'You are not a member of this room');
    return { message_id: `m${++this.sequence}`, sequence_number: this.sequence, timestamp: 't' };
  }
  leave = async () => undefined;
  deleteRoom = async () => ({}) as never;
  editMessage = async () => ({}) as never;
  deleteMessage = async () => ({}) as never;
  markRead = async () => ({}) as never;
  invite = async () => ({}) as never;
  moderate = async () => ({}) as never;
  history = async () => null;
}

describe(`${RoomRequestsService.name}: a member the room's host forgot`, () => {
  let moduleRef: TestingModule;
  let store: ChatStore;
  let host: ForgetfulHost;
  let sut: RoomRequestsService;
  let clients: ClientRegistry;
  const roomId = 'remote-room';

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    store = ChatStore.inMemory();
    store.rooms.insertRoom(roomRecord({ roomId, roomName: 'remote', creatorId: 'carol', hostNode: 'node2' }));
    host = new ForgetfulHost();
    moduleRef = await Test.createTestingModule({
      providers: [
        RoomRequestsService,
        ClientRegistry,
        RequestLimiter,
        ChatMetrics,
        ClientErrorFrames,
        { provide: NODE_CONFIG, useValue: loadConfig({ NODE_ID: 'node1' }) },
        ...storeProviders(store),
        { provide: Clock, useValue: new FakeClock() },
        { provide: RoomHosts, useValue: { for: () => host } },
        { provide: RoomLocator, useValue: { locate: async (id: string) => store.rooms.getRoom(id), activeRoom: async (id: string) => store.rooms.getRoom(id) } },
        { provide: UsernameGuard, useValue: { assertFreeFor: async () => undefined } },
        ConnectionIdentity,
        ReadStates,
        ModeratorLists,
        RoomVisibility,
        { provide: ReplicaService, useValue: { waitForSequence: async () => undefined } },
        { provide: RoomHostService, useValue: {} },
        { provide: RoomHistoryService, useValue: {} },
        { provide: StaleMemberCleanupService, useValue: { subscribe: () => undefined } },
        { provide: RoomLogs, useValue: { subscribe: () => undefined } },
      ],
    }).compile();
    sut = moduleRef.get(RoomRequestsService);
    clients = moduleRef.get(ClientRegistry);
  });

  afterEach(async () => {
    await moduleRef.close();
    store.close();
  });

  /** A connection of `username` registered in the room here (it joined before the host forgot it). */
  const member = (username: string) => {
    const socket = new FakeSocket();
    const conn = clients.connect(socket.asWebSocket());
    clients.register(conn, roomId, username, 0);
    conn.username = username;
    return { socket, conn };
  };

  it('joins the host again and retries the send once, so the sender gets message_sent', async () => {
    const { socket, conn } = member('bob');
    await sut.sendMessage(conn, { room_id: roomId, username: 'bob', content: 'hi', client_message_id: 'c1' });
    await sut.settled(conn);

    expect(host.calls).toEqual(['send hi', 'join bob', 'send hi']);
    expect(socket.sent('message_sent')).toEqual([expect.objectContaining({ sequence_number: 1, client_message_id: 'c1' })]);
    expect(socket.sent('message_error')).toEqual([]);
  });

  it('pipelined sends refused together share one join and keep their order', async () => {
    const { socket, conn } = member('bob');
    let open!: () => void;
    host.joinGate = new Promise((r) => (open = r));
    await sut.sendMessage(conn, { room_id: roomId, username: 'bob', content: 'one' });
    await sut.sendMessage(conn, { room_id: roomId, username: 'bob', content: 'two' });
    await new Promise((r) => setImmediate(r)); // both refusals arrive while the join is in flight
    open();
    await sut.settled(conn);

    expect(host.calls.filter((c) => c.startsWith('join'))).toEqual(['join bob']);
    expect(host.calls.slice(-2)).toEqual(['send one', 'send two']);
    expect(socket.sent('message_sent').map((m) => m.sequence_number)).toEqual([1, 2]);
  });

  it('a host that still refuses after the join again: the sender gets NOT_MEMBER (one retry, no loop)', async () => {
    const { socket, conn } = member('bob');
    host.join = async (username: string) => {
      host.calls.push(`join ${username}`);
      return {} as HostJoin; // answers, but does not take the member back
    };
    await sut.sendMessage(conn, { room_id: roomId, username: 'bob', content: 'hi' });
    await sut.settled(conn);

    expect(host.calls).toEqual(['send hi', 'join bob', 'send hi']);
    expect(socket.sent('message_error')).toEqual([expect.objectContaining({ error_code: 'NOT_MEMBER' })]);
  });
});
