import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { clusterEnv, NodeProcess, type NodeSpec } from './node-process';

/**
 * `npm start`: three nodes on loopback with full-mesh PEER_NODES, data and logs under ./.data and
 * ./logs (kept across runs), client ports 8081-8083 and XML-RPC 9091-9093 (CLUSTER_BASE_PORT
 * shifts them: base+1.. and base+1001..). Ctrl-C stops them all. Peer calls are signed with a
 * random PEER_SECRET made for this run.
 */
async function main(): Promise<void> {
  const base = Number(process.env.CLUSTER_BASE_PORT ?? 8080);
  const host = process.env.CLUSTER_HOST ?? '127.0.0.1';
  const specs: NodeSpec[] = [1, 2, 3].map((n) => ({ nodeId: `node${n}`, host, wsPort: base + n, rpcPort: base + 1010 + n }));
  const root = process.cwd();
  // one fresh cluster secret per run: the three nodes sign their calls to each other with it
  const peerSecret = randomBytes(32).toString('hex');
  const nodes = specs.map((spec) => {
    const dirs = { dataDir: path.join(root, '.data', spec.nodeId), logDir: path.join(root, 'logs') };
    fs.mkdirSync(dirs.dataDir, { recursive: true });
    return new NodeProcess(spec, clusterEnv(spec, specs, dirs, { LOG_LEVEL: process.env.LOG_LEVEL ?? 'INFO', PEER_SECRET: peerSecret }), true);
  });
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await Promise.all(nodes.map((n) => n.stop()));
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  try {
    await Promise.all(nodes.map((n) => n.start()));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    await stopAll(1);
    return;
  }
  process.stdout.write('\nLocal cluster is up. Open a client on any node:\n');
  for (const n of nodes) process.stdout.write(`  ${n.spec.nodeId}: ${n.url}   (web client ${n.httpUrl}/ , peers at ${n.rpcUrl})\n`);
  process.stdout.write('Press Ctrl-C to stop all three.\n\n');
  const watch = setInterval(() => {
    const dead = nodes.filter((n) => !n.running);
    if (dead.length > 0 && !stopping) {
      process.stderr.write(`${dead.map((n) => n.spec.nodeId).join(', ')} stopped unexpectedly; stopping the cluster\n`);
      clearInterval(watch);
      void stopAll(1);
    }
  }, 1000);
}

void main();
