import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../src/cluster/ports';
import { TestCluster } from '../support/cluster';
import { connect, createRoom, join, sendPipelined } from '../support/rooms';

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'main.js');

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  stdout: string;
  /** The node got past its store and started serving (it is then killed). */
  started: boolean;
}

/** Runs `node dist/main.js` with DATA_DIR and waits for it to exit (it must, within 15 s). */
async function runNode(dataDir: string): Promise<Exit> {
  const env = {
    ...process.env,
    NODE_ID: 'baddir',
    WEBSOCKET_HOST: '127.0.0.1',
    WEBSOCKET_PORT: String(await freePort()),
    XMLRPC_HOST: '127.0.0.1',
    XMLRPC_PORT: String(await freePort()),
    PEER_NODES: '',
    DATA_DIR: dataDir,
    LOG_DIR: '',
  };
  const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let started = false;
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    if (!started && /Node baddir started/.test(stdout)) {
      started = true;
      child.kill('SIGKILL');
    }
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node with DATA_DIR=${dataDir} did not exit within 15 s (it started?):\n${stdout}\n${stderr}`));
    }, 15000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // let the pipes flush
      setImmediate(() => resolve({ code, signal, stderr, stdout, started }));
    });
  });
}

/** A bad DATA_DIR stops the node at start: non-zero exit, stderr names DATA_DIR and the path. */
describe('durability: a bad DATA_DIR is a clear startup error', () => {
  jest.setTimeout(60000);
  let root: string;

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-baddir-'));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  const expectStartupError = (exit: Exit, mentions: string[], pattern?: RegExp) => {
    expect({ started: exit.started, stderr: exit.stderr }).toEqual({ started: false, stderr: expect.any(String) });
    expect(exit.signal).toBeNull();
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(exit.stderr).toContain('DATA_DIR');
    for (const m of mentions) expect(exit.stderr).toContain(m);
    if (pattern) expect(exit.stderr).toMatch(pattern);
    // one clear sentence, not a stack trace
    expect(exit.stderr).not.toMatch(/^\s+at /m);
  };

  it('(a) a path under a regular file (cannot be created)', async () => {
    const file = path.join(root, 'a-file');
    fs.writeFileSync(file, 'not a directory');
    const dataDir = path.join(file, 'data');
    expectStartupError(await runNode(dataDir), [dataDir], /cannot be created/);
  });

  it('(b) a regular file instead of a directory (cannot be written)', async () => {
    const file = path.join(root, 'b-file');
    fs.writeFileSync(file, 'not a directory');
    expectStartupError(await runNode(file), [file]);
  });

  it('(c) a directory whose chat.db is held by a running node (locked)', async () => {
    const cluster = await TestCluster.start(1);
    try {
      const dataDir = cluster.node(1).env.DATA_DIR;
      expectStartupError(await runNode(dataDir), [path.join(dataDir, 'chat.db')], /locked/);
      // the running node is unharmed
      expect(cluster.node(1).running).toBe(true);
    } finally {
      await cluster.stop();
    }
  });

  it('(d) a directory whose chat.db is garbage (corrupt)', async () => {
    const dataDir = path.join(root, 'd-corrupt');
    fs.mkdirSync(dataDir);
    fs.writeFileSync(path.join(dataDir, 'chat.db'), Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 31 + 7) & 0xff)));
    expectStartupError(await runNode(dataDir), [path.join(dataDir, 'chat.db')], /corrupt/);
  });

  it('(e) a chat.db whose pages are damaged after a valid header (corrupt)', async () => {
    // make a real database with a room and many messages, then damage its second half
    const cluster = await TestCluster.start(1);
    const dataDir = cluster.node(1).env.DATA_DIR;
    try {
      const c = await connect(cluster.node(1));
      const room = await createRoom(c, 'to-damage', 'u');
      await join(c, room, 'u');
      await sendPipelined(c, room, 'u', 400, 'x'.repeat(500));
      await c.close();
      await cluster.node(1).stop('SIGTERM');
      const file = path.join(dataDir, 'chat.db');
      const buf = fs.readFileSync(file);
      expect(buf.length).toBeGreaterThan(64 * 1024);
      for (let i = Math.floor(buf.length / 2); i < buf.length; i++) buf[i] = (i * 7) & 0xff;
      fs.writeFileSync(file, buf);
      expectStartupError(await runNode(dataDir), [file], /corrupt/);
    } finally {
      await cluster.stop();
    }
  });
});
