import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { ClientTokens } from '../src/common/auth/client-tokens';
import { eventually, TestCluster } from './support/cluster';
import { ClientPool } from './support/test-client';

const SECRET = 'e2e-client-auth-secret-0123456789abcdef';
const ALLOWED = 'http://chat.example.test';
const key = new TextEncoder().encode(SECRET);
const tokens = new ClientTokens(SECRET);

/** Connects and reports the HTTP status of a refused upgrade (or 101), with the refusal's text. */
function upgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; authenticate?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101, body: '' });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, authenticate: res.headers['www-authenticate'] as string | undefined }));
    });
    ws.once('error', reject);
  });
}

/** AUTH_MODE=token and ALLOWED_ORIGINS on two real nodes. */
describe('token mode and origins: who may open a client WebSocket', () => {
  let cluster: TestCluster;
  const clients = new ClientPool();
  const url = (node: number, token?: string) => `${cluster.node(node).url}${token ? `?token=${encodeURIComponent(token)}` : ''}`;
  const connect = (node: number, token: string) => clients.connect(url(node, token));

  beforeAll(async () => {
    cluster = await TestCluster.start(2, { AUTH_MODE: 'token', AUTH_SECRET: SECRET, ALLOWED_ORIGINS: `${ALLOWED}, http://other.example.test:8443` });
  });
  afterEach(() => clients.closeAll());
  afterAll(() => cluster?.stop());

  it('refuses the upgrade with 401 for a missing, expired, wrongly signed, unsigned or exp-less token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuedAt(now - 7200).setExpirationTime(now - 3600).sign(key);
    const otherSecret = await new ClientTokens('a-different-secret-0123456789abcdef').mint('alice', '1h');
    const noExp = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').sign(key);
    const noSub = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(key);
    const header = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const unsigned = `${header({ alg: 'none', typ: 'JWT' })}.${header({ sub: 'alice', exp: now + 3600 })}.`;

    const cases: [string | undefined, RegExp][] = [
      [undefined, /token is required/],
      [expired, /expired/],
      [otherSecret, /not a valid token/],
      [noExp, /exp/],
      [noSub, /sub/],
      [unsigned, /not a valid token/],
      ['garbage', /not a valid token/],
    ];
    for (const [token, reason] of cases) {
      const refused = await upgrade(url(1, token));
      expect({ status: refused.status, authenticate: refused.authenticate }).toEqual({ status: 401, authenticate: 'Bearer' });
      expect(refused.body).toMatch(reason);
    }
    expect((await upgrade(url(1), { authorization: `Bearer ${expired}` })).status).toBe(401);
    // the node is fine after all that
    expect((await fetch(`${cluster.node(1).httpUrl}/health`)).status).toBe(200);
  });

  it("accepts a valid token (query or Authorization header); the connection speaks only for the token's user", async () => {
    const alice = await connect(1, await tokens.mint('alice', '1h'));
    const created = await alice.request('create_room', { room_name: 'token-room', creator_id: 'alice' }, 'room_created');
    const roomId = created.data.room_id as string;
    expect(roomId).toEqual(expect.any(String));

    const asBob = await alice.request('join_room', { room_id: roomId, username: 'bob' }, 'join_room_error', 'join_room_success');
    expect(asBob.data).toMatchObject({ error_code: 'UNAUTHORIZED', error: expect.stringMatching(/token names 'alice'/) });
    const createAsBob = await alice.request('create_room', { room_name: 'bobs', creator_id: 'bob' }, 'room_created');
    expect(createAsBob.data.success).toBe(false);
    expect((await alice.request('join_room', { room_id: roomId, username: 'alice' }, 'join_room_success', 'join_room_error')).type).toBe('join_room_success');

    const bobToken = await tokens.mint('bob', '1h');
    const bobWs = new WebSocket(url(2), { headers: { authorization: `Bearer ${bobToken}` } });
    await new Promise((resolve, reject) => (bobWs.once('open', resolve), bobWs.once('error', reject)));
    bobWs.close();

    // bob's token cannot delete alice's room, even by naming alice
    const bob = await connect(2, bobToken);
    const del = await bob.request('delete_room', { room_id: roomId, username: 'alice' }, 'delete_room_failed', 'delete_room_success');
    expect(del.data.error_code).toBe('UNAUTHORIZED');

    // a second tab of the same user (through the other node) is that user, not a takeover
    const aliceTab = await connect(2, await tokens.mint('alice', '1h'));
    expect((await aliceTab.request('join_room', { room_id: roomId, username: 'alice' }, 'join_room_success', 'join_room_error')).type).toBe('join_room_success');
    const sent = await aliceTab.request('send_message', { room_id: roomId, username: 'alice', content: 'from tab 2' }, 'message_sent', 'message_error');
    expect(sent.type).toBe('message_sent');
    await eventually(() => alice.frames.some((f) => f.type === 'new_message' && f.data.content === 'from tab 2'), 10000);
  });

  it('mints working tokens with the operator command (npm run token)', () => {
    const run = (args: string[], env: Record<string, string>) =>
      execFileSync(process.execPath, [path.join(__dirname, '..', 'dist', 'token.js'), ...args], { env: { ...process.env, ...env }, encoding: 'utf8', stdio: 'pipe' });
    const token = run(['carol', '--ttl', '2h'], { AUTH_SECRET: SECRET }).trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    return tokens.verify(token).then((check) => {
      expect(check).toEqual({ valid: true, username: 'carol' });
      expect(() => run(['carol'], {})).toThrow(/AUTH_SECRET or AUTH_SECRET_FILE must be set/);
      expect(() => run(['carol', '--ttl', 'forever'], { AUTH_SECRET: SECRET })).toThrow(/--ttl must look like/);
    });
  });

  it('refuses upgrades from browser origins not in ALLOWED_ORIGINS (403); clients sending no Origin are allowed', async () => {
    const token = await tokens.mint('dora', '1h');
    const foreign = await upgrade(url(1, token), { origin: 'http://evil.example.test' });
    expect(foreign.status).toBe(403);
    expect(foreign.body).toMatch(/evil\.example\.test is not allowed/);
    expect((await upgrade(url(1, token), { origin: ALLOWED })).status).toBe(101);
    expect((await upgrade(url(2, token), { origin: 'http://OTHER.example.test:8443' })).status).toBe(101);
    expect((await upgrade(url(1, token))).status).toBe(101);
    // origin is checked before the token: a foreign page learns nothing about tokens
    expect((await upgrade(url(1), { origin: 'http://evil.example.test' })).status).toBe(403);
  });

  it('sends security headers with the web client and /cluster', async () => {
    for (const page of ['/', '/cluster', '/app.js']) {
      const res = await fetch(`${cluster.node(1).httpUrl}${page}`);
      expect(res.status).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("connect-src 'self' ws: wss:");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });
});

describe('token mode settings', () => {
  const start = (env: Record<string, string>) => {
    try {
      execFileSync(process.execPath, [path.join(__dirname, '..', 'dist', 'main.js')], { env: { ...process.env, LOG_DIR: '', DATA_DIR: '/nonexistent-never-reached', ...env }, encoding: 'utf8', stdio: 'pipe', timeout: 20000 });
      return { code: 0, stderr: '' };
    } catch (e) {
      const err = e as { status: number; stderr: string };
      return { code: err.status, stderr: err.stderr };
    }
  };

  it('stops the node with exit 2 and one line naming the variable', () => {
    expect(start({ AUTH_MODE: 'token' })).toEqual({ code: 2, stderr: expect.stringMatching(/^Invalid configuration: AUTH_SECRET must be set.*\n$/) });
    expect(start({ AUTH_MODE: 'jwt' })).toEqual({ code: 2, stderr: expect.stringMatching(/AUTH_MODE must be open or token/) });
    expect(start({ AUTH_MODE: 'token', AUTH_SECRET_FILE: '/nonexistent/secret' })).toEqual({ code: 2, stderr: expect.stringMatching(/AUTH_SECRET_FILE "\/nonexistent\/secret" cannot be read/) });
    expect(start({ ALLOWED_ORIGINS: 'chat.example.com' })).toEqual({ code: 2, stderr: expect.stringMatching(/ALLOWED_ORIGINS entries must be origins/) });
  });
});
