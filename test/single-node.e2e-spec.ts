import { TestCluster } from './support/cluster';
import { createFreshRoom, requestJoin } from './support/rooms';
import { ClientPool, TestClient, type Frame } from './support/test-client';
import { httpStatus } from '../src/cluster/node-process';

/** One real node process, real `ws` clients: the reference client protocol (reference-protocol.md §1). */
describe('single node: client protocol', () => {
  let cluster: TestCluster;
  let url: string;
  const clients = new ClientPool();

  const connect = () => clients.connect(url);
  const createRoom = (c: TestClient) => createFreshRoom(c, 'alice', 'about things');

  beforeAll(async () => {
    cluster = await TestCluster.start(1);
    url = cluster.node(1).url;
  });
  afterEach(async () => {
    await clients.closeAll();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('sends nothing on connect and lists no rooms at first', async () => {
    const c = await connect();
    expect(await c.drain(200)).toEqual([]);
    c.send('list_rooms');
    expect(await c.next()).toEqual({ type: 'rooms_list', data: { rooms: [], total_count: 0 } });
  });

  it('accepts the WebSocket upgrade on any path, like the reference', async () => {
    for (const suffix of ['ws', 'any/deep/path?x=1']) {
      const c = await clients.connect(url + suffix);
      expect((await c.request('list_rooms', undefined, 'rooms_list')).type).toBe('rooms_list');
    }
  });

  it('creates a room: room_created has exactly its five keys, and the room is listed with its description', async () => {
    const c = await connect();
    const { roomId, name, reply } = await createRoom(c);
    expect(Object.keys(reply.data).sort()).toEqual(['admin_node', 'created_at', 'members', 'room_id', 'room_name']);
    expect(reply.data).toMatchObject({ room_name: name, admin_node: 'node1', members: [] });
    expect(reply.data.room_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const list = await c.request('list_rooms', undefined, 'rooms_list');
    expect(list.data.rooms).toContainEqual({ room_id: roomId, room_name: name, description: 'about things', member_count: 0, admin_node: 'node1', creator_id: 'alice' });
  });

  it('refuses a duplicate room name and a create without name, in the reference error form', async () => {
    const c = await connect();
    const { name } = await createRoom(c);
    const dup = await c.request('create_room', { room_name: name, creator_id: 'bob', description: null }, 'room_created');
    expect(dup.data).toEqual({ success: false, message: `Room with name '${name}' already exists` });
    const missing = await c.request('create_room', { creator_id: 'bob' }, 'room_created');
    expect(missing.data).toEqual({ success: false, message: 'Missing room_name or creator_id' });
    const tooLong = await c.request('create_room', { room_name: 'x'.repeat(101), creator_id: 'bob' }, 'room_created');
    expect(tooLong.data.success).toBe(false);
  });

  it('joins: the joiner gets join_room_success with sequence bounds, the others member_joined, a re-join announces nothing', async () => {
    const a = await connect();
    const b = await connect();
    const { roomId } = await createRoom(a);
    const ja = await requestJoin(a, roomId, 'alice');
    expect(ja).toEqual({
      type: 'join_room_success',
      data: { room_id: roomId, room_name: expect.any(String), description: 'about things', members: ['alice'], member_count: 1, admin_node: 'node1', creator_id: 'alice', first_sequence: 0, last_sequence: 0, last_read: 0, unread_count: 0, moderators: [], banned: [], moderation_log: [] },
    });
    const jb = await requestJoin(b, roomId, 'bob');
    expect(jb.data.members.sort()).toEqual(['alice', 'bob']);
    const joined = await a.next();
    expect(joined).toEqual({ type: 'member_joined', data: { room_id: roomId, username: 'bob', member_count: 2, timestamp: expect.stringMatching(/Z$/) } });
    expect(await b.drain(150)).toEqual([]); // the joiner does not see its own join
    await requestJoin(b, roomId, 'bob');
    expect(await a.drain(150)).toEqual([]);
  });

  it('answers join errors with join_room_error and the echoed room_id', async () => {
    const c = await connect();
    expect(await requestJoin(c, 'no-such-room', 'bob')).toEqual({ type: 'join_room_error', data: { room_id: 'no-such-room', error: 'Room not found', error_code: 'ROOM_NOT_FOUND' } });
    expect((await c.request('join_room', { username: 'bob' }, 'join_room_error')).data).toEqual({ room_id: '', error: 'Missing room_id or username', error_code: 'INVALID_REQUEST' });
    expect((await c.request('join_room', null, 'join_room_error')).data.error_code).toBe('INVALID_REQUEST');
  });

  it('sends: every member gets new_message, the sender gets it before message_sent, sequence numbers are contiguous', async () => {
    const a = await connect();
    const b = await connect();
    const { roomId } = await createRoom(a);
    await requestJoin(a, roomId, 'alice');
    await requestJoin(b, roomId, 'bob');
    await a.nextOf('member_joined');
    for (let i = 1; i <= 3; i++) {
      a.send('send_message', { room_id: roomId, username: 'alice', content: `m${i}` });
      const first = await a.next();
      const second = await a.next();
      expect(first).toEqual({
        type: 'new_message',
        data: { message_id: expect.any(String), room_id: roomId, username: 'alice', content: `m${i}`, sequence_number: i, timestamp: expect.stringMatching(/Z$/) },
      });
      expect(second).toEqual({ type: 'message_sent', data: { room_id: roomId, message_id: first.data.message_id, sequence_number: i, timestamp: first.data.timestamp } });
      expect(await b.next()).toEqual(first);
    }
  });

  it.each([
    ['empty content', { content: '' }, 'INVALID_CONTENT', 'Message content cannot be empty'],
    ['5001 characters', { content: 'x'.repeat(5001) }, 'INVALID_CONTENT', 'Message content too long (max 5000 characters)'],
    ['numeric content', { content: 12 }, 'INVALID_CONTENT', 'Message content must be a string'],
    ['a control character', { content: 'ring \u0007' }, 'INVALID_CONTENT', 'Message content contains control characters that cannot be delivered'],
    ['no username', { content: 'hi', username: undefined }, 'INVALID_REQUEST', 'Missing room_id or username'],
    ['another username', { content: 'hi', username: 'mallory' }, 'UNAUTHORIZED', "Username does not match this connection (joined as 'alice')"],
  ])('refuses a send with %s (%s)', async (_label, overrides, code, message) => {
    const a = await connect();
    const { roomId } = await createRoom(a);
    await requestJoin(a, roomId, 'alice');
    const reply = await a.request('send_message', { room_id: roomId, username: 'alice', ...overrides }, 'message_error', 'message_sent');
    expect(reply).toEqual({ type: 'message_error', data: { room_id: roomId, error: message, error_code: code } });
  });

  it('accepts 5000 code points even when they are 10000 UTF-16 units', async () => {
    const a = await connect();
    const { roomId } = await createRoom(a);
    await requestJoin(a, roomId, 'alice');
    const reply = await a.request('send_message', { room_id: roomId, username: 'alice', content: '😀'.repeat(5000) }, 'message_error', 'message_sent');
    expect(reply.type).toBe('message_sent');
  });

  it('refuses a send from a socket that is not in the room (NOT_MEMBER), and one naming a live member (USERNAME_TAKEN)', async () => {
    const a = await connect();
    const b = await connect();
    const { roomId } = await createRoom(a);
    await requestJoin(a, roomId, 'alice');
    const reply = await b.request('send_message', { room_id: roomId, username: 'bob', content: 'hi' }, 'message_error');
    expect(reply.data).toEqual({ room_id: roomId, error: 'You are not a member of this room', error_code: 'NOT_MEMBER' });
    const takeover = await b.request('send_message', { room_id: roomId, username: 'alice', content: 'hi' }, 'message_error');
    expect(takeover.data).toMatchObject({ room_id: roomId, error_code: 'USERNAME_TAKEN' });
  });

  it('binds the username at the first join: impersonation is refused on join, leave and delete too', async () => {
    const a = await connect();
    const { roomId } = await createRoom(a);
    await requestJoin(a, roomId, 'alice');
    expect((await requestJoin(a, roomId, 'carol')).data.error_code).toBe('UNAUTHORIZED');
    expect((await a.request('leave_room', { room_id: roomId, username: 'carol' }, 'error')).data.error_code).toBe('UNAUTHORIZED');
    expect((await a.request('delete_room', { room_id: roomId, username: 'carol' }, 'delete_room_failed')).data.error_code).toBe('UNAUTHORIZED');
  });

  it('leaves: leave_room_success, the others get member_left without reason, the leaver gets nothing more', async () => {
    const a = await connect();
    const b = await connect();
    const { roomId } = await createRoom(a);
    await requestJoin(a, roomId, 'alice');
    await requestJoin(b, roomId, 'bob');
    await a.nextOf('member_joined');
    expect(await b.request('leave_room', { room_id: roomId, username: 'bob' }, 'leave_room_success')).toEqual({ type: 'leave_room_success', data: { room_id: roomId, username: 'bob' } });
    expect(await a.next()).toEqual({ type: 'member_left', data: { room_id: roomId, username: 'bob', member_count: 1, timestamp: expect.any(String) } });
    a.send('send_message', { room_id: roomId, username: 'alice', content: 'after' });
    await a.nextOf('message_sent');
    expect(await b.drain(150)).toEqual([]);
    expect((await b.request('leave_room', { room_id: roomId, username: 'bob' }, 'error')).data).toMatchObject({ success: false, error_code: 'NOT_MEMBER' });
    expect((await b.request('leave_room', { room_id: roomId }, 'error')).data).toMatchObject({ success: false, message: 'Missing room_id or username' });
  });

  it('announces a disconnect as member_left with reason "User disconnected"', async () => {
    const a = await connect();
    const b = await connect();
    const { roomId } = await createRoom(a);
    await requestJoin(a, roomId, 'alice');
    await requestJoin(b, roomId, 'bob');
    await a.nextOf('member_joined');
    await b.close();
    expect(await a.next()).toEqual({ type: 'member_left', data: { room_id: roomId, username: 'bob', member_count: 1, timestamp: expect.any(String), reason: 'User disconnected' } });
  });

  it('deletes: only the creator; the requester gets initiated then success, members get room_deleted', async () => {
    const a = await connect();
    const b = await connect();
    const { roomId, name } = await createRoom(a);
    await requestJoin(a, roomId, 'alice');
    await requestJoin(b, roomId, 'bob');
    await a.nextOf('member_joined');
    expect((await b.request('delete_room', { room_id: roomId, username: 'bob' }, 'delete_room_failed')).data).toEqual({ room_id: roomId, reason: 'Only the room creator can delete the room', error_code: 'UNAUTHORIZED' });
    expect((await b.request('delete_room', { room_id: 'nope', username: 'bob' }, 'delete_room_failed')).data.error_code).toBe('ROOM_NOT_FOUND');
    expect((await b.request('delete_room', { room_id: roomId }, 'delete_room_failed')).data.error_code).toBe('INVALID_REQUEST');
    a.send('delete_room', { room_id: roomId, username: 'alice' });
    const frames: Frame[] = [];
    for (;;) {
      const f = await a.next();
      frames.push(f);
      if (f.type === 'delete_room_success') break;
    }
    expect(frames[0]).toEqual({ type: 'delete_room_initiated', data: { room_id: roomId, transaction_id: expect.any(String), status: 'in_progress' } });
    const txn = frames[0].data.transaction_id;
    expect(frames.at(-1)!.data).toEqual({ room_id: roomId, transaction_id: txn, message: 'Room deleted successfully' });
    expect(await b.nextOf('delete_room_initiated')).toMatchObject({ data: { room_id: roomId, initiator: 'alice', transaction_id: txn } });
    expect(await b.nextOf('room_deleted')).toEqual({ type: 'room_deleted', data: { room_id: roomId, room_name: name, message: `Room '${name}' has been deleted`, transaction_id: txn } });
    expect((await a.request('list_rooms', undefined, 'rooms_list')).data.rooms.map((r: { room_id: string }) => r.room_id)).not.toContain(roomId);
    expect((await requestJoin(b, roomId, 'bob')).data.error_code).toBe('ROOM_NOT_FOUND');
  });

  it('replays the whole room on a plain join (history_limit: the last N), with the room sequence bounds, and pages older history', async () => {
    const a = await connect();
    const { roomId } = await createRoom(a);
    await requestJoin(a, roomId, 'alice');
    for (let i = 1; i <= 105; i++) a.send('send_message', { room_id: roomId, username: 'alice', content: `n${i}` });
    for (let i = 1; i <= 105; i++) await a.nextOf('message_sent');
    const whole = await connect();
    await requestJoin(whole, roomId, 'carol');
    const all = [];
    for (let i = 0; i < 105; i++) all.push(await whole.next());
    expect(all.map((f) => f.data.sequence_number)).toEqual(Array.from({ length: 105 }, (_, i) => i + 1));
    const b = await connect();
    const jb = await requestJoin(b, roomId, 'bob', { history_limit: 100 });
    expect(jb.data).toMatchObject({ first_sequence: 1, last_sequence: 105 });
    const replay = [];
    for (let i = 0; i < 100; i++) replay.push(await b.next());
    expect(replay.map((f) => f.data.sequence_number)).toEqual(Array.from({ length: 100 }, (_, i) => i + 6));
    const page = await b.request('get_history', { room_id: roomId, before_sequence: 6, limit: 3 }, 'history');
    expect(page.data.messages.map((m: { content: string }) => m.content)).toEqual(['n3', 'n4', 'n5']);
    expect(page.data).toMatchObject({ has_more: true, first_sequence: 1, last_sequence: 105 });
    await b.close(); // bob reconnects: the name is free once the old connection has closed
    const resume = await connect();
    await requestJoin(resume, roomId, 'bob', { since_sequence: 101 });
    const resumed = [];
    for (let i = 0; i < 4; i++) resumed.push((await resume.next()).data.sequence_number);
    expect(resumed).toEqual([102, 103, 104, 105]);
    expect(await resume.drain(150)).toEqual([]);
  });

  it('makes a retried client_message_id idempotent', async () => {
    const a = await connect();
    const b = await connect();
    const { roomId } = await createRoom(a);
    await requestJoin(a, roomId, 'alice');
    await requestJoin(b, roomId, 'bob');
    const first = await a.request('send_message', { room_id: roomId, username: 'alice', content: 'once', client_message_id: 'c-1' }, 'message_sent');
    const again = await a.request('send_message', { room_id: roomId, username: 'alice', content: 'once', client_message_id: 'c-1' }, 'message_sent');
    expect(again.data).toEqual({ ...first.data, duplicate: true });
    const delivered = (await b.drain(200)).filter((f) => f.type === 'new_message');
    expect(delivered).toHaveLength(1);
  });

  it('answers bad frames with the protocol error frame and keeps the connection and node healthy', async () => {
    const c = await connect();
    c.sendRaw('{not json');
    expect(await c.next()).toEqual({ type: 'error', data: { success: false, message: 'Invalid JSON format', error_code: 'INVALID_JSON' } });
    c.sendRaw('[1,2]');
    expect((await c.next()).data).toMatchObject({ success: false, error_code: 'INVALID_FRAME' });
    c.sendRaw('{"data":{}}');
    expect((await c.next()).data).toEqual({ success: false, message: 'Unknown message type: None', error_code: 'UNKNOWN_TYPE' });
    c.send('fly_to_moon', {});
    expect((await c.next()).data.message).toBe('Unknown message type: fly_to_moon');
    c.sendRaw(Buffer.from(JSON.stringify({ type: 'list_rooms' })), true);
    expect((await c.next()).type).toBe('rooms_list');
    c.send('list_rooms');
    expect((await c.next()).type).toBe('rooms_list');
  });

  it('closes a connection that sends a frame over 1 MiB with 1009, and the node carries on', async () => {
    const c = await connect();
    const other = await connect();
    c.sendRaw('x'.repeat(1024 * 1024 + 10));
    expect(await c.closed).toBe(1009);
    expect((await other.request('list_rooms', undefined, 'rooms_list')).type).toBe('rooms_list');
  });

  it('serves /health (200 with details) and HEAD / for probes', async () => {
    const node = cluster.node(1);
    expect(await httpStatus(`${node.httpUrl}/`, 'HEAD')).toBe(200);
    const res = await fetch(`${node.httpUrl}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; details: Record<string, unknown> };
    expect(body.status).toBe('ok');
    expect(Object.keys(body.details).sort()).toEqual(['clients', 'disk', 'failover', 'peers', 'store', 'xmlrpc']);
  });

  it('logs where it listens', () => {
    expect(cluster.node(1).output).toMatch(/WebSocket server listening on ws:\/\/127\.0\.0\.1:\d+/);
    expect(cluster.node(1).output).toMatch(/XML-RPC server listening on 127\.0\.0\.1:\d+/);
  });
});
