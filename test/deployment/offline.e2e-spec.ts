import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { heartbeat, heartbeatMembers, heartbeatUrl } from '../../src/healthcheck';

/**
 * Offline checks of the deployment (no Docker engine needed): the stack file as Docker resolves it,
 * the env file <-> stack file contract, shellcheck on every script, a Dockerfile lint, the scripts'
 * documented flags and exit codes, and the container health probe. The real deployment is proven
 * by `npm run test:swarm` (test/deployment/swarm-test.sh).
 */
const ROOT = join(__dirname, '..', '..');
const DEPLOY = join(ROOT, 'deployment');
const PROD = join(DEPLOY, 'docker-compose.prod.yml');
const SINGLE = join(DEPLOY, 'docker-compose.single-host.yml');
const MONITORING = join(DEPLOY, 'docker-compose.monitoring.yml');
const SCRIPTS = ['build-image.sh', 'deploy.sh', 'health-check.sh', 'logs.sh'];

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
}
function available(cmd: string, args: string[]): boolean {
  const r = run(cmd, args);
  return !r.error && r.status === 0;
}
/** KEY=value pairs of deployment/.env.example, in file order. */
function exampleEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(join(DEPLOY, '.env.example'), 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  return env;
}
function referencedVars(file: string): Set<string> {
  return new Set([...readFileSync(file, 'utf8').matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]));
}
/** A check that needs an external tool: skipped with a clear message only when the tool is absent. */
function itWith(tool: string, probe: [string, string[]], name: string, fn: () => void | Promise<void>): void {
  if (available(...probe)) {
    it(name, async () => {
      await fn();
    });
  } else {
    it.skip(`${name} [SKIPPED: ${tool} is not installed here]`, () => undefined);
    // eslint-disable-next-line no-console
    console.warn(`deployment offline checks: ${tool} not installed, skipping "${name}"`);
  }
}

describe('deployment: stack file and env file', () => {
  const env = exampleEnv();

  itWith('docker CLI with `docker stack config`', ['docker', ['stack', 'config', '--help']], 'docker stack config accepts the stack file with .env.example', () => {
    const r = run('docker', ['stack', 'config', '-c', PROD], env);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = r.stdout;
    for (const n of [1, 2, 3]) {
      expect(out).toContain(`  node${n}:\n`);
      expect(out).toContain(`- node.labels.node_type == node${n}`);
      expect(out).toContain(`NODE_ID: node${n}`);
      expect(out).toContain(`XMLRPC_ADDRESS: http://node${n}:9090`);
      expect(out).toContain(`node${n}-data:`);
      expect(out).toContain(`node${n}-logs:`);
    }
    expect(out).toContain('PEER_NODES: node2:http://node2:9090,node3:http://node3:9090');
    expect(out).toContain(`image: ${env.REGISTRY}/chat-node:${env.VERSION}`);
    expect(out.match(/mode: host/g)).toHaveLength(6);
    expect(out).toMatch(/chat-overlay:\n\s+driver: overlay\n(.*\n)*?\s+attachable: true/);
    // peer traffic between machines is encrypted by the engines (IPsec): the option's presence switches it on
    expect(out).toMatch(/chat-overlay:\n\s+driver: overlay\n\s+driver_opts:\n\s+encrypted: "true"\n/);
    expect(out).toContain('subnet: 10.10.0.0/16');
    expect(out).toMatch(/target: \/var\/lib\/chatnode/);
    expect(out).toMatch(/- dist\/healthcheck\.js/);
    expect(out).toMatch(/update_config:\n\s+parallelism: 1\n\s+delay: 10s\n\s+failure_action: rollback/);
    expect(out).toMatch(/rollback_config:/);
    expect(out).toMatch(/limits:\n\s+cpus: "1.0"\n\s+memory: "536870912"/);
    expect(out).toMatch(/restart_policy:\n\s+condition: any/);
    // peer trust: every node reads the cluster secret from the Docker secret deploy.sh creates
    expect(out.match(/PEER_SECRET_FILE: \/run\/secrets\/chat_peer_secret/g)?.length).toBeGreaterThanOrEqual(3); // the x- blocks are echoed too
    expect(out.match(/- source: chat_peer_secret\n\s+target: chat_peer_secret\n\s+uid: "10001"\n\s+gid: "10001"\n\s+mode: 256/g)?.length).toBeGreaterThanOrEqual(3);
    expect(out).toMatch(/^secrets:\n  chat_peer_secret:\n    name: chat_peer_secret\n    external: true/m);
  });

  itWith('docker CLI with `docker stack config`', ['docker', ['stack', 'config', '--help']], 'docker stack config accepts the monitoring stack: Prometheus on the chat-system overlay', () => {
    const r = run('docker', ['stack', 'config', '-c', MONITORING], { ...env, PROMETHEUS_PORT: '9200' });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout).toMatch(/chat-overlay:\n\s+name: chat-system_chat-overlay\n\s+external: true/);
    expect(r.stdout).toContain(`image: ${env.PROMETHEUS_IMAGE}`);
    expect(r.stdout).toContain('published: 9200');
    expect(r.stdout).toMatch(/file: .*deployment\/monitoring\/prometheus\.yml/);
  });

  itWith('docker CLI with `docker stack config`', ['docker', ['stack', 'config', '--help']], 'values of the env file reach the stack (not hard-coded)', () => {
    const r = run('docker', ['stack', 'config', '-c', PROD], {
      ...env,
      HEARTBEAT_INTERVAL: '7',
      CLEANUP_INTERVAL: '2.5',
      LOG_LEVEL: 'DEBUG',
      MEMORY_LIMIT: '1G',
      NODE2_WS_PORT: '8082',
      UPDATE_DELAY: '3s',
      NETWORK_SUBNET: '10.20.0.0/16',
      HEALTH_CHECK_RETRIES: '5',
    });
    expect(r.status).toBe(0);
    // (>= 3: the output may also repeat the x-node-environment block the services merge.)
    expect(r.stdout.match(/HEARTBEAT_INTERVAL: "7"/g)?.length).toBeGreaterThanOrEqual(3);
    expect(r.stdout.match(/CLEANUP_INTERVAL: "2.5"/g)?.length).toBeGreaterThanOrEqual(3);
    expect(r.stdout.match(/LOG_LEVEL: DEBUG/g)?.length).toBeGreaterThanOrEqual(3);
    expect(r.stdout).not.toMatch(/HEARTBEAT_INTERVAL: "30"|LOG_LEVEL: INFO/);
    expect(r.stdout).toContain('memory: "1073741824"');
    expect(r.stdout).toContain('published: 8082');
    expect(r.stdout).toContain('delay: 3s');
    expect(r.stdout).toContain('subnet: 10.20.0.0/16');
    expect(r.stdout).toContain('retries: 5');
  });

  it('every variable of .env.example is used, and every variable the files use is in .env.example', () => {
    const used = new Set([...referencedVars(PROD), ...referencedVars(SINGLE), ...referencedVars(MONITORING), 'NODE_IMAGE' /* build-image.sh */]);
    const documented = new Set(Object.keys(env));
    expect([...documented].filter((v) => !used.has(v))).toEqual([]);
    expect([...used].filter((v) => !documented.has(v))).toEqual([]);
    // Every node setting of the app is passed to the containers.
    for (const v of ['LOG_LEVEL', 'LOG_FORMAT', 'HEARTBEAT_INTERVAL', 'HEARTBEAT_TIMEOUT', 'MAX_HEARTBEAT_FAILURES', 'INACTIVITY_TIMEOUT', 'CLEANUP_INTERVAL', 'PEER_CALL_TIMEOUT', 'WS_PING_INTERVAL', 'METRICS_PORT', 'RETENTION_DAYS', 'MAX_MESSAGES_PER_ROOM', 'RETENTION_INTERVAL']) {
      expect(readFileSync(PROD, 'utf8')).toContain(`${v}: \${${v}:-${env[v]}}`);
    }
  });

  itWith('docker-compose (Debian package docker-compose)', ['docker-compose', ['version']], 'docker-compose config accepts both compose files (the seed guide validates this way)', () => {
    for (const file of [PROD, SINGLE, MONITORING]) {
      const r = run('docker-compose', ['-f', file, 'config', '-q']);
      if (file === MONITORING) r.stderr = r.stderr.replace(/^Some services \(prometheus\) use the 'configs' key.*\n/m, ''); // Swarm-only, by design
      expect({ file, status: r.status, stderr: r.stderr }).toEqual({ file, status: 0, stderr: '' });
    }
    // The single-host file publishes distinct host ports per node and has no Swarm-only parts.
    const r = run('docker-compose', ['--env-file', join(DEPLOY, '.env.example'), '-f', SINGLE, 'config']);
    expect(r.status).toBe(0);
    for (const n of [1, 2, 3]) {
      expect(r.stdout).toContain(`- 0.0.0.0:808${n}:8080/tcp`);
      // the peer ports on loopback only: peers use the compose network, not the published ports
      expect(r.stdout).toContain(`- 127.0.0.1:909${n}:9090/tcp`);
    }
    expect(r.stdout).not.toMatch(/0\.0\.0\.0:909\d/);
    expect(r.stdout).not.toMatch(/placement|overlay|mode: host/);
    // and never without a cluster secret: every node reads the one the peer-secret service writes
    // (PEER_SECRET from the env file, else random), and starts only once it is there
    expect(r.stdout.match(/PEER_SECRET_FILE: \/run\/chat-secret\/peer_secret/g)).toHaveLength(3);
    expect(r.stdout.match(/^\s+PEER_SECRET: /gm)).toHaveLength(1); // the peer-secret service's input, no node's
    expect(r.stdout.match(/peer-secret:\n\s+condition: service_completed_successfully/g)).toHaveLength(3);
    expect(r.stdout).toMatch(/\n  peer-secret:\n\s+entrypoint:\n\s+- node\n\s+- -e\n[\s\S]*?randomBytes\(32\)[\s\S]*?chownSync\(file, 10001, 10001\)/);
  });
});

describe('deployment: scripts', () => {
  const scriptFiles = [
    ...SCRIPTS.map((s) => join(DEPLOY, 'scripts', s)),
    join(DEPLOY, 'scripts', 'lib.sh'),
    join(ROOT, 'test', 'deployment', 'swarm-test.sh'),
    ...readdirSync(join(ROOT, 'test', 'deployment', 'lib')).map((f) => join(ROOT, 'test', 'deployment', 'lib', f)),
  ];

  itWith('shellcheck (Debian package shellcheck)', ['shellcheck', ['--version']], 'shellcheck reports nothing on any script', () => {
    const r = run('shellcheck', ['-x', '--severity=style', ...scriptFiles]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.each(SCRIPTS)('%s -h prints usage and exits 0; an unknown option exits 1', (script) => {
    const path = join(DEPLOY, 'scripts', script);
    const help = run('bash', [path, '-h']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: /);
    expect(help.stdout).toMatch(/Exit codes?:/);
    const bad = run('bash', [path, '--no-such-option']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('unknown option: --no-such-option');
  });

  it('the scripts offer the flags operators know from the reference', () => {
    const help = (s: string) => run('bash', [join(DEPLOY, 'scripts', s), '-h']).stdout;
    for (const flag of ['-e, --env', '-s, --stack', '-b, --build', '-v, --verify', '-h, --help']) expect(help('deploy.sh')).toContain(flag);
    for (const flag of ['-s, --stack', '-n, --node', '-v, --verbose', '-h, --help']) expect(help('health-check.sh')).toContain(flag);
    for (const flag of ['-s, --stack', '-n, --node', '-f, --follow', '-t, --tail', '-a, --all', '-h, --help']) expect(help('logs.sh')).toContain(flag);
  });
});

describe('deployment: image', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile.node'), 'utf8');

  it('dockerfile-utils lint finds nothing in Dockerfile.node', () => {
    const r = run(join(ROOT, 'node_modules', '.bin', 'dockerfile-utils'), ['lint', 'Dockerfile.node']);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('is multi-stage on an overridable Node 24 slim base, non-root, with heartbeat HEALTHCHECK and both ports', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-slim$/m);
    expect(dockerfile.match(/^FROM \$\{NODE_IMAGE\} AS \w+$/gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^USER chatnode$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n\s+CMD \["node", "dist\/healthcheck\.js"\]$/m);
    expect(dockerfile).toMatch(/^EXPOSE 8080 9090$/m);
    expect(dockerfile).toContain('chown chatnode:chatnode /var/log/chatnode /var/lib/chatnode');
    expect(dockerfile).toMatch(/LOG_DIR=\/var\/log\/chatnode/);
    expect(dockerfile).toMatch(/DATA_DIR=\/var\/lib\/chatnode/);
    const instructions = dockerfile.split('\n').filter((l) => !l.trimStart().startsWith('#'));
    expect(instructions.join('\n')).not.toMatch(/python|curl/i);
  });

  it('.dockerignore keeps the full node_modules and sources out of the build context', () => {
    const lines = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(lines).toContain('*');
    expect(lines.filter((l) => l.startsWith('!'))).toEqual(['!package.json', '!package-lock.json', '!dist/', '!deployment/.build/prod-deps/']);
  });
});

describe('container health probe (src/healthcheck.ts)', () => {
  let server: Server;
  let port: number;
  let reply: (res: import('node:http').ServerResponse) => void;
  const okStruct = (status: string) =>
    `<?xml version="1.0"?><methodResponse><params><param><value><struct>` +
    `<member><name>status</name><value><string>${status}</string></value></member>` +
    `<member><name>node_id</name><value><string>node7</string></value></member>` +
    `<member><name>timestamp</name><value>2026-01-01T00:00:00Z</value></member>` +
    `</struct></value></param></params></methodResponse>`;
  const bodies: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        bodies.push(`${req.method} ${req.url} ${body}`);
        reply(res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('POSTs a heartbeat methodCall to /RPC2 and accepts status ok', async () => {
    reply = (res) => res.end(okStruct('ok'));
    const result = await heartbeat(`http://127.0.0.1:${port}/RPC2`);
    expect(result).toEqual({ ok: true, detail: { status: 'ok', node_id: 'node7', timestamp: '2026-01-01T00:00:00Z' } });
    expect(bodies.at(-1)).toMatch(/^POST \/RPC2 .*<methodName>heartbeat<\/methodName>/s);
  });

  it.each([
    ['a status other than ok', (res: import('node:http').ServerResponse) => res.end(okStruct('degraded')), /status is not ok/],
    ['an XML-RPC fault', (res: import('node:http').ServerResponse) => res.end('<methodResponse><fault><value><struct></struct></value></fault></methodResponse>'), /fault/],
    ['HTTP 500', (res: import('node:http').ServerResponse) => { res.statusCode = 500; res.end(); }, /HTTP 500/],
    ['a truncated reply that still holds status ok', (res: import('node:http').ServerResponse) => res.end(okStruct('ok').slice(0, -40)), /not an XML-RPC methodResponse/],
    ['status ok only inside a nested struct', (res: import('node:http').ServerResponse) => res.end(okStruct('ok').replace('<struct>', '<struct><member><name>inner</name><value><struct>').replace('</struct>', '</struct></value></member></struct>')), /status is not ok/],
  ])('fails on %s', async (_name, handler, why) => {
    reply = handler;
    const result = await heartbeat(`http://127.0.0.1:${port}/RPC2`);
    expect(result.ok).toBe(false);
    expect(String(result.detail)).toMatch(why);
  });

  it('gives up after its timeout on a node that never answers', async () => {
    reply = () => undefined; // never responds
    const t0 = Date.now();
    const result = await heartbeat(`http://127.0.0.1:${port}/RPC2`, 300);
    expect(result).toEqual({ ok: false, detail: expect.stringMatching(/no answer .* within 300 ms/) });
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('targets 127.0.0.1:$XMLRPC_PORT/RPC2 by default and adds /RPC2 to PEER_NODES-style URLs', () => {
    const saved = process.env.XMLRPC_PORT;
    process.env.XMLRPC_PORT = '9191';
    try {
      expect(heartbeatUrl(undefined)).toBe('http://127.0.0.1:9191/RPC2');
    } finally {
      if (saved === undefined) delete process.env.XMLRPC_PORT;
      else process.env.XMLRPC_PORT = saved;
    }
    expect(heartbeatUrl('http://node2:9090')).toBe('http://node2:9090/RPC2');
    expect(heartbeatUrl('node3:9090')).toBe('http://node3:9090/RPC2');
    expect(heartbeatUrl('http://node2:9090/')).toBe('http://node2:9090/');
    expect(heartbeatMembers({ a: 1, b: true, c: 'x', nested: { status: 'ok' } })).toEqual({ a: '1', b: 'true', c: 'x' });
  });

  it('the compiled probe (dist/healthcheck.js) exits 0 on a healthy node and 1, saying why, on a dead one', async () => {
    reply = (res) => res.end(okStruct('ok'));
    const script = join(ROOT, 'dist', 'healthcheck.js');
    const runProbe = (args: string[], env: NodeJS.ProcessEnv) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    const good = await runProbe([], { XMLRPC_PORT: String(port) });
    expect(good).toEqual({ code: 0, stdout: expect.stringContaining('"status":"ok"'), stderr: '' });
    const dead = await runProbe(['http://127.0.0.1:1/RPC2'], {});
    expect(dead.code).toBe(1);
    expect(dead.stderr).toContain('unhealthy');
  });
});
