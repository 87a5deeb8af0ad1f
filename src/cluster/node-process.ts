import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

/** Where one node of a local cluster listens. */
export interface NodeSpec {
  nodeId: string;
  wsPort: number;
  rpcPort: number;
  host: string;
  /** A network namespace to run in (a separate host for partition tests); the default is this one. */
  netns?: string;
}

/** A chat node running as its own OS process (`node dist/main.js`). */
export class NodeProcess {
  private child: ChildProcess | null = null;
  output = '';

  constructor(
    readonly spec: NodeSpec,
    readonly env: Record<string, string>,
    private readonly echo = false,
  ) {}

  get url(): string {
    return `ws://${this.spec.host}:${this.spec.wsPort}/`;
  }
  get httpUrl(): string {
    return `http://${this.spec.host}:${this.spec.wsPort}`;
  }
  get rpcUrl(): string {
    return `http://${this.spec.host}:${this.spec.rpcPort}`;
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }
  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and resolves once GET /health answers 200. */
  async start(timeoutMs = 20000): Promise<void> {
    const main = mainScript();
    this.output = '';
    const [command, args] = this.spec.netns ? ['ip', ['netns', 'exec', this.spec.netns, process.execPath, main]] : [process.execPath, [main]];
    const child = spawn(command, args, { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const collect = (chunk: Buffer) => {
      this.output += chunk.toString();
      if (this.output.length > 2_000_000) this.output = this.output.slice(-1_000_000);
      if (this.echo) process.stdout.write(chunk.toString().replace(/^(?=.)/gm, `[${this.spec.nodeId}] `));
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.spec.nodeId} exited during start:\n${this.output.slice(-3000)}`);
      if ((await httpStatus(`${this.httpUrl}/health`)) === 200) return;
      await sleep(100);
    }
    throw new Error(`${this.spec.nodeId} did not become healthy within ${timeoutMs} ms:\n${this.output.slice(-3000)}`);
  }

  /** SIGTERM (clean stop) or SIGKILL (crash); resolves when the process is gone. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(timer);
  }
}

/** dist/main.js, also when this file runs from src/ under jest (tests spawn the built node). */
function mainScript(): string {
  const beside = path.join(__dirname, '..', 'main.js');
  return fs.existsSync(beside) ? beside : path.resolve(__dirname, '..', '..', 'dist', 'main.js');
}

/** Environment for a full-mesh cluster member. */
export function clusterEnv(spec: NodeSpec, all: NodeSpec[], dirs: { dataDir: string; logDir: string }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ID: spec.nodeId,
    WEBSOCKET_HOST: spec.host,
    WEBSOCKET_PORT: String(spec.wsPort),
    XMLRPC_HOST: spec.host,
    XMLRPC_PORT: String(spec.rpcPort),
    XMLRPC_ADDRESS: `http://${spec.host}:${spec.rpcPort}`,
    PEER_NODES: all.filter((s) => s !== spec).map((s) => `${s.nodeId}:http://${s.host}:${s.rpcPort}`).join(','),
    DATA_DIR: dirs.dataDir,
    LOG_DIR: dirs.logDir,
    ...extra,
  };
}

export function httpStatus(url: string, method = 'GET'): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(url, { method, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => (req.destroy(), resolve(0)));
    req.end();
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
