import { execFileSync, spawnSync } from 'node:child_process';
import * as https from 'node:https';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTestPki, type TestPki } from '../src/testing/test-certificates';
import { meshHealthy, TestCluster } from './support/cluster';
import { TestClient } from './support/test-client';

/**
 * Three real nodes that talk to each other over TLS only (PEER_TLS_*_FILE, certificates made with
 * openssl by a small CA, as deployment/docs/OPERATIONS.md shows): they find each other healthy and
 * chat across them works; the peer port speaks nothing but TLS, with a certificate that verifies
 * against the CA and no other.
 */
describe('peer TLS (real nodes, openssl certificates)', () => {
  let pki: TestPki;
  let other: TestPki;
  let cluster: TestCluster;
  const clients: TestClient[] = [];
  const rpcPort = (n: number) => cluster.node(n).spec.rpcPort;

  beforeAll(async () => {
    pki = makeTestPki({ node1: ['node1', '127.0.0.1'], node2: ['node2', '127.0.0.1'], node3: ['node3', '127.0.0.1'] });
    other = makeTestPki({ node1: ['127.0.0.1'] });
    cluster = await TestCluster.start(3, { LOG_LEVEL: 'INFO' }, (specs) =>
      specs.map((spec) => ({
        PEER_TLS_CERT_FILE: pki.nodes[spec.nodeId].cert,
        PEER_TLS_KEY_FILE: pki.nodes[spec.nodeId].key,
        PEER_TLS_CA_FILE: pki.caCert,
        XMLRPC_ADDRESS: `https://127.0.0.1:${spec.rpcPort}`,
        PEER_NODES: specs.filter((s) => s !== spec).map((s) => `${s.nodeId}:https://127.0.0.1:${s.rpcPort}`).join(','),
      })),
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await cluster?.stop();
    pki?.remove();
    other?.remove();
  });

  it('the nodes find each other over TLS, say so at start, and chat flows across them', async () => {
    await meshHealthy(cluster.nodes);
    expect(cluster.node(1).output).toMatch(/XML-RPC server listening on 127\.0\.0\.1:\d+ \(TLS, certificate for DNS:node1, IP Address:127\.0\.0\.1\)/);
    const [alice, bob, carol] = await Promise.all([1, 2, 3].map((n) => TestClient.connect(cluster.node(n).url)));
    clients.push(alice, bob, carol);
    const roomId = (await alice.request('create_room', { room_name: 'over tls', creator_id: 'alice' }, 'room_created')).data.room_id as string;
    for (const [c, name] of [[alice, 'alice'], [bob, 'bob'], [carol, 'carol']] as const) await c.request('join_room', { room_id: roomId, username: name }, 'join_room_success');
    expect((await bob.request('send_message', { room_id: roomId, username: 'bob', content: 'sealed' }, 'message_sent')).type).toBe('message_sent');
    const seen = await carol.nextOf('new_message');
    expect(seen.data).toMatchObject({ username: 'bob', content: 'sealed' });
  });

  it('a real TLS handshake: openssl verifies the node\'s certificate against the CA (and not against another CA)', () => {
    const handshake = (ca: string) =>
      spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${rpcPort(1)}`, '-CAfile', ca, '-verify_return_error', '-brief'], { input: '', encoding: 'utf8', timeout: 10_000 });
    const ok = handshake(pki.caCert);
    expect(ok.status).toBe(0);
    expect(ok.stderr).toMatch(/Verification: OK/);
    expect(ok.stderr).toMatch(/Protocol version: TLSv1\.3/);
    const refused = handshake(other.caCert);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/verify error|certificate verify failed/i);
  });

  it('the peer port speaks only TLS: a plain HTTP call gets no answer; an https client trusting another CA is refused', async () => {
    await expect(fetch(`http://127.0.0.1:${rpcPort(2)}/RPC2`, { method: 'POST', body: '<methodCall><methodName>heartbeat</methodName></methodCall>', signal: AbortSignal.timeout(5000) })).rejects.toThrow();
    const wrongCa = await new Promise<string>((resolve) => {
      const req = https.request({ host: '127.0.0.1', port: rpcPort(2), path: '/RPC2', method: 'POST', ca: fs.readFileSync(other.caCert) }, () => resolve('answered'));
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      req.end('<methodCall><methodName>heartbeat</methodName></methodCall>');
    });
    expect(wrongCa).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|CERT/);
  });

  it('Python xmlrpc.client trusting the CA and the container healthcheck both get heartbeat() answered', () => {
    const py = execFileSync('/usr/bin/python3', ['-c', `import ssl, xmlrpc.client as x; c = ssl.create_default_context(cafile='${pki.caCert}'); print(x.ServerProxy('https://127.0.0.1:${rpcPort(3)}', context=c).heartbeat()['node_id'])`], { encoding: 'utf8', timeout: 10_000 }).trim();
    expect(py).toBe('node3');
    const main = path.resolve(__dirname, '..', 'dist', 'healthcheck.js');
    const probe = spawnSync(process.execPath, [main], { env: { ...process.env, XMLRPC_PORT: String(rpcPort(1)), PEER_TLS_CERT_FILE: pki.nodes.node1.cert }, encoding: 'utf8', timeout: 10_000 });
    expect(probe.status).toBe(0);
    expect(probe.stdout).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/RPC2 .*"status":"ok"/);
  });
});
