import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { freePort } from '../src/cluster/ports';
import { decodeMethodCall, encodeFault, encodeMethodResponse, PeerCallVerifier } from '../src/common/xmlrpc';
import { eventually, TestCluster } from './support/cluster';
import { fakePeerHeartbeat } from './support/peer-rpc';
import { createFreshRoom, received, requestJoin } from './support/rooms';
import { ClientPool, TestClient, type Frame } from './support/test-client';

/** Three real node processes talking XML-RPC over real sockets (FAST_FAILURE_DETECTION settings). */
describe('multi-node: one chat system across three nodes', () => {
  let cluster: TestCluster;
  const clients = new ClientPool();
  const connect = (node: number) => clients.connect(cluster.node(node).url);
  const newRoom = async (c: TestClient, creator: string) => (await createFreshRoom(c, creator, 'shared', 'mesh')).roomId;

  beforeAll(async () => {
    cluster = await TestCluster.start(3);
  });
  afterEach(() => clients.closeAll());
  afterAll(() => cluster?.stop());

  it('discovers, joins, chats, leaves and disconnects across nodes', async () => {
    const a = await connect(1);
    const b = await connect(2);
    const c = await connect(3);
    const roomId = await newRoom(a, 'alice');
    const found = await c.request('discover_rooms', undefined, 'global_rooms_list');
    expect(found.data.nodes_queried).toEqual(['node3', expect.any(String), expect.any(String)]);
    expect([...found.data.nodes_available].sort()).toEqual(['node1', 'node2', 'node3']);
    expect(found.data.nodes_unavailable).toEqual([]);
    expect(found.data.rooms).toContainEqual(expect.objectContaining({ room_id: roomId, admin_node: 'node1', creator_id: 'alice', description: 'shared', node_address: cluster.node(1).rpcUrl }));

    await requestJoin(a, roomId, 'alice');
    const jb = await requestJoin(b, roomId, 'bob');
    expect(jb.data).toMatchObject({ room_id: roomId, admin_node: 'node1', member_count: 2 });
    expect(await a.nextOf('member_joined')).toMatchObject({ data: { username: 'bob', member_count: 2 } });
    await requestJoin(c, roomId, 'carol');
    expect((await b.nextOf('member_joined')).data.username).toBe('carol');

    b.send('send_message', { room_id: roomId, username: 'bob', content: 'hi from node2' });
    const own = await b.next();
    expect(own.type).toBe('new_message'); // before message_sent, also on the forwarded path
    expect((await b.next()).type).toBe('message_sent');
    expect((await a.nextOf('new_message')).data).toEqual(own.data);
    expect((await c.nextOf('new_message')).data).toEqual(own.data);

    expect((await c.request('leave_room', { room_id: roomId, username: 'carol' }, 'leave_room_success')).data).toEqual({ room_id: roomId, username: 'carol' });
    const left = await a.nextOf('member_left');
    expect(left.data).toMatchObject({ username: 'carol', member_count: 2 });
    expect(left.data.reason).toBeUndefined();

    await b.close();
    const gone = await a.nextOf('member_left');
    expect(gone.data).toMatchObject({ username: 'bob', reason: 'User disconnected', member_count: 1 });
  });

  it('gives three concurrent senders on three nodes one identical, contiguous order, each message exactly once', async () => {
    const clients = [await connect(1), await connect(2), await connect(3)];
    const roomId = await newRoom(clients[0], 'u1');
    for (const [i, c] of clients.entries()) await requestJoin(c, roomId, `u${i + 1}`);
    const perSender = 40;
    for (let n = 0; n < perSender; n++) for (const [i, c] of clients.entries()) c.send('send_message', { room_id: roomId, username: `u${i + 1}`, content: `u${i + 1}-${n}` });
    await eventually(() => clients.every((c) => received(c, roomId).length >= perSender * 3), 15000);
    await clients[0].drain(300);
    const orders = clients.map((c) => received(c, roomId));
    for (const order of orders) {
      expect(order).toHaveLength(perSender * 3);
      expect(order.map((m) => m.sequence_number)).toEqual(Array.from({ length: perSender * 3 }, (_, i) => i + 1));
      expect(order.map((m) => m.message_id)).toEqual(orders[0].map((m) => m.message_id));
    }
    // each sender's own messages keep the order it sent them in
    for (let i = 1; i <= 3; i++) {
      expect(orders[0].filter((m) => m.username === `u${i}`).map((m) => m.content)).toEqual(Array.from({ length: perSender }, (_, n) => `u${i}-${n}`));
    }
  });

  it('deletes a room from a node that does not host it; every member on every node gets the same events', async () => {
    const a = await connect(1);
    const b = await connect(2);
    const c = await connect(3);
    // the creator is not online (a live 'alice' elsewhere would make this a takeover: USERNAME_TAKEN)
    const roomId = await newRoom(await connect(1), 'alice');
    await requestJoin(a, roomId, 'ann');
    await requestJoin(b, roomId, 'bob');
    await requestJoin(c, roomId, 'carol');
    const requester = await connect(3);
    requester.send('delete_room', { room_id: roomId, username: 'alice' });
    const initiated = await requester.nextOf('delete_room_initiated');
    const done = await requester.nextOf('delete_room_success');
    expect(done.data.transaction_id).toBe(initiated.data.transaction_id);
    for (const member of [a, b, c]) {
      expect((await member.nextOf('delete_room_initiated')).data).toMatchObject({ room_id: roomId, initiator: 'alice', transaction_id: initiated.data.transaction_id });
      expect((await member.nextOf('room_deleted')).data).toMatchObject({ room_id: roomId, transaction_id: initiated.data.transaction_id });
    }
    for (const n of [1, 2, 3]) {
      const probe = await connect(n);
      expect((await requestJoin(probe, roomId, `probe${n}`)).data.error_code).toBe('ROOM_NOT_FOUND');
    }
  });

  it('answers the seed health probe from Python xmlrpc.client, and refuses its unsigned calls to every other method (the cluster has a PEER_SECRET)', () => {
    const py = (code: string) => execFileSync('/usr/bin/python3', ['-c', code], { encoding: 'utf8', timeout: 10000 }).trim();
    const url = cluster.node(2).rpcUrl;
    expect(cluster.peerSecret).not.toBeNull();
    expect(py(`import xmlrpc.client as x; r=x.ServerProxy('${url}').heartbeat(); print(r['status'], r['node_id'])`)).toBe('ok node2');
    const fault = (call: string) => py(`import xmlrpc.client as x\ntry:\n  x.ServerProxy('${url}', allow_none=True).${call}\nexcept x.Fault as f: print(f.faultCode)`);
    expect(fault('get_hosted_rooms()')).toBe('-32401');
    expect(fault("commit_delete_room('nope', 't', None)")).toBe('-32401');
    expect(fault('no_such()')).toBe('-32401');
    expect(py(`import xmlrpc.client as x; print(x.ServerProxy('${url}').heartbeat()['status'])`)).toBe('ok');
  });
});

describe('multi-node: failures', () => {
  const clients = new ClientPool();
  afterEach(() => clients.closeAll());
  const connect = (cluster: TestCluster, node: number) => clients.connect(cluster.node(node).url);

  it('removes the users of a dead member node, moves a dead host\'s room to a survivor, and the old host returns as a replica', async () => {
    const cluster = await TestCluster.start(3);
    try {
      const a = await connect(cluster, 1);
      const b = await connect(cluster, 2);
      const c = await connect(cluster, 3);
      const hosted1 = (await a.request('create_room', { room_name: 'on-node1', creator_id: 'alice' }, 'room_created')).data.room_id;
      await a.request('join_room', { room_id: hosted1, username: 'alice' }, 'join_room_success');
      await b.request('join_room', { room_id: hosted1, username: 'bob' }, 'join_room_success');
      await c.request('join_room', { room_id: hosted1, username: 'carol' }, 'join_room_success');
      const hosted3 = (await c.request('create_room', { room_name: 'on-node3', creator_id: 'carol' }, 'room_created')).data.room_id;
      await b.request('join_room', { room_id: hosted3, username: 'bob' }, 'join_room_success');

      // member node 2 dies: node1 removes bob from its room within the failure-detection bound
      const killedAt = Date.now();
      await cluster.node(2).stop('SIGKILL');
      const left = await a.nextOf('member_left', 8000);
      expect(left.data).toMatchObject({ room_id: hosted1, username: 'bob', reason: 'Node unreachable' });
      expect(Date.now() - killedAt).toBeLessThan(8000);
      const discovered = await a.request('discover_rooms', undefined, 'global_rooms_list');
      expect(discovered.data.nodes_unavailable).toEqual(['node2']);

      // host node 3 dies: its room fails over to the lowest live node (node1) at epoch 2, and bob keeps chatting
      await cluster.node(2).start();
      const b2 = await connect(cluster, 2);
      await b2.request('join_room', { room_id: hosted3, username: 'bob' }, 'join_room_success');
      await cluster.node(3).stop('SIGKILL');
      const moved = await b2.nextOf('room_host_changed', 8000);
      expect(moved.data).toEqual({ room_id: hosted3, admin_node: 'node1', host_epoch: 2 });
      // a send the new host cannot confirm yet is refused as retryable; the retry (same client_message_id) counts once
      const sendUntilAcked = (content: string) =>
        eventually(async () => {
          const r = await b2.request('send_message', { room_id: hosted3, username: 'bob', content, client_message_id: content }, 'message_error', 'message_sent');
          if (r.type === 'message_error' && r.data.retryable !== true) throw new Error(`not retryable: ${JSON.stringify(r.data)}`);
          return r.type === 'message_sent' ? r : null;
        }, 8000, 100);
      const sent = await sendUntilAcked('still here');
      expect(sent!.data).toMatchObject({ room_id: hosted3, sequence_number: 1 });
      // the old host returns as a replica: it lists the room no more, and sends keep going to node1
      await cluster.node(3).start();
      const c2 = await connect(cluster, 3);
      await eventually(async () => {
        const list = await c2.request('list_rooms', undefined, 'rooms_list');
        return !(list.data.rooms as { room_id: string }[]).some((r) => r.room_id === hosted3);
      }, 8000);
      const again = await sendUntilAcked('back');
      expect(again!.data).toMatchObject({ room_id: hosted3, sequence_number: 2 });
    } finally {
      await cluster.stop();
    }
  });

  it('bounds discovery and sends when a peer is black-holed, and acknowledges nothing once two of its four nodes are unreachable', async () => {
    // node9 answers heartbeats while the cluster forms (a brand-new cluster's fresh disks wait for
    // every peer to name them), then accepts connections and never answers again
    const SECRET = 'the-cluster-secret-of-this-test-0123';
    let blackHoled = false;
    const blackHole = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (blackHoled) return;
        const call = decodeMethodCall(Buffer.concat(chunks).toString('utf8'));
        const body = call.method === 'heartbeat' ? encodeMethodResponse(fakePeerHeartbeat('node9', 'fake-boot', call.params)) : encodeFault(-32601, 'not here');
        const signer = new PeerCallVerifier({ secret: SECRET, nodeId: 'node9', bootId: 'fake-boot', peers: [] }); // the nodes refuse unsigned replies
        res.writeHead(200, { 'content-type': 'text/xml', ...signer.signReply(req.headers, Buffer.from(body)) }).end(body);
      });
    });
    const port = await freePort();
    await new Promise<void>((r) => blackHole.listen(port, '127.0.0.1', () => r()));
    const cluster = await TestCluster.start(3, { HEARTBEAT_INTERVAL: '5', PEER_SECRET: SECRET }, [], `node9:http://127.0.0.1:${port}`);
    try {
      await eventually(() => cluster.nodes.every((n) => /new to the cluster/.test(n.output)), 10_000, 50);
      blackHoled = true;
      const a = await connect(cluster, 1);
      const b = await connect(cluster, 2);
      const roomId = (await a.request('create_room', { room_name: 'bh', creator_id: 'alice' }, 'room_created')).data.room_id;
      await a.request('join_room', { room_id: roomId, username: 'alice' }, 'join_room_success');
      await b.request('join_room', { room_id: roomId, username: 'bob' }, 'join_room_success');

      const t0 = Date.now();
      const found = await a.request('discover_rooms', undefined, 'global_rooms_list');
      const discoveryMs = Date.now() - t0;
      expect(found.data.nodes_unavailable).toEqual(['node9']);
      expect(discoveryMs).toBeLessThan(3000); // PEER_CALL_TIMEOUT is 1 s

      const t1 = Date.now();
      for (let i = 0; i < 20; i++) await b.request('send_message', { room_id: roomId, username: 'bob', content: `m${i}` }, 'message_sent');
      expect(Date.now() - t1).toBeLessThan(3000);

      // node3 goes down too: two of the four configured nodes answer, no majority, so nothing is acknowledged (retryable)
      await cluster.node(3).stop('SIGKILL');
      const refused = await b.request('send_message', { room_id: roomId, username: 'bob', content: 'no majority', client_message_id: 'nm-1' }, 'message_sent', 'message_error');
      expect(refused.type).toBe('message_error');
      expect(refused.data).toMatchObject({ error_code: 'ADMIN_NODE_UNAVAILABLE', retryable: true });
    } finally {
      await cluster.stop();
      blackHole.closeAllConnections();
      blackHole.close();
    }
  });

  it('deletes a room while a node is down; that node learns of the deletion when it returns', async () => {
    const cluster = await TestCluster.start(3);
    try {
      const a = await connect(cluster, 1);
      const roomId = (await a.request('create_room', { room_name: 'gone-later', creator_id: 'alice' }, 'room_created')).data.room_id;
      await a.request('join_room', { room_id: roomId, username: 'alice' }, 'join_room_success');
      await cluster.node(3).stop('SIGKILL');
      const del = await a.request('delete_room', { room_id: roomId, username: 'alice' }, 'delete_room_success', 'delete_room_failed');
      expect(del.type).toBe('delete_room_success');
      await cluster.node(3).start();
      const c = await connect(cluster, 3);
      await eventually(async () => (await c.request('join_room', { room_id: roomId, username: 'carol' }, 'join_room_error', 'join_room_success')).data.error_code === 'ROOM_NOT_FOUND', 8000, 300);
    } finally {
      await cluster.stop();
    }
  });
});

export type { Frame };
