import { loadConfig } from '../../../common/config/load-config';
import type { NodeConfig } from '../../../common/config/node-config';
import { ChatStore } from '../../../common/store/chat-store';
import { chatErrorCode, FakeClock, FakeSocket } from '../../../testing/fakes';
import { ClientRegistry } from '../../members/client-registry';
import type { PeerDirectory } from '../../peers/peer-directory';
import { UsernameGuard } from './username-guard';
import { roomRecord } from '../../../testing/records';

/** Peers that answer is_username_held from a table; node9 is known failed, node4 does not answer. */
class FakePeers {
  readonly held = new Map<string, boolean>();
  readonly asked: string[] = [];
  has = (n: string) => ['node2', 'node3', 'node4', 'node9'].includes(n);
  isFailed = (n: string) => n === 'node9';
  async call(nodeId: string, _method: string, params: [string]): Promise<boolean> {
    this.asked.push(nodeId);
    if (nodeId === 'node4') throw new Error('timeout');
    return this.held.get(`${params[0]}@${nodeId}`) ?? false;
  }
}

describe(UsernameGuard.name, () => {
  let store: ChatStore;
  let peers: FakePeers;
  let clients: ClientRegistry;
  let sut: UsernameGuard;
  const build = (config: NodeConfig) => new UsernameGuard(config, store.members, clients, peers as unknown as PeerDirectory);

  beforeEach(() => {
    store = ChatStore.inMemory();
    peers = new FakePeers();
    const config = loadConfig({ NODE_ID: 'node1' });
    clients = new ClientRegistry(config, new FakeClock());
    sut = build(config);
    store.rooms.insertRoom(roomRecord({ roomId: 'r', roomName: 'r', creatorId: 'x' }));
  });
  afterEach(() => {
    clients.onModuleDestroy();
    store.close();
  });

  it('on the host, refuses a forwarded request for a name a local connection holds, and lets its own node through', async () => {
    const holder = clients.connect(new FakeSocket().asWebSocket());
    clients.register(holder, 'r', 'alice', 0);
    expect(await chatErrorCode(() => sut.assertFreeForPeer('node2', 'alice'))).toBe('USERNAME_TAKEN');
    await sut.assertFreeForPeer('node1', 'alice');
    clients.unregister(holder, 'r');
    await sut.assertFreeForPeer('node2', 'alice');
  });

  it('asks only the other nodes the name is a member through; failed or silent nodes vouch for nobody', async () => {
    for (const [room, node] of [['r', 'node2'], ['r2', 'node3'], ['r3', 'node4'], ['r4', 'node9']]) {
      if (room !== 'r') store.rooms.insertRoom({ ...store.rooms.getRoom('r')!, roomId: room, roomName: room });
      store.members.addMember(room, 'bob', node, 'now');
    }
    await sut.assertFreeForPeer('node2', 'bob');
    expect(peers.asked.sort()).toEqual(['node3', 'node4']);

    peers.held.set('bob@node3', true);
    expect(await chatErrorCode(() => sut.assertFreeForPeer('node2', 'bob'))).toBe('USERNAME_TAKEN');
  });

  it('allows several connections of one user in token mode (the token proves the name)', async () => {
    const holder = clients.connect(new FakeSocket().asWebSocket());
    clients.register(holder, 'r', 'alice', 0);
    const token = build(loadConfig({ NODE_ID: 'node1', AUTH_MODE: 'token', AUTH_SECRET: 'k'.repeat(32) }));
    await token.assertFreeForPeer('node2', 'alice');
    await token.assertFreeFor(clients.connect(new FakeSocket().asWebSocket()), 'alice');
  });
});
