import { loadConfig } from '../../../common/config/load-config';
import { ChatStore } from '../../../common/store/chat-store';
import { FakeClock, FakeSocket } from '../../../testing/fakes';
import { roomRecord } from '../../../testing/records';
import type { ClientConnection } from '../../members/client-connection';
import { ClientRegistry } from '../../members/client-registry';
import type { PeerDirectory } from '../../peers/peer-directory';
import type { ReplicationBacklog, RoomLogOutbox } from '../replication/room-log-outbox';
import { TYPING_EXPIRES_MS, TypingNotices } from './typing-notices.service';
import { TYPING_INTERVAL_MS, TypingThrottle } from './typing-throttle';

/** The peer calls TypingNotices makes, each answered when the spec says so. */
class FakePeers {
  readonly calls: { node: string; params: unknown[]; answer: () => void }[] = [];
  failed = new Set<string>();
  has = (node: string) => ['node2', 'node3'].includes(node);
  isFailed = (node: string) => this.failed.has(node);
  isSuspected = () => false;
  call = (node: string, _method: string, params: unknown[]) => new Promise<boolean>((resolve) => this.calls.push({ node, params, answer: () => resolve(true) }));
}

describe(TypingNotices.name, () => {
  let store: ChatStore;
  let clock: FakeClock;
  let clients: ClientRegistry;
  let peers: FakePeers;
  let sut: TypingNotices;
  let backlog: ReplicationBacklog[];
  const join = (username: string): { socket: FakeSocket; conn: ClientConnection } => {
    const socket = new FakeSocket();
    const conn = clients.connect(socket.asWebSocket());
    clients.register(conn, 'r1', username, 0);
    store.members.addMember('r1', username, 'node1', 't');
    return { socket, conn };
  };

  beforeEach(() => {
    store = ChatStore.inMemory();
    store.rooms.insertRoom(roomRecord({ roomId: 'r1' }));
    clock = new FakeClock();
    clients = new ClientRegistry(loadConfig({ NODE_ID: 'node1' }), clock);
    peers = new FakePeers();
    backlog = [];
    sut = new TypingNotices(loadConfig({ NODE_ID: 'node1' }), clock, store.members, clients, peers as unknown as PeerDirectory, { backlog: () => backlog } as unknown as RoomLogOutbox);
    store.members.addMember('r1', 'bob', 'node2', 't');
    store.members.addMember('r1', 'carol', 'node3', 't');
  });
  afterEach(() => {
    clients.onModuleDestroy();
    store.close();
  });

  it('tells the room\'s other members here and each other node its members are on, not the typer', () => {
    const alice = join('alice');
    const dave = join('dave');
    sut.fromClient(alice.conn, 'r1', 'alice');
    expect(dave.socket.sent('user_typing')).toEqual([{ room_id: 'r1', username: 'alice', expires_in_ms: TYPING_EXPIRES_MS }]);
    expect(alice.socket.sent('user_typing')).toEqual([]);
    expect(peers.calls.map((c) => [c.node, c.params])).toEqual([['node2', ['r1', 'alice', 'node1']], ['node3', ['r1', 'alice', 'node1']]]);
    expect(store.logs.lastIndex('r1')).toBe(0); // never in the room's log
  });

  it('drops a notice within a second of the last one, and one to a peer still busy with the previous or down', async () => {
    const alice = join('alice');
    const dave = join('dave');
    sut.fromClient(alice.conn, 'r1', 'alice');
    sut.fromClient(alice.conn, 'r1', 'alice');
    expect(dave.socket.sent('user_typing')).toHaveLength(1);
    clock.advance(TYPING_INTERVAL_MS);
    peers.calls.find((c) => c.node === 'node3')!.answer();
    await new Promise((r) => setImmediate(r));
    peers.failed.add('node2');
    sut.fromClient(alice.conn, 'r1', 'alice');
    expect(dave.socket.sent('user_typing')).toHaveLength(2);
    expect(peers.calls.map((c) => c.node)).toEqual(['node2', 'node3', 'node3']);
  });

  it('sends none to a peer whose replication queue is backed up', () => {
    const alice = join('alice');
    backlog = [
      { peer: 'node2', pending: 40, oldestPendingMs: 2000, failing: false, failures: 0, lastError: null },
      { peer: 'node3', pending: 3, oldestPendingMs: 20, failing: false, failures: 0, lastError: null },
    ];
    sut.fromClient(alice.conn, 'r1', 'alice');
    expect(peers.calls.map((c) => c.node)).toEqual(['node3']);
  });

  it('refuses a connection that is not in the room, or in it under another name', () => {
    const alice = join('alice');
    const stranger = clients.connect(new FakeSocket().asWebSocket());
    expect(() => sut.fromClient(stranger, 'r1', 'alice')).toThrow(expect.objectContaining({ code: 'NOT_MEMBER' }));
    expect(() => sut.fromClient(alice.conn, 'r1', 'bob')).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED' }));
  });

  it('shows a peer\'s notice only for a member the room places on that peer', () => {
    const alice = join('alice');
    expect(sut.fromPeer('r1', 'bob', 'node2')).toBe(true);
    expect(sut.fromPeer('r1', 'bob', 'node3')).toBe(false); // node3 cannot make node2's member type
    expect(sut.fromPeer('r1', 'mallory', 'node2')).toBe(false);
    expect(sut.fromPeer('no-room', 'bob', 'node2')).toBe(false);
    expect(alice.socket.sent('user_typing').map((t) => t.username)).toEqual(['bob']);
  });
});

describe(TypingThrottle.name, () => {
  it('lets one notice per connection and room through per interval', () => {
    const throttle = new TypingThrottle<object>(1000);
    const a = {};
    expect(throttle.admit(a, 'r1', 0)).toBe(true);
    expect(throttle.admit(a, 'r1', 999)).toBe(false);
    expect(throttle.admit(a, 'r2', 999)).toBe(true);
    expect(throttle.admit({}, 'r1', 999)).toBe(true);
    expect(throttle.admit(a, 'r1', 1000)).toBe(true);
  });
});
