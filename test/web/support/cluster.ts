// The browser e2e tests' view of a real cluster: the shared TestCluster (real `node dist/main.js`
// processes on loopback), with each node's client address and page URL at hand.
import type { NodeProcess } from '../../../src/cluster/node-process';
import { TestCluster as ProcessCluster } from '../../support/cluster';

export interface TestNode {
  id: string;
  /** host:port of the client (HTTP + WebSocket) server. */
  address: string;
  /** The page: http://host:port/ */
  url: string;
  process: NodeProcess;
}

export class TestCluster {
  readonly nodes: TestNode[];

  private constructor(private readonly cluster: ProcessCluster) {
    this.nodes = cluster.nodes.map((p) => ({ id: p.spec.nodeId, address: `${p.spec.host}:${p.spec.wsPort}`, url: `${p.httpUrl}/`, process: p }));
  }

  static async start(count = 3, extraEnv: Record<string, string> = {}): Promise<TestCluster> {
    return new TestCluster(await ProcessCluster.start(count, { LOG_LEVEL: 'INFO', HEARTBEAT_INTERVAL: '0.5', ...extraEnv }));
  }

  /** Kills a node abruptly (SIGKILL), as a crash would. */
  killNode(n: TestNode): Promise<void> {
    return n.process.stop('SIGKILL');
  }

  /** Starts a stopped node again with the same data directory. */
  startNode(n: TestNode): Promise<void> {
    return n.process.start();
  }

  stop(): Promise<void> {
    return this.cluster.stop();
  }

  logs(): string {
    return this.nodes.map((n) => `---- ${n.id}\n${n.process.output.slice(-4000)}`).join('\n');
  }
}
