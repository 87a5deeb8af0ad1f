// Starts and stops the processes under test on loopback: a local chat cluster or the raw server.
import { randomBytes } from 'node:crypto';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..');

export interface TargetNode {
  name: string;
  url: string; // ws://127.0.0.1:port
  pid?: number;
  inspectPort?: number;
}

export interface Target {
  kind: 'chat' | 'raw' | 'external';
  nodes: TargetNode[];
  stop(): Promise<void>;
  logDir?: string;
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

async function waitForHealth(url: string, child: ChildProcess, logFile: string, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-3000) : '';
      throw new Error(`process exited with code ${child.exitCode} before it was healthy:\n${log}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not healthy after ${timeoutMs} ms (log: ${logFile})`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export interface StartOptions {
  nodes: number;
  inspect?: boolean; // start with --inspect on a free loopback port (heap figures, CPU profiles)
  /** Extra node settings; PEER_SECRET defaults to a random one (peer calls signed), '' turns signing off. */
  env?: Record<string, string>;
  /** Peers talk TLS: a CA and one certificate per node (for 127.0.0.1) made with openssl, https PEER_NODES. */
  peerTls?: boolean;
  /** Another checkout whose built dist/main.js is started instead of this one's (before/after comparisons). */
  repoRoot?: string;
}

/** A CA and one certificate per node id for 127.0.0.1, made by openssl in `dir` (the operators' steps, OPERATIONS.md). */
function makePeerCertificates(dir: string, ids: string[]): Record<string, Record<string, string>> {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=bench CA');
  const env: Record<string, Record<string, string>> = {};
  for (const id of ids) {
    openssl('req', ...ec, '-keyout', `${id}.key`, '-out', `${id}.csr`, '-subj', `/CN=${id}`);
    writeFileSync(join(dir, `${id}.ext`), 'subjectAltName=IP:127.0.0.1\n');
    openssl('x509', '-req', '-in', `${id}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${id}.crt`, '-days', '2', '-extfile', `${id}.ext`);
    env[id] = { PEER_TLS_CERT_FILE: join(dir, `${id}.crt`), PEER_TLS_KEY_FILE: join(dir, `${id}.key`), PEER_TLS_CA_FILE: join(dir, 'ca.crt') };
  }
  return env;
}

/** Starts `nodes` chat nodes (`node dist/main.js`), full mesh, each with its own data dir. */
export async function startChatCluster(opts: StartOptions): Promise<Target> {
  const root = opts.repoRoot ?? REPO_ROOT;
  const entry = join(root, 'dist', 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
  const dir = mkdtempSync(join(tmpdir(), 'chat-bench-'));
  const peerSecret = randomBytes(32).toString('hex');
  const specs: { id: string; ws: number; rpc: number; inspect?: number }[] = [];
  for (let i = 1; i <= opts.nodes; i++) {
    specs.push({ id: `node${i}`, ws: await freePort(), rpc: await freePort(), inspect: opts.inspect ? await freePort() : undefined });
  }
  const tls = opts.peerTls ? makePeerCertificates(dir, specs.map((s) => s.id)) : null;
  const scheme = tls ? 'https' : 'http';
  const children: ChildProcess[] = [];
  const nodes: TargetNode[] = [];
  try {
    await Promise.all(
      specs.map(async (spec) => {
        const peers = specs.filter((s) => s !== spec).map((s) => `${s.id}:${scheme}://127.0.0.1:${s.rpc}`).join(',');
        const logFile = join(dir, `${spec.id}.out`);
        const out = openSync(logFile, 'a');
        const args = [...(spec.inspect ? [`--inspect=127.0.0.1:${spec.inspect}`] : []), entry];
        const child = spawn(process.execPath, args, {
          cwd: root,
          stdio: ['ignore', out, out],
          env: {
            ...process.env,
            NODE_ID: spec.id,
            WEBSOCKET_HOST: '127.0.0.1',
            WEBSOCKET_PORT: String(spec.ws),
            XMLRPC_HOST: '127.0.0.1',
            XMLRPC_PORT: String(spec.rpc),
            XMLRPC_ADDRESS: `${scheme}://127.0.0.1:${spec.rpc}`,
            PEER_NODES: peers,
            DATA_DIR: join(dir, spec.id, 'data'),
            LOG_DIR: join(dir, spec.id, 'logs'),
            LOG_LEVEL: 'WARNING',
            PEER_SECRET: peerSecret,
            RATE_LIMITS: 'off', // the reference scenarios send up to 100 msg/s per client, over the per-connection defaults
            ...(tls ? tls[spec.id] : {}),
            ...opts.env,
          },
        });
        children.push(child);
        await waitForHealth(`http://127.0.0.1:${spec.ws}/health`, child, logFile);
        nodes.push({ name: spec.id, url: `ws://127.0.0.1:${spec.ws}`, pid: child.pid, inspectPort: spec.inspect });
      }),
    );
  } catch (err) {
    await Promise.all(children.map(stopChild));
    throw err;
  }
  nodes.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  return {
    kind: 'chat',
    nodes,
    logDir: dir,
    async stop() {
      await Promise.all(children.map(stopChild));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts the raw `ws` ceiling server in its own process, like a chat node. */
export async function startRawServer(opts: { inspect?: boolean } = {}): Promise<Target> {
  const port = await freePort();
  const inspect = opts.inspect ? await freePort() : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'raw-bench-'));
  const logFile = join(dir, 'raw.out');
  const out = openSync(logFile, 'a');
  const args = [...(inspect ? [`--inspect=127.0.0.1:${inspect}`] : []), join(__dirname, 'raw-ws-server.js'), String(port)];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', out, out] });
  try {
    await waitForHealth(`http://127.0.0.1:${port}/health`, child, logFile);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return {
    kind: 'raw',
    nodes: [{ name: 'raw-ws', url: `ws://127.0.0.1:${port}`, pid: child.pid, inspectPort: inspect }],
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
