import { createServer, type Server } from 'node:http';
import { decodeMethodCall, encodeFault, encodeMethodResponse, PeerCallVerifier, XMLRPC_MAX_BODY_BYTES } from '../src/common/xmlrpc';
import type { PeerResult } from '../src/common/protocol/peer-wire';
import { freePort } from '../src/cluster/ports';
import { eventually, meshHealthy, TestCluster } from './support/cluster';
import { fakePeerHeartbeat, peerClient } from './support/peer-rpc';
import { TestClient } from './support/test-client';
import { readDb } from './support/chat-db';
import { connect, createRoom, join, received } from './support/rooms';

/** The largest content the client protocol accepts, half of it `&` (five bytes each once XML-escaped). */
const maximal = (i: number) => `${i}:`.padEnd(2500, 'x') + '&'.repeat(2500);

interface NodeHealth {
  status: string;
  reasons?: string[];
  details: { peers: { pending_replication: number; replication: Record<string, { pending: number; failing: boolean }> } };
}
const health = async (url: string): Promise<NodeHealth> => (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).json() as Promise<NodeHealth>;

describe('Replication that cannot jam', () => {
  describe('400 maximal, escape-heavy messages from one member', () => {
    let cluster: TestCluster;
    const clients: TestClient[] = [];
    beforeAll(async () => {
      cluster = await TestCluster.start(3, { RATE_LIMITS: 'off' });
    });
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await cluster.stop();
    });

    it('reach every member on every node within seconds, and /health is ok once they have', async () => {
      const [alice, bob, carol] = await Promise.all([1, 2, 3].map((n) => connect(cluster.node(n))));
      clients.push(alice, bob, carol);
      const roomId = await createRoom(alice, 'jam', 'alice');
      await join(alice, roomId, 'alice');
      await join(bob, roomId, 'bob');
      await join(carol, roomId, 'carol');

      for (let i = 0; i < 400; i++) alice.send('send_message', { room_id: roomId, username: 'alice', content: maximal(i) });
      await eventually(() => alice.frames.filter((f) => f.type === 'message_sent' || f.type === 'message_error').length >= 400, 30000);
      expect(alice.frames.filter((f) => f.type === 'message_error')).toEqual([]);

      for (const member of [bob, carol]) {
        await eventually(() => received(member, roomId).length >= 400, 30000, 100);
        const got = received(member, roomId);
        expect(got.map((m) => m.sequence_number)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
        expect(got.every((m, i) => m.content === maximal(i))).toBe(true);
      }
      const h = await eventually<NodeHealth | null>(async () => {
        const b = await health(cluster.node(1).httpUrl);
        return b.details.peers.pending_replication === 0 ? b : null;
      }, 10000);
      expect(h!.status).toBe('ok');
    }, 60000);
  });

  describe('catch-up of a node that missed 5000 rooms', () => {
    let cluster: TestCluster;
    beforeAll(async () => {
      // three nodes: with node2 down, node1 and node3 still make the majority that acknowledges each room
      cluster = await TestCluster.start(3, { RATE_LIMITS: 'off' });
    });
    afterAll(() => cluster.stop());

    it('brings every room and member over through the rooms\' logs, and get_room_states answers in pages', async () => {
      await cluster.node(2).stop('SIGKILL');
      const creators = await Promise.all(Array.from({ length: 8 }, () => connect(cluster.node(1))));
      try {
        // eight connections, each with its requests pipelined (a node answers one request per socket at a time)
        await Promise.all(
          creators.map(async (c, k) => {
            for (let i = k; i < 5000; i += 8) c.send('create_room', { room_name: `room-${i}`, creator_id: `creator-${k}`, description: 'd'.repeat(200) });
            await eventually(() => c.frames.filter((f) => f.type === 'room_created').length >= Math.ceil((5000 - k) / 8), 60000, 100);
          }),
        );
        const roomId = creators[0].frames.find((f) => f.type === 'room_created')!.data.room_id as string;
        await join(creators[0], roomId, 'creator-0');

        await cluster.node(2).start();
        await eventually(async () => {
          const h = (await (await fetch(`${cluster.node(2).httpUrl}/health`)).json()) as { details: { store: { rooms: number } } };
          return h.details.store.rooms === 5000;
        }, 60000, 500).catch((e: Error) => {
          throw new Error(`${e.message}\n--- node2\n${cluster.node(2).output.slice(-4000)}`);
        });
        // the host answered in pages, each well under what a peer accepts
        const rpc = peerClient(cluster.node(1), cluster.peerSecret!, 'node2');
        try {
          const first = await rpc.call<PeerResult<'get_room_states'>>('get_room_states', []);
          expect(first.rooms.length).toBeGreaterThan(0);
          expect(first.rooms.length).toBeLessThan(5000);
          expect(first.next_cursor).toEqual(expect.stringMatching(/^rooms:/));
          expect(Buffer.byteLength(encodeMethodResponse(first))).toBeLessThan(XMLRPC_MAX_BODY_BYTES);
        } finally {
          rpc.close();
        }
        // what the logs cannot bring (deletions, ghost members) comes from each peer's pages; a page that
        // timed out while the peers were busy is asked for again when the peer next answers
        await eventually(() => /Caught up with node1: \d+ room\(s\)/.test(cluster.node(2).output), 30000, 200);
        await cluster.node(2).stop();
        const db = readDb(cluster.node(2));
        expect(db.rooms.filter((r) => r.host_node === 'node1')).toHaveLength(5000);
        expect(db.members).toEqual([{ room_id: roomId, username: 'creator-0', node_id: 'node1' }]);
      } finally {
        await Promise.all(creators.map((c) => c.close()));
      }
    }, 120000);
  });

  describe('a peer that keeps refusing replication', () => {
    const FAKE_PEER_SECRET = 'the-cluster-secret-of-this-test-0123';
    let cluster: TestCluster;
    let fake: Server;
    let refusing = true;
    let accepted = 0;

    beforeAll(async () => {
      // A peer that answers heartbeats but refuses every replication batch, as a peer with a smaller body limit would.
      const port = await freePort();
      fake = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const call = decodeMethodCall(Buffer.concat(chunks).toString('utf8'));
          let body: string;
          if (call.method === 'heartbeat') body = encodeMethodResponse(fakePeerHeartbeat('node9', 'fake-boot', call.params)); // it knows each caller's disk only from its call: they are new
          else if (call.method === 'room_log_json' && refusing) body = encodeFault(-32600, 'Request body is larger than 1048576 bytes; send smaller calls');
          else if (call.method === 'room_log_json') body = encodeMethodResponse(((accepted += JSON.parse(call.params[1] as string).length), '[]'));
          else if (call.method === 'get_room_states') body = encodeMethodResponse({ rooms: [], deleted: [], next_cursor: null });
          else if (call.method === 'get_hosted_rooms') body = encodeMethodResponse([]);
          else body = encodeMethodResponse(true);
          // replies are signed, as a node of this version signs them (its callers refuse unsigned ones)
          const signer = new PeerCallVerifier({ secret: FAKE_PEER_SECRET, nodeId: 'node9', bootId: 'fake-boot', peers: [] });
          res.writeHead(200, { 'content-type': 'text/xml', ...signer.signReply(req.headers, Buffer.from(body)) }).end(body);
        });
      });
      await new Promise<void>((resolve) => fake.listen(port, '127.0.0.1', resolve));
      // the cluster's secret is chosen here: the fake answers (and signs) heartbeats while the nodes start
      cluster = await TestCluster.start(2, { RATE_LIMITS: 'off', PEER_SECRET: FAKE_PEER_SECRET }, [], `node9:http://127.0.0.1:${port}`);
      await meshHealthy(cluster.nodes);
    });
    afterAll(async () => {
      await cluster?.stop();
      fake?.close();
    });

    it('is reported: a WARNING naming the peer and the reason, /health degraded with the backlog, ok again once it accepts', async () => {
      const alice = await connect(cluster.node(1));
      try {
        const roomId = await createRoom(alice, 'stuck', 'alice');
        await join(alice, roomId, 'alice');
        const sent = await alice.request('send_message', { room_id: roomId, username: 'alice', content: 'hello' }, 'message_sent', 'message_error');
        expect(sent.type).toBe('message_sent');

        const degraded = await eventually<NodeHealth | null>(async () => {
          const h = await health(cluster.node(1).httpUrl);
          return h.status === 'degraded' ? h : null;
        }, 15000, 200);
        expect(degraded!.reasons).toEqual([expect.stringMatching(/^replication to node9 is stuck: \d+ message\(s\) pending, oldest \d+ s \(.*Request body is larger/)]);
        expect(degraded!.details.peers.replication.node9).toMatchObject({ failing: true });
        // the room's host sends again what was refused (the call is not retried as such: its appends are)
        expect(cluster.node(1).output).toMatch(/WARN.*Room log messages to node9 fail: .*Request body is larger/);
        // the real peer is not held up by the stuck one
        expect((await health(cluster.node(1).httpUrl)).details.peers.replication.node2.pending).toBe(0);

        refusing = false;
        const recovered = await eventually<NodeHealth | null>(async () => {
          const h = await health(cluster.node(1).httpUrl);
          return h.status === 'ok' ? h : null;
        }, 15000, 200);
        expect(recovered!.details.peers.replication.node9).toMatchObject({ pending: 0, failing: false });
        expect(accepted).toBeGreaterThanOrEqual(1);
        expect(cluster.node(1).output).toMatch(/Room log messages flow to node9 again after \d+ failed call\(s\)/);
      } finally {
        await alice.close();
      }
    });
  });
});
