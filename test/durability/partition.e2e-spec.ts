import { NetnsLab } from '../support/netns-lab';
import { eventually, meshHealthy, peerStatuses, TestCluster } from '../support/cluster';
import type { TestClient } from '../support/test-client';
import { connect, createRoom, fullHistory, join, received, sendSequential } from '../support/rooms';

const describeLab = NetnsLab.describeOrSkip('partition e2e');

// /health shows peer details to loopback callers only: the nodes here are on other hosts
const peerStatus = async (url: string, peer: string) => (await peerStatuses(url))[peer];

// Three nodes on three hosts (network namespaces); the link between two of them is cut for real.
describeLab('a real network partition between two nodes', () => {
  let lab: NetnsLab;
  let cluster: TestCluster;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    lab = NetnsLab.create(3);
    cluster = await TestCluster.startIn(lab, { HEARTBEAT_INTERVAL: '0.5', HEARTBEAT_TIMEOUT: '0.5', PEER_CALL_TIMEOUT: '1' });
  }, 60000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await cluster?.stop();
    lab?.destroy();
  });

  it('is detected on both sides, clients on every host keep working where they can, and after healing every node holds the same history', async () => {
    const [alice, bob, carol] = await Promise.all([1, 2, 3].map((n) => connect(cluster.node(n))));
    clients.push(alice, bob, carol);
    const roomId = await createRoom(alice, 'partitioned', 'alice');
    await join(alice, roomId, 'alice');
    await join(carol, roomId, 'carol');
    await sendSequential(alice, roomId, 'alice', 5, 'before');

    lab.cut(1, 2);
    await eventually(async () => (await peerStatus(cluster.node(1).httpUrl, 'node2')) === 'failed' && (await peerStatus(cluster.node(2).httpUrl, 'node1')) === 'failed', 15000, 200);
    // node3 still sees both
    expect(await peerStatus(cluster.node(3).httpUrl, 'node1')).toBe('healthy');
    expect(await peerStatus(cluster.node(3).httpUrl, 'node2')).toBe('healthy');

    // both sides still serve their clients: alice and carol keep chatting through host node1
    const during = await sendSequential(alice, roomId, 'alice', 5, 'during');
    await eventually(() => received(carol, roomId).length >= 10, 10000);
    expect(during.map((f) => f.data.sequence_number)).toEqual([6, 7, 8, 9, 10]);
    const list = await bob.request('list_rooms', {}, 'rooms_list');
    expect(list.type).toBe('rooms_list');

    lab.heal();
    await meshHealthy(cluster.nodes, 20000);
    const histories = await Promise.all([1, 2, 3].map(async (n) => (await fullHistory(cluster.node(n), roomId, `reader${n}`)).messages));
    const contents = histories.map((h) => h.map((m) => `${m.sequence_number}:${m.content}`));
    expect(contents[0]).toEqual([...Array.from({ length: 5 }, (_, i) => `${i + 1}:before-${i}`), ...Array.from({ length: 5 }, (_, i) => `${i + 6}:during-${i}`)]);
    expect(contents[1]).toEqual(contents[0]);
    expect(contents[2]).toEqual(contents[0]);
  }, 90000);
});
