import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { httpStatus } from '../src/cluster/node-process';
import { freePortBlock } from '../src/cluster/ports';
import { XmlRpcClient } from '../src/common/xmlrpc';
import { eventually } from './support/cluster';

/** `npm start`'s launcher: three nodes on loopback, their URLs printed, all stopped by Ctrl-C. */
describe('local cluster (npm start)', () => {
  it('starts three meshed nodes, prints their client URLs, and stops them all on SIGINT', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-local-'));
    const [base] = await freePortBlock([0, 1, 2, 3, 1011, 1012, 1013]); // the launcher uses base+1..3 and base+1011..1013
    const launcher = spawn(process.execPath, [path.resolve(__dirname, '..', 'dist', 'cluster', 'local-cluster.js')], {
      cwd,
      env: { ...process.env, CLUSTER_BASE_PORT: String(base), LOG_LEVEL: 'WARNING' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    launcher.stdout.on('data', (d) => (output += d));
    launcher.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => resolve(code)));
    try {
      // the banner and the URL lines may reach the pipe in separate chunks
      await eventually(() => output.includes('Local cluster is up') && output.includes(`node3: ws://127.0.0.1:${base + 3}/`), 40000, 100).catch((e: Error) => {
        throw new Error(`${e.message}; launcher printed:\n${output.slice(-4000)}`);
      });
      for (const n of [1, 2, 3]) {
        expect(output).toContain(`node${n}: ws://127.0.0.1:${base + n}/`);
        expect(await httpStatus(`http://127.0.0.1:${base + n}/health`)).toBe(200);
      }
      const health = (await (await fetch(`http://127.0.0.1:${base + 1}/health`)).json()) as { details: { peers: { peers: Record<string, unknown> } } };
      expect(Object.keys(health.details.peers.peers).sort()).toEqual(['node2', 'node3']);
      expect(fs.existsSync(path.join(cwd, '.data', 'node1', 'chat.db'))).toBe(true);
      // Each node tells web pages where the others are (their heartbeats carry the client URL).
      await eventually(async () => {
        const cluster = (await (await fetch(`http://127.0.0.1:${base + 1}/cluster`)).json()) as { nodes: { node_id: string; client_url: string }[] };
        expect(cluster.nodes.map((n) => `${n.node_id} ${n.client_url}`)).toEqual([1, 2, 3].map((n) => `node${n} ws://127.0.0.1:${base + n}/`));
        return true;
      }, 10000);
      // the launcher made a cluster secret: the nodes talk signed, and an unsigned caller is refused
      expect(output).not.toContain('PEER_SECRET is not set');
      const unsigned = new XmlRpcClient({ url: `http://127.0.0.1:${base + 1011}` });
      await expect(unsigned.call('get_room_states', [])).rejects.toEqual(expect.objectContaining({ code: -32401 }));
      expect(await unsigned.call<{ status: string }>('heartbeat', [])).toMatchObject({ status: 'ok', node_id: 'node1' });
      unsigned.close();
    } finally {
      launcher.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    for (const n of [1, 2, 3]) expect(await httpStatus(`http://127.0.0.1:${base + n}/health`)).toBe(0);
    fs.rmSync(cwd, { recursive: true, force: true });
  }, 60000);
});
