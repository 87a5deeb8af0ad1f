import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import { freePort } from '../src/cluster/ports';
import { parseExposition, sampleValue, type Sample } from '../src/testing/prometheus-text';
import { eventually, TestCluster } from './support/cluster';
import { PrometheusProcess } from './support/prometheus';
import { describeWithTool } from './support/system-tools';
import { ClientPool } from './support/test-client';

const scrape = async (url: string): Promise<Sample[]> => {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
};

/** Three real nodes scraped by a real Prometheus; counters must move by exactly what the test did. */
describeWithTool('prometheus')('metrics: /metrics on three nodes, scraped by Prometheus', () => {
  const OPERATOR_TOKEN = 'operators-only-token-0123';
  let cluster: TestCluster;
  let prometheus: PrometheusProcess;
  let metricsPort: number;
  const clients = new ClientPool();
  const metricsUrl = (n: number) => `${cluster.node(n).httpUrl}/metrics`;

  beforeAll(async () => {
    metricsPort = await freePort();
    // node3 listens on every interface, so /health can also be asked from a non-loopback address
    const node3 = { METRICS_PORT: String(metricsPort), WEBSOCKET_HOST: '0.0.0.0', HEALTH_TOKEN: OPERATOR_TOKEN };
    cluster = await TestCluster.start(3, { LOG_LEVEL: 'INFO', LOG_FORMAT: 'json' }, [{}, { LOG_LEVEL: 'DEBUG' }, node3]);
    prometheus = await PrometheusProcess.start([
      { address: `127.0.0.1:${cluster.node(1).spec.wsPort}`, node: 'node1' },
      { address: `127.0.0.1:${cluster.node(2).spec.wsPort}`, node: 'node2' },
      { address: `127.0.0.1:${metricsPort}`, node: 'node3' }, // node3 through METRICS_PORT
    ]);
  }, 60000);
  afterAll(async () => {
    await clients.closeAll();
    await prometheus?.stop();
    await cluster?.stop();
  });

  const connect = (n: number) => clients.connect(cluster.node(n).url);

  it('counts n messages once on the host and n x members deliveries, and Prometheus sees the same', async () => {
    const [a, b, c] = [await connect(1), await connect(2), await connect(3)];
    const roomId = (await a.request('create_room', { room_name: 'metrics-room', creator_id: 'alice' }, 'room_created')).data.room_id as string;
    for (const [client, name] of [[a, 'alice'], [b, 'bob'], [c, 'carol']] as const) {
      expect((await client.request('join_room', { room_id: roomId, username: name }, 'join_room_success', 'join_room_error')).type).toBe('join_room_success');
    }
    await eventually(async () => sampleValue(await scrape(metricsUrl(3)), 'chat_rooms', { kind: 'replica' }) === 1, 10000);
    const before = await Promise.all([1, 2, 3].map((n) => scrape(metricsUrl(n))));
    const n = 6;
    const sent: { client: typeof a; username: string; messageId: string; sequence: number }[] = [];
    for (let i = 0; i < n; i++) {
      const sender = i % 2 === 0 ? a : b; // half sequenced locally, half forwarded from node2
      const username = sender === a ? 'alice' : 'bob';
      sender.send('send_message', { room_id: roomId, username, content: `m${i}` });
      const ack = await sender.nextOf('message_sent');
      sent.push({ client: sender, username, messageId: ack.data.message_id as string, sequence: ack.data.sequence_number as number });
    }
    for (const client of [a, b, c]) await eventually(() => client.frames.filter((f) => f.type === 'new_message').length === n, 10000);
    // the chat features' changes are counted on the room's host too: an edit through each node, a deletion, a read marker
    for (const { client, username, messageId } of sent.slice(0, 2)) {
      client.send('edit_message', { room_id: roomId, username, message_id: messageId, content: 'edited' });
      await client.nextOf('edit_message_success');
    }
    b.send('delete_message', { room_id: roomId, username: 'bob', message_id: sent[3].messageId });
    await b.nextOf('delete_message_success');
    c.send('mark_read', { room_id: roomId, username: 'carol', sequence_number: sent[n - 1].sequence });
    await c.nextOf('mark_read_success');
    const after = await Promise.all([1, 2, 3].map((k) => scrape(metricsUrl(k))));
    const delta = (k: number, name: string, labels = {}) => sampleValue(after[k], name, labels)! - sampleValue(before[k], name, labels)!;
    expect([0, 1, 2].map((k) => delta(k, 'chat_messages_total'))).toEqual([n, 0, 0]);
    expect([0, 1, 2].map((k) => delta(k, 'chat_deliveries_total'))).toEqual([1 * n, 1 * n, 1 * n]); // one member per node
    const changes = (k: number, change: string) => sampleValue(after[k], 'chat_room_changes_total', { change }) ?? 0;
    expect([0, 1, 2].map((k) => [changes(k, 'edit'), changes(k, 'delete'), changes(k, 'read_marker')])).toEqual([[2, 1, 1], [0, 0, 0], [0, 0, 0]]);
    expect(delta(0, 'chat_message_ack_seconds_count') + delta(1, 'chat_message_ack_seconds_count')).toBe(n);
    expect(sampleValue(after[0], 'chat_connections')).toBe(1);
    expect(sampleValue(after[0], 'chat_rooms', { kind: 'hosted' })).toBe(1);
    expect(sampleValue(after[1], 'chat_peer_up', { peer: 'node1' })).toBe(1);
    expect(sampleValue(after[1], 'chat_peer_call_seconds_count', { peer: 'node1', method: 'forward_message' })! + (sampleValue(after[1], 'chat_peer_call_seconds_count', { peer: 'node1', method: 'forward_messages_json' }) ?? 0)).toBeGreaterThanOrEqual(n / 2);

    const total = async (expr: string) => (await prometheus.query(expr)).reduce((s, r) => s + r.value, 0);
    const expectedMessages = sampleValue(after[0], 'chat_messages_total')!;
    const expectedDeliveries = after.reduce((s, k) => s + sampleValue(k, 'chat_deliveries_total')!, 0);
    await eventually(async () => (await total('sum(chat_messages_total)')) === expectedMessages && (await total('sum(chat_deliveries_total)')) === expectedDeliveries, 15000, 250).catch((e: Error) => {
      throw new Error(`${e.message}\n${prometheus.log.slice(-2000)}`);
    });
    const up = await prometheus.query('up');
    expect(up.map((r) => [r.metric.node, r.value]).sort()).toEqual([['node1', 1], ['node2', 1], ['node3', 1]]);
    const peerUp = await prometheus.query('chat_peer_up{node="node1"}');
    expect(peerUp.map((r) => [r.metric.peer, r.value]).sort()).toEqual([['node2', 1], ['node3', 1]]);
    expect(await prometheus.query('chat_rooms{kind="replica"}')).toHaveLength(3);
  }, 60000);

  it('counts refusals by error code, bad frames included', async () => {
    const c = await connect(2);
    const before = await scrape(metricsUrl(2));
    c.sendRaw('{not json');
    await c.nextOf('error');
    await c.request('join_room', { room_id: 'no-such-room', username: 'dave' }, 'join_room_error');
    const after = await scrape(metricsUrl(2));
    const delta = (reason: string) => sampleValue(after, 'chat_rejected_total', { reason })! - sampleValue(before, 'chat_rejected_total', { reason })!;
    expect(delta('INVALID_JSON')).toBe(1);
    expect(delta('ROOM_NOT_FOUND')).toBe(1);
    expect(delta('other')).toBe(0);
    // the same refusals in the JSON log, with their error_code
    const lines = cluster.node(2).output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, string>);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'DEBUG', node_id: 'node2', error_code: 'INVALID_JSON' }));
    expect(lines).toContainEqual(expect.objectContaining({ level: 'DEBUG', error_code: 'ROOM_NOT_FOUND', message: expect.stringMatching(/^join_room refused: ROOM_NOT_FOUND/) }));
  });

  it('passes promtool, and METRICS_PORT serves /metrics only', async () => {
    const body = await (await fetch(metricsUrl(1))).text();
    let findings = '';
    try {
      execFileSync('/usr/bin/promtool', ['check', 'metrics'], { input: body, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (e) {
      findings = `${(e as { stdout?: Buffer }).stdout ?? ''}${(e as { stderr?: Buffer }).stderr ?? ''}`;
    }
    // prom-client's own nodejs_active_*_total gauges draw a naming lint; ours and the format must be clean
    const ours = findings.split('\n').filter((l) => l.trim() !== '' && !/^nodejs_active_\w+_total non-counter metrics should not have "_total" suffix$/.test(l.trim()));
    expect(ours).toEqual([]);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/`)).status).toBe(404);
    expect(sampleValue(await scrape(`http://127.0.0.1:${metricsPort}/metrics`), 'chat_connections')).toBeGreaterThanOrEqual(0);
  });

  it('/health shows details only to loopback callers and to HEALTH_TOKEN (never to the cluster secret); others get the status alone', async () => {
    const lan = Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (!lan) throw new Error('this test needs a non-loopback IPv4 interface');
    const port = cluster.node(3).spec.wsPort;
    const local = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { status: string; details?: object };
    expect(local.status).toBe('ok');
    expect(local.details).toHaveProperty('peers');
    const remote = await fetch(`http://${lan}:${port}/health`);
    expect(remote.status).toBe(200);
    expect(await remote.json()).toEqual({ status: 'ok' });
    const asOperator = (await (await fetch(`http://${lan}:${port}/health`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })).json()) as { details?: object };
    expect(asOperator.details).toHaveProperty('peers');
    expect(asOperator.details).toHaveProperty('disk.free_bytes');
    const withClusterSecret = await fetch(`http://${lan}:${port}/health`, { headers: { authorization: `Bearer ${cluster.peerSecret}` } });
    expect(await withClusterSecret.json()).toEqual({ status: 'ok' });
  });

  it('a killed peer makes /health degraded naming it and chat_peer_up 0; both recover when it is back', async () => {
    type Health = { status: string; reasons?: string[] };
    const health = async (n: number) => (await (await fetch(`${cluster.node(n).httpUrl}/health`)).json()) as Health;
    await cluster.node(3).stop('SIGKILL');
    const degraded = await eventually(async () => {
      const h = await health(1);
      return h.status === 'degraded' ? h : null;
    }, 10000);
    expect(degraded?.reasons).toEqual([expect.stringMatching(/^peer node3 is down: \d+ heartbeat\(s\) missed$/)]);
    expect((await fetch(`${cluster.node(1).httpUrl}/health`)).status).toBe(200); // probes keep passing: node1 can serve
    // (a loaded machine may also mark a live peer FAILED for a moment: look for node3's line)
    const failedLine = cluster.node(1).output.split('\n').find((l) => l.includes('marked FAILED') && l.includes('node3'));
    expect(JSON.parse(failedLine ?? '{}')).toMatchObject({ level: 'WARNING', peer: 'node3', message: expect.stringMatching(/^Peer node3 marked FAILED/) });
    await eventually(async () => (await prometheus.query('chat_peer_up{node="node1",peer="node3"}'))[0]?.value === 0, 10000, 250);

    await cluster.node(3).start();
    await eventually(async () => (await health(1)).status === 'ok' && (await health(2)).status === 'ok', 15000);
    await eventually(async () => (await prometheus.query('chat_peer_up{node="node1",peer="node3"}'))[0]?.value === 1, 10000, 250);
  }, 45000);
});
