// Starts real chat nodes (`node dist/main.js`) on free loopback ports for the browser e2e tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
export const MAIN_JS = join(ROOT, 'dist', 'main.js');

/** Node 24: the runtime jest runs on when started through npm, else the project's own binary. */
function nodeBinary(): string {
  if (Number(process.versions.node.split('.')[0]) >= 24) return process.execPath;
  const local = join(ROOT, 'node_modules', '.bin', 'node');
  return existsSync(local) ? local : process.execPath;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestNode {
  id: string;
  wsPort: number;
  rpcPort: number;
  /** host:port of the client (HTTP + WebSocket) server. */
  address: string;
  url: string;
  proc: ChildProcess | null;
  output: string[];
}

export class TestCluster {
  readonly nodes: TestNode[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'chat-web-e2e-'));

  static async start(count = 3): Promise<TestCluster> {
    if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run "npm run build" first`);
    const c = new TestCluster();
    for (let i = 1; i <= count; i++) {
      const wsPort = await freePort();
      const rpcPort = await freePort();
      c.nodes.push({ id: `node${i}`, wsPort, rpcPort, address: `127.0.0.1:${wsPort}`, url: `http://127.0.0.1:${wsPort}/`, proc: null, output: [] });
    }
    await Promise.all(c.nodes.map((n) => c.startNode(n)));
    return c;
  }

  env(n: TestNode): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ID: n.id,
      WEBSOCKET_HOST: '127.0.0.1',
      WEBSOCKET_PORT: String(n.wsPort),
      XMLRPC_HOST: '127.0.0.1',
      XMLRPC_PORT: String(n.rpcPort),
      XMLRPC_ADDRESS: `http://127.0.0.1:${n.rpcPort}`,
      PEER_NODES: this.nodes.map((p) => `${p.id}:http://127.0.0.1:${p.rpcPort}`).join(','),
      DATA_DIR: join(this.dir, n.id, 'data'),
      LOG_DIR: join(this.dir, n.id, 'logs'),
      LOG_LEVEL: 'INFO',
      HEARTBEAT_INTERVAL: '0.5',
      HEARTBEAT_TIMEOUT: '0.5',
      MAX_HEARTBEAT_FAILURES: '2',
    };
  }

  async startNode(n: TestNode): Promise<void> {
    const proc = spawn(nodeBinary(), [MAIN_JS], { env: this.env(n), stdio: ['ignore', 'pipe', 'pipe'] });
    n.proc = proc;
    const keep = (b: Buffer) => {
      n.output.push(b.toString());
      if (n.output.length > 400) n.output.splice(0, 100);
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`${n.id} exited with ${proc.exitCode}:\n${n.output.join('')}`);
      try {
        const res = await fetch(`${n.url}health`);
        if (res.status < 500 || res.status === 503) return;
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${n.id} did not start within 20 s:\n${n.output.join('')}`);
  }

  /** Kills a node abruptly (SIGKILL), as a crash or power loss would. */
  async killNode(n: TestNode): Promise<void> {
    const proc = n.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
    n.proc = null;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (n) => {
        const proc = n.proc;
        if (!proc || proc.exitCode !== null) return;
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }

  logs(): string {
    return this.nodes.map((n) => `---- ${n.id}\n${n.output.join('').slice(-4000)}`).join('\n');
  }
}
