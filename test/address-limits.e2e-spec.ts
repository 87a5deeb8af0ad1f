import * as net from 'node:net';
import { ClientTokens } from '../src/common/auth/client-tokens';
import { TestCluster } from './support/cluster';
import { TestClient, type Frame } from './support/test-client';

/**
 * Limits one address cannot get around by opening more connections, on real nodes: clients on
 * 127.0.0.1 are one address, clients bound to 127.0.0.2 another (the whole of 127/8 is loopback).
 */
describe('limits per client address (real nodes)', () => {
  let cluster: TestCluster;
  const clients: TestClient[] = [];
  const open = async (address = '127.0.0.1', node = 1) => {
    const c = await TestClient.connect(cluster.node(node).url, { localAddress: address });
    clients.push(c);
    return c;
  };
  const scrape = async (name: string, labels: string) =>
    Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(await (await fetch(`${cluster.node(1).httpUrl}/metrics`)).text())?.[1] ?? 0);

  beforeAll(async () => {
    cluster = await TestCluster.start(2, {
      LOG_LEVEL: 'INFO',
      RATE_LIMIT_IP_MESSAGES_PER_SECOND: '5',
      RATE_LIMIT_IP_MESSAGE_BURST: '20',
      MAX_ROOMS_PER_IP: '3',
      RATE_LIMIT_REQUEST_BURST: '5',
      RATE_LIMIT_REQUESTS_PER_SECOND: '1',
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await cluster?.stop();
  });

  it('one address shares one message budget over all its connections; another address is not affected', async () => {
    const creator = await open('127.0.0.9');
    const roomId = (await creator.request('create_room', { room_name: 'budget', creator_id: 'owner' }, 'room_created')).data.room_id as string;
    const crowd: TestClient[] = [];
    for (let i = 0; i < 5; i++) {
      const c = await open('127.0.0.1');
      await c.request('join_room', { room_id: roomId, username: `crowd${i}` }, 'join_room_success');
      crowd.push(c);
    }
    // 5 connections x 10 messages at once: each connection is far under its own limit (burst 500)
    const replies = await Promise.all(
      crowd.map(async (c, i) => {
        const out: Frame[] = [];
        for (let k = 0; k < 10; k++) out.push(await c.request('send_message', { room_id: roomId, username: `crowd${i}`, content: `m${k}` }, 'message_sent', 'message_error'));
        return out;
      }),
    );
    const all = replies.flat();
    const acked = all.filter((f) => f.type === 'message_sent').length;
    const limited = all.filter((f) => f.data.error_code === 'RATE_LIMITED');
    expect(acked).toBeGreaterThanOrEqual(20);
    expect(acked).toBeLessThan(30); // the burst of 20, and what 5 per second refilled meanwhile
    expect(limited.length).toBe(all.length - acked);
    expect(limited[0].data.error).toMatch(/^Too many messages from your address: at most 5 per second over all its connections; try again in/);
    expect(limited[0].data.retry_after_ms).toBeGreaterThan(0);

    const other = await open('127.0.0.2');
    await other.request('join_room', { room_id: roomId, username: 'elsewhere' }, 'join_room_success');
    expect((await other.request('send_message', { room_id: roomId, username: 'elsewhere', content: 'hi' }, 'message_sent', 'message_error')).type).toBe('message_sent');
  });

  it('caps the rooms one address has created that still exist (MAX_ROOMS_PER_IP), on any of its connections', async () => {
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await open('127.0.0.3');
      made.push((await c.request('create_room', { room_name: `mine ${i}`, creator_id: `maker${i}` }, 'room_created')).data.room_id as string);
    }
    const refused = await (await open('127.0.0.3')).request('create_room', { room_name: 'one more', creator_id: 'maker9' }, 'room_created');
    expect(refused.data).toEqual({ success: false, message: expect.stringMatching(/^Your address has created 3 rooms that still exist \(the most allowed\)/) });
    expect((await (await open('127.0.0.4')).request('create_room', { room_name: 'theirs', creator_id: 'someone' }, 'room_created')).data.room_id).toBeDefined();
    // deleting one frees a place
    const owner = await open('127.0.0.3');
    await owner.request('join_room', { room_id: made[0], username: 'maker0' }, 'join_room_success');
    expect((await owner.request('delete_room', { room_id: made[0], username: 'maker0' }, 'delete_room_success', 'delete_room_failed')).type).toBe('delete_room_success');
    expect((await (await open('127.0.0.3')).request('create_room', { room_name: 'after a deletion', creator_id: 'maker5' }, 'room_created')).data.room_id).toBeDefined();
  });

  it('throttles delete_room, and a flood of deletions of rooms that do not exist asks the peers for their rooms about once a second', async () => {
    const before = await scrape('chat_peer_call_seconds_count', 'peer="node2",method="get_hosted_rooms"');
    const c = await open('127.0.0.5');
    const replies: Frame[] = [];
    for (let i = 0; i < 20; i++) replies.push(await c.request('delete_room', { room_id: `no-such-room-${i}`, username: 'mallory' }, 'delete_room_failed', 'delete_room_success'));
    const codes = replies.map((r) => r.data.error_code);
    expect(codes.filter((code) => code === 'ROOM_NOT_FOUND').length).toBeGreaterThanOrEqual(5);
    expect(codes.filter((code) => code === 'RATE_LIMITED').length).toBeGreaterThanOrEqual(10);
    const asked = (await scrape('chat_peer_call_seconds_count', 'peer="node2",method="get_hosted_rooms"')) - before;
    expect(asked).toBeGreaterThanOrEqual(1);
    expect(asked).toBeLessThanOrEqual(3);
    const history = await c.request('get_history', { room_id: 'no-such-room' }, 'history', 'history_error');
    expect(history.data.error_code).toBe('RATE_LIMITED');
  });
});

describe('token mode: the per-address connection cap holds while tokens are checked', () => {
  let cluster: TestCluster;
  const secret = 'a-token-secret-of-thirty-two-chars!!';

  beforeAll(async () => {
    cluster = await TestCluster.start(1, { AUTH_MODE: 'token', AUTH_SECRET: secret, MAX_CONNECTIONS_PER_IP: '5', LOG_LEVEL: 'INFO' });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  /**
   * WebSocket upgrades on connections opened beforehand and sent all at once, so they reach the
   * node together, while the first tokens are still being checked. Resolves with each status.
   */
  const upgradesAtOnce = async (token: string, count: number, sockets: net.Socket[]): Promise<number[]> => {
    const conns = await Promise.all(
      Array.from({ length: count }, () => new Promise<net.Socket>((resolve) => {
        const s = net.connect(cluster.node(1).spec.wsPort, '127.0.0.1', () => resolve(s));
        s.on('error', () => undefined);
      })),
    );
    sockets.push(...conns);
    const request = `GET /?token=${token} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
    const statuses = conns.map(
      (s) => new Promise<number>((resolve) => {
        s.once('data', (d) => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(d.toString())?.[1] ?? 0)));
        s.once('close', () => resolve(0));
      }),
    );
    for (const s of conns) s.write(request);
    return Promise.all(statuses);
  };

  it('counts an upgrade against MAX_CONNECTIONS_PER_IP before its token is verified: 30 at once, 5 get in', async () => {
    const token = await new ClientTokens(secret).mint('alice', '1h');
    const sockets: net.Socket[] = [];
    try {
      const statuses = await upgradesAtOnce(token, 30, sockets);
      expect(statuses.filter((s) => s === 101)).toHaveLength(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(25);
    } finally {
      for (const s of sockets) s.destroy();
    }
    // and the count goes back down: once they are closed, new ones get in
    await new Promise((r) => setTimeout(r, 300));
    const again: net.Socket[] = [];
    expect(await upgradesAtOnce(token, 1, again)).toEqual([101]);
    for (const s of again) s.destroy();
  });
});
