import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { clusterEnv, NodeProcess, sleep, type NodeSpec } from '../../src/cluster/node-process';
import { freePort } from '../../src/cluster/ports';
import type { NetnsLab } from './netns-lab';

/** Waits `ms` (the one sleep of the tests; prefer `eventually` or a barrier where there is something to wait for). */
export { sleep } from '../../src/cluster/node-process';

/** Settings that make failure detection fast enough for tests. */
export const FAST_FAILURE_DETECTION = {
  HEARTBEAT_INTERVAL: '0.3',
  HEARTBEAT_TIMEOUT: '0.5',
  MAX_HEARTBEAT_FAILURES: '2',
  PEER_CALL_TIMEOUT: '1',
  FAILOVER_TIMEOUT: '1',
  LOG_LEVEL: 'DEBUG',
};

/**
 * Real node processes on loopback (built `dist/main.js`, Node 24), each with its own data and
 * log directory under a temp folder. NODE_MAIN points tests at dist/ (built by `npm test`'s pretest).
 */
export class TestCluster {
  private constructor(
    readonly nodes: NodeProcess[],
    readonly root: string,
    /** The cluster's PEER_SECRET (every cluster signs its peer calls unless started with PEER_SECRET ''); null = unsigned. */
    readonly peerSecret: string | null,
  ) {}

  /** `extraPeers` (e.g. a black-holed address) is appended to every node's PEER_NODES. */
  /** `perNode` may be a function of the nodes' addresses (e.g. to put a proxy in front of one). */
  static async start(count: number, extraEnv: Record<string, string> = {}, perNode: Record<string, string>[] | ((specs: NodeSpec[]) => Record<string, string>[]) = [], extraPeers = ''): Promise<TestCluster> {
    const specs: NodeSpec[] = [];
    for (let i = 1; i <= count; i++) specs.push({ nodeId: `node${i}`, host: '127.0.0.1', wsPort: await freePort(), rpcPort: await freePort() });
    return TestCluster.launch(specs, extraEnv, typeof perNode === 'function' ? perNode(specs) : perNode, extraPeers);
  }

  /** One node per host of `lab` (its own network namespace), on the standard ports 8080/9090. */
  static startIn(lab: NetnsLab, extraEnv: Record<string, string> = {}): Promise<TestCluster> {
    const specs = lab.addresses.map((host, i) => ({ nodeId: `node${i + 1}`, host, wsPort: 8080, rpcPort: 9090, netns: lab.namespaces[i] }));
    return TestCluster.launch(specs, extraEnv, [], '');
  }

  private static async launch(specs: NodeSpec[], extraEnv: Record<string, string>, perNode: Record<string, string>[], extraPeers: string): Promise<TestCluster> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-e2e-'));
    const peerSecret = extraEnv.PEER_SECRET ?? randomBytes(32).toString('hex');
    extraEnv = { PEER_SECRET: peerSecret, ...extraEnv };
    const nodes = specs.map((spec, i) => {
      const env = clusterEnv(spec, specs, { dataDir: path.join(root, spec.nodeId, 'data'), logDir: path.join(root, spec.nodeId, 'logs') }, { ...FAST_FAILURE_DETECTION, ...extraEnv, ...(perNode[i] ?? {}) });
      if (extraPeers) env.PEER_NODES = [env.PEER_NODES, extraPeers].filter(Boolean).join(',');
      return new NodeProcess(spec, env);
    });
    const cluster = new TestCluster(nodes, root, peerSecret || null);
    try {
      await Promise.all(nodes.map((n) => n.start()));
      if (!extraPeers) await meshHealthy(nodes);
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return cluster;
  }

  node(id: number): NodeProcess {
    return this.nodes[id - 1];
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop('SIGKILL')));
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * Waits until every running node reports every other running node healthy. Reads the open
 * `GET /status.json?scope=node` (/health shows peer details to loopback callers only, and nodes in
 * network namespaces are not on the test's loopback).
 */
export async function meshHealthy(nodes: NodeProcess[], timeoutMs = 15000): Promise<void> {
  const up = nodes.filter((n) => n.running);
  await eventually(async () => {
    for (const n of up) {
      const peers = await peerStatuses(n.httpUrl);
      if (up.some((o) => o !== n && peers[o.spec.nodeId] !== 'healthy')) return false;
    }
    return true;
  }, timeoutMs, 100);
}

/** Each peer's status as the node at `httpUrl` sees it (healthy, degraded, failed, unknown). */
export async function peerStatuses(httpUrl: string): Promise<Record<string, string>> {
  const res = await fetch(`${httpUrl}/status.json?scope=node`, { signal: AbortSignal.timeout(1000) });
  const body = (await res.json()) as { peers?: { node_id: string; status: string }[] };
  return Object.fromEntries((body.peers ?? []).map((p) => [p.node_id, p.status]));
}

export async function eventually<T>(probe: () => T | Promise<T>, timeoutMs = 5000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(intervalMs);
  }
}
