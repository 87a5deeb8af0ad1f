import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { freePort } from '../src/cluster/ports';
import type { NodeProcess } from '../src/cluster/node-process';
import { decodeMethodResponse, XmlRpcFault } from '../src/common/xmlrpc';
import { meshHealthy, TestCluster } from './support/cluster';
import { TestClient, type Frame } from './support/test-client';

/** Lines a node logs when it thinks a peer is dead: none may appear while a live peer is only being flooded. */
const PEER_LOST = /suspected down|marked FAILED|failed over from/;

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
/** File descriptors the process holds: every connection it accepted is one. */
const openFds = (pid: number) => fs.readdirSync(`/proc/${pid}/fd`).length;

/** A TCP relay to `target()` that keeps every byte sent through it, per connection (what an on-path observer sees). */
async function recordingProxy(target: () => number): Promise<{ port: number; streams: Buffer[][]; close(): void }> {
  const streams: Buffer[][] = [];
  const server = net.createServer((inbound) => {
    const seen: Buffer[] = [];
    streams.push(seen);
    const outbound = net.connect(target(), '127.0.0.1');
    inbound.on('data', (d: Buffer) => seen.push(d));
    inbound.pipe(outbound).pipe(inbound);
    const end = () => (inbound.destroy(), outbound.destroy());
    inbound.on('error', end).on('close', end);
    outbound.on('error', end).on('close', end);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { port, streams, close: () => server.close() };
}

/** The HTTP requests in one recorded connection, as raw bytes (header block + Content-Length body). */
function requestsIn(chunks: Buffer[]): Buffer[] {
  const all = Buffer.concat(chunks);
  const out: Buffer[] = [];
  for (let at = 0; at < all.length; ) {
    const end = all.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const length = Number(/content-length:\s*(\d+)/i.exec(all.subarray(at, end).toString('latin1'))?.[1] ?? 0);
    const stop = end + 4 + length;
    if (stop > all.length) break;
    out.push(all.subarray(at, stop));
    at = stop;
  }
  return out;
}

/** Sends raw request bytes on a new connection and decodes the answer: the result, or the fault as {faultCode, faultString}. */
function replay(node: NodeProcess, request: Buffer): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const s = net.connect(node.spec.rpcPort, '127.0.0.1', () => s.write(request));
    let text = '';
    s.on('data', (d) => {
      text += d.toString();
      const body = text.indexOf('\r\n\r\n');
      const length = Number(/content-length:\s*(\d+)/i.exec(text)?.[1] ?? -1);
      if (body < 0 || length < 0 || Buffer.byteLength(text.slice(body + 4)) < length) return;
      s.destroy();
      try {
        resolve(decodeMethodResponse(text.slice(body + 4)));
      } catch (e) {
        if (e instanceof XmlRpcFault) resolve({ faultCode: e.code, faultString: e.faultString });
        else reject(e);
      }
    });
    s.on('error', reject);
  });
}

describe('peer port: replay after a restart (real nodes)', () => {
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let cluster: TestCluster;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    // node1 reaches node2 through a relay that keeps a copy of everything node1 sends it
    let node2Port = 0;
    proxy = await recordingProxy(() => node2Port);
    cluster = await TestCluster.start(2, { LOG_LEVEL: 'INFO' }, (specs): Record<string, string>[] => {
      node2Port = specs[1].rpcPort;
      return [{ PEER_NODES: `node2:http://127.0.0.1:${proxy.port}` }, {}];
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await cluster?.stop();
    proxy?.close();
  });

  it('refuses a signed call captured on the wire and replayed right after the callee restarted', async () => {
    const bob = await TestClient.connect(cluster.node(2).url);
    const alice = await TestClient.connect(cluster.node(1).url);
    clients.push(alice, bob);
    const roomId = (await bob.request('create_room', { room_name: 'ledger', creator_id: 'bob' }, 'room_created')).data.room_id as string;
    await bob.request('join_room', { room_id: roomId, username: 'bob' }, 'join_room_success');
    await alice.request('join_room', { room_id: roomId, username: 'alice' }, 'join_room_success');
    // alice's send goes from node1 to the room's host node2 as a signed forward: the relay keeps it
    expect((await alice.request('send_message', { room_id: roomId, username: 'alice', content: 'pay bob 10' }, 'message_sent')).type).toBe('message_sent');
    const captured = proxy.streams.flatMap(requestsIn).find((r) => /<methodName>forward_messages?(_json)?<\/methodName>/.test(r.toString()) && r.includes('pay bob 10'));
    expect(captured).toBeDefined();

    const node2 = cluster.node(2);
    await node2.stop('SIGKILL');
    await node2.start(); // same data, a new run; well within the 30 s the captured timestamp stays fresh
    const answer = await replay(node2, captured!);
    expect(answer).toMatchObject({ faultCode: -32401, faultString: expect.stringMatching(/peer authentication required/) });

    // the room's history holds the message once: the replay changed nothing
    await meshHealthy(cluster.nodes);
    const carol = await TestClient.connect(cluster.node(2).url);
    clients.push(carol);
    await carol.request('join_room', { room_id: roomId, username: 'carol' }, 'join_room_success');
    const page = await carol.request('get_history', { room_id: roomId, limit: 50 }, 'history');
    expect(page.data.messages.map((m: { content: string }) => m.content)).toEqual(['pay bob 10']);
  }, 60_000);
});

describe('peer port: an unauthenticated flood (real nodes)', () => {
  let cluster: TestCluster;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    // production timing: heartbeats every second, FAILOVER_TIMEOUT 2 s
    cluster = await TestCluster.start(3, { HEARTBEAT_INTERVAL: '1', HEARTBEAT_TIMEOUT: '2', MAX_HEARTBEAT_FAILURES: '2', PEER_CALL_TIMEOUT: '5', FAILOVER_TIMEOUT: '2', LOG_LEVEL: 'INFO', RATE_LIMITS: 'off' });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await cluster?.stop();
  });

  it('neither delays heartbeats enough for a failover nor grows the node\'s memory without bound, and chat goes on', async () => {
    const node1 = cluster.node(1);
    const alice = await TestClient.connect(node1.url);
    const bob = await TestClient.connect(cluster.node(2).url);
    const carol = await TestClient.connect(cluster.node(3).url);
    clients.push(alice, bob, carol);
    const roomId = (await alice.request('create_room', { room_name: 'under fire', creator_id: 'alice' }, 'room_created')).data.room_id as string;
    for (const [c, name] of [[alice, 'alice'], [bob, 'bob'], [carol, 'carol']] as const) await c.request('join_room', { room_id: roomId, username: name }, 'join_room_success');
    const logBefore = cluster.nodes.map((n) => n.output.length);
    const baseline = rssMiB(node1.pid!);
    const fdsBefore = openFds(node1.pid!);

    const seconds = 30;
    const flood = spawn(process.execPath, [path.join(__dirname, 'support', 'peer-flood.mjs'), JSON.stringify({ host: '127.0.0.1', port: node1.spec.rpcPort, seconds })], { stdio: ['ignore', 'pipe', 'inherit'] });
    let floodReport = '';
    flood.stdout.on('data', (d) => (floodReport += d.toString()));
    const floodDone = new Promise((r) => flood.once('exit', r));

    // members on the other two nodes keep chatting in node1's room, through the flood
    const rss: number[] = [];
    const fds: number[] = [];
    const latencies: number[] = [];
    const failures: Frame[] = [];
    const sampler = setInterval(() => {
      rss.push(rssMiB(node1.pid!));
      fds.push(openFds(node1.pid!));
    }, 250);
    const chat = async (c: TestClient, name: string) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const sent = performance.now();
        const reply = await c.request('send_message', { room_id: roomId, username: name, content: `${name} ${i}` }, 'message_sent', 'message_error').catch((e: Error) => ({ type: 'timeout', data: { error: e.message } }) as Frame);
        if (reply.type === 'message_sent') latencies.push(performance.now() - sent);
        else failures.push(reply);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const deadline = performance.now() + seconds * 1000;
    await Promise.all([chat(bob, 'bob'), chat(carol, 'carol')]);
    await floodDone;
    clearInterval(sampler);

    const report = JSON.parse(floodReport || '{}') as Record<string, number>;
    const lost = cluster.nodes.flatMap((n, i) => n.output.slice(logBefore[i]).split('\n').filter((l) => PEER_LOST.test(l)).map((l) => `${n.spec.nodeId}: ${l}`));
    // memory may rise while the flood ramps up (connection churn is garbage), but must level off
    const third = Math.floor(rss.length / 3);
    const summary = {
      flood: report,
      rssMiB: { baseline: Math.round(baseline), peak: Math.round(Math.max(...rss)), middleThirdMax: Math.round(Math.max(...rss.slice(third, 2 * third))), lastThirdMax: Math.round(Math.max(...rss.slice(-third))) },
      fds: { before: fdsBefore, peak: Math.max(...fds) },
      sends: latencies.length,
      maxAckMs: Math.round(Math.max(...latencies)),
    };
    console.log(`peer port flood: ${JSON.stringify(summary)}`);

    expect(report.posts).toBeGreaterThan(50); // the flood really ran
    expect(lost).toEqual([]);
    expect(failures).toEqual([]);
    expect(summary.maxAckMs).toBeLessThan(2000);
    // the connections the node holds are capped (XMLRPC_MAX_CONNECTIONS, 256), whatever the flood opens
    expect(summary.fds.peak - fdsBefore).toBeLessThan(256 + 50);
    expect(summary.rssMiB.peak - baseline).toBeLessThan(300);
    expect(summary.rssMiB.lastThirdMax - summary.rssMiB.middleThirdMax).toBeLessThan(100);
    // node1 is still a full member: healthy for its peers, and it answers its own probe
    await meshHealthy(cluster.nodes);
    expect((await alice.request('send_message', { room_id: roomId, username: 'alice', content: 'still here' }, 'message_sent')).type).toBe('message_sent');
  }, 120_000);
});
