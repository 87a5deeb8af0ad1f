import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../src/cluster/ports';
import { eventually } from './cluster';
import { requireTool } from './system-tools';

export interface ScrapeTarget {
  /** host:port serving GET /metrics */
  address: string;
  node: string;
}

/** A real Prometheus (Debian's package) scraping the given targets every second, in a temp dir. */
export class PrometheusProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly dir: string,
    private readonly output: () => string,
  ) {}

  static async start(targets: ScrapeTarget[]): Promise<PrometheusProcess> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prom-e2e-'));
    const port = await freePort();
    const staticConfigs = targets.map((t) => `      - targets: ['${t.address}']\n        labels: { node: '${t.node}' }`).join('\n');
    fs.writeFileSync(
      path.join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: chat\n    static_configs:\n${staticConfigs}\n`,
    );
    const child = spawn(
      requireTool('prometheus'),
      [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    const prom = new PrometheusProcess(child, `http://127.0.0.1:${port}`, dir, () => output);
    try {
      await eventually(async () => (await fetch(`${prom.url}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok, 20000, 200);
    } catch (e) {
      await prom.stop();
      throw new Error(`Prometheus did not become ready: ${(e as Error).message}\n${output.slice(-2000)}`);
    }
    return prom;
  }

  /** An instant query; returns the result vector as {labels, value}. */
  async query(expr: string): Promise<{ metric: Record<string, string>; value: number }[]> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(3000) });
    const body = (await res.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  /** The Prometheus log so far, for failure messages. */
  get log(): string {
    return this.output();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGKILL');
      await exited;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
