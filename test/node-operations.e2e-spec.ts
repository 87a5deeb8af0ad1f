import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { eventually, TestCluster } from './support/cluster';
import { TestClient } from './support/test-client';

const MAIN = path.resolve(__dirname, '..', 'dist', 'main.js');

/** Runs dist/main.js with `env` until it exits (it should fail at start). */
function startFails(env: Record<string, string>) {
  const result = spawnSync(process.execPath, [MAIN], { env: { ...process.env, WEBSOCKET_HOST: '127.0.0.1', XMLRPC_HOST: '127.0.0.1', WEBSOCKET_PORT: '1', XMLRPC_PORT: '2', ...env }, timeout: 15000, encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

describe('node operations: settings, logging, stale member cleanup', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-ops-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it.each([
    ['WEBSOCKET_PORT', 'eighty'],
    ['LOG_LEVEL', 'LOUD'],
    ['LOG_FORMAT', 'yaml'],
    ['CLEANUP_INTERVAL', 'often'],
    ['INACTIVITY_TIMEOUT', '-5'],
    ['HEARTBEAT_TIMEOUT', ''],
    ['MAX_HEARTBEAT_FAILURES', '1.5'],
    ['PEER_NODES', 'node2:http://node2:9090,broken'],
  ])('refuses to start with %s=%j and names the variable', (variable, value) => {
    const { status, stderr } = startFails({ [variable]: value, DATA_DIR: path.join(tmp, 'd'), LOG_DIR: path.join(tmp, 'l') });
    expect(status).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(variable);
  });

  it('refuses a LOG_DIR it cannot create, naming it', () => {
    const file = path.join(tmp, 'a-file');
    fs.writeFileSync(file, 'x');
    const { status, stderr } = startFails({ LOG_DIR: path.join(file, 'logs'), DATA_DIR: path.join(tmp, 'd2') });
    expect(status).toBe(2);
    expect(stderr).toContain('LOG_DIR');
    expect(stderr).toContain(path.join(file, 'logs'));
  });

  describe('with a short cleanup interval', () => {
    let cluster: TestCluster;
    beforeAll(async () => {
      cluster = await TestCluster.start(1, { CLEANUP_INTERVAL: '0.2', INACTIVITY_TIMEOUT: '0.8', WS_PING_INTERVAL: '60', LOG_FORMAT: 'json' });
    });
    afterAll(() => cluster?.stop());

    it('removes only idle members, tells the removed socket and the others, and logs the cleanup', async () => {
      const idle = await TestClient.connect(cluster.node(1).url);
      const active = await TestClient.connect(cluster.node(1).url);
      const room = await active.request('create_room', { room_name: 'quiet', creator_id: 'bob' }, 'room_created');
      const roomId = room.data.room_id;
      await idle.request('join_room', { room_id: roomId, username: 'ida' }, 'join_room_success');
      await active.request('join_room', { room_id: roomId, username: 'bob' }, 'join_room_success');
      const keepBusy = setInterval(() => active.send('send_message', { room_id: roomId, username: 'bob', content: 'still here' }), 150);
      try {
        const own = await idle.nextOf('member_left', 5000);
        expect(own.data).toMatchObject({ room_id: roomId, username: 'ida', reason: 'Inactivity' });
        const seen = await active.nextOf('member_left', 5000);
        expect(seen.data).toMatchObject({ room_id: roomId, username: 'ida', reason: 'Inactivity', member_count: 1 });
        // unregistered: the idle socket gets no more messages and cannot send
        await idle.drain(400);
        expect((await idle.drain(400)).filter((f) => f.type === 'new_message')).toEqual([]);
        const refused = await idle.request('send_message', { room_id: roomId, username: 'ida', content: 'hello?' }, 'message_error');
        expect(refused.data.error_code).toBe('NOT_MEMBER');
      } finally {
        clearInterval(keepBusy);
      }
      expect(active.frames.some((f) => f.type === 'member_left' && f.data.username === 'bob')).toBe(false);
      const lines = cluster.node(1).output.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.some((l) => l.message === 'Starting stale member cleanup')).toBe(true);
      expect(lines.some((l) => /cleanup: removed ida/.test(l.message))).toBe(true);
      expect(lines[0]).toMatchObject({ level: expect.any(String), node_id: 'node1', timestamp: expect.any(String) });
      await idle.close();
      await active.close();
    });
  });

  describe('log levels', () => {
    it('LOG_LEVEL=DEBUG prints debug lines and LOG_LEVEL=WARNING hides info, both to stdout and the LOG_DIR file', async () => {
      const debug = await TestCluster.start(1, { LOG_LEVEL: 'DEBUG' });
      const quiet = await TestCluster.start(1, { LOG_LEVEL: 'WARNING' });
      try {
        expect(debug.node(1).output).toMatch(/ - DEBUG - /);
        expect(quiet.node(1).output).not.toMatch(/ - (INFO|DEBUG) - /);
        const logFile = path.join(debug.root, 'node1', 'logs', 'node1.log');
        await eventually(() => fs.existsSync(logFile) && fs.readFileSync(logFile, 'utf8').includes('listening'));
        expect(fs.readFileSync(logFile, 'utf8')).toMatch(/ - DEBUG - /);
      } finally {
        await debug.stop();
        await quiet.stop();
      }
    });
  });
});
