import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ClientTokens } from '../src/common/auth/client-tokens';
import type { NodeProcess } from '../src/cluster/node-process';
import { eventually, meshHealthy } from './support/cluster';
import { createRoom, join, receivedUpTo, useCluster } from './support/rooms';
import { ClientPool, type Frame, type TestClient } from './support/test-client';

const SECRET = 'e2e-read-markers-secret-0123456789abcdef';
const tokens = new ClientTokens(SECRET);

/** A user's read marker as a node's chat.db holds it (read-only, safe while the node runs). */
function storedMarker(node: NodeProcess, roomId: string, username: string): number {
  const db = new DatabaseSync(path.join(node.env.DATA_DIR, 'chat.db'), { readOnly: true, timeout: 2000 });
  try {
    const row = db.prepare('SELECT sequence_number AS s FROM read_markers WHERE room_id = ? AND username = ?').get(roomId, username) as { s: number } | undefined;
    return row ? Number(row.s) : 0;
  } finally {
    db.close();
  }
}

/**
 * Read markers and search on three real nodes in token mode (one user, several connections). The
 * room is hosted by node3, where ann created it; ann is also connected through node2, carol writes
 * through node2. Marks through node2 are forwarded to node3 and applied on every node.
 */
describe('read markers and message search across three nodes', () => {
  const ctx = useCluster(3, { AUTH_MODE: 'token', AUTH_SECRET: SECRET });
  const pool = new ClientPool();
  const node = (n: number) => ctx.cluster.node(n);
  const open = async (n: number, user: string) => pool.connect(`${node(n).url}?token=${encodeURIComponent(await tokens.mint(user, '1h'))}`);
  let roomId: string;
  let annOn2: TestClient;
  let annOn3: TestClient;
  let carol: TestClient;
  let lastSequence = 0;

  const send = async (content: string): Promise<Frame['data']> => {
    const reply = await carol.request('send_message', { room_id: roomId, username: 'carol', content }, 'message_sent', 'message_error');
    if (reply.type !== 'message_sent') throw new Error(`send failed: ${JSON.stringify(reply.data)}`);
    lastSequence = reply.data.sequence_number;
    return reply.data;
  };
  const markRead = (c: TestClient, sequence: number) => c.request('mark_read', { room_id: roomId, username: 'ann', sequence_number: sequence }, 'mark_read_success', 'error');
  const search = (c: TestClient, username: string, query: string, extra: Record<string, unknown> = {}) =>
    c.request('search_messages', { room_id: roomId, username, query, ...extra }, 'search_results', 'error');
  const found = async (c: TestClient, username: string, query: string) => ((await search(c, username, query)).data.results as { message_id: string }[]).map((r) => r.message_id);
  const ourRoom = (rooms: { room_id: string }[]) => rooms.find((r) => r.room_id === roomId) as Record<string, unknown> | undefined;

  beforeAll(async () => {
    annOn3 = await open(3, 'ann');
    roomId = await createRoom(annOn3, 'reads', 'ann');
    await join(annOn3, roomId, 'ann');
    annOn2 = await open(2, 'ann');
    await join(annOn2, roomId, 'ann');
    carol = await open(2, 'carol');
    await join(carol, roomId, 'carol');
  });
  afterAll(() => pool.closeAll());

  it("a mark through node2 moves ann's marker for both her connections; node3's list_rooms and a new join there agree", async () => {
    for (let i = 1; i <= 5; i++) await send(`message ${i}`);
    await Promise.all([receivedUpTo(annOn2, roomId, lastSequence), receivedUpTo(annOn3, roomId, lastSequence)]);
    const target = lastSequence - 2;
    const answer = await markRead(annOn2, target);
    expect(answer.type).toBe('mark_read_success');
    expect(answer.data).toEqual({ room_id: roomId, username: 'ann', sequence_number: target, last_read: target, unread_count: 2 });
    // the requester's own event came first
    const own = annOn2.frames.findIndex((f) => f.type === 'read_marker');
    expect(own).toBeGreaterThanOrEqual(0);
    expect(own).toBeLessThan(annOn2.frames.indexOf(answer));
    await eventually(() => annOn3.frames.some((f) => f.type === 'read_marker' && f.data.sequence_number === target), 5000);
    expect(carol.frames.filter((f) => f.type === 'read_marker')).toEqual([]);

    const listed = ourRoom((await annOn3.request('list_rooms', {}, 'rooms_list')).data.rooms);
    expect(listed).toMatchObject({ last_read: target, unread_count: 2 });
    const discovered = ourRoom((await annOn2.request('discover_rooms', {}, 'global_rooms_list')).data.rooms);
    expect(discovered).toMatchObject({ last_read: target, unread_count: 2 });
    const thirdTab = await open(3, 'ann');
    expect((await join(thirdTab, roomId, 'ann')).data).toMatchObject({ last_read: target, unread_count: 2 });
    // carol has marked nothing: everything is unread for her
    expect(ourRoom((await carol.request('list_rooms', {}, 'rooms_list')).data.rooms)).toBeUndefined(); // node2 hosts nothing
    expect(ourRoom((await carol.request('discover_rooms', {}, 'global_rooms_list')).data.rooms)).toMatchObject({ last_read: 0, unread_count: 5 });
  });

  it('a lower mark is acknowledged with the marker as it is and writes nothing; deleted messages are not unread', async () => {
    const before = storedMarker(node(3), roomId, 'ann');
    const events = annOn3.frames.filter((f) => f.type === 'read_marker').length;
    const answer = await markRead(annOn3, 1);
    expect(answer.data).toMatchObject({ sequence_number: before, last_read: before, unread_count: 2 });
    const gone = await send('to be deleted');
    expect((await carol.request('delete_message', { room_id: roomId, username: 'carol', message_id: gone.message_id }, 'delete_message_success', 'error')).type).toBe('delete_message_success');
    expect((await markRead(annOn3, before)).data).toMatchObject({ unread_count: 2 });
    expect(annOn3.frames.filter((f) => f.type === 'read_marker')).toHaveLength(events);
  });

  it('search finds a message sent through another node, the edited text and not the old, no deleted message, newest first with paging', async () => {
    const fox = await send('the quick brown fox');
    const pie = await send('apple pie for dessert');
    const tart = await send('cherry tart for dessert');
    expect((await carol.request('edit_message', { room_id: roomId, username: 'carol', message_id: pie.message_id, content: 'banana split for dessert' }, 'edit_message_success', 'error')).type).toBe('edit_message_success');
    expect((await carol.request('delete_message', { room_id: roomId, username: 'carol', message_id: tart.message_id }, 'delete_message_success', 'error')).type).toBe('delete_message_success');
    // node3 answers from its own store once it has applied them
    await eventually(async () => (await found(annOn3, 'ann', 'banana')).length === 1 && (await found(annOn3, 'ann', 'cherry')).length === 0, 5000, 100);
    expect(await found(annOn3, 'ann', 'FOX quick')).toEqual([fox.message_id]);
    expect(await found(annOn3, 'ann', 'apple')).toEqual([]);
    expect((await search(annOn3, 'ann', 'dessert')).data.results).toEqual([
      { sequence_number: pie.sequence_number, message_id: pie.message_id, username: 'carol', content: 'banana split for dessert', timestamp: pie.timestamp, edited_at: expect.any(String), snippet: 'banana split for «dessert»' },
    ]);
    // "message 1" .. "message 5": newest first, two a page
    const newest = await search(annOn3, 'ann', 'message', { limit: 2 });
    expect(newest.data.results.map((r: { content: string }) => r.content)).toEqual(['message 5', 'message 4']);
    expect(newest.data.next_before_sequence).toBe(4);
    const older = await search(annOn3, 'ann', 'message', { before_sequence: newest.data.next_before_sequence });
    expect(older.data.results.map((r: { content: string }) => r.content)).toEqual(['message 3', 'message 2', 'message 1']);
    expect(older.data.next_before_sequence).toBeNull();
    // FTS5 syntax in a query is only text
    expect((await search(annOn3, 'ann', 'NOT fox" OR (')).type).toBe('search_results');
  });

  it('refuses a non-member, a query with nothing to search and a limit over 100, in the error frame', async () => {
    const dave = await open(1, 'dave');
    expect((await search(dave, 'dave', 'fox')).data).toMatchObject({ error_code: 'NOT_MEMBER', request: 'search_messages', room_id: roomId });
    expect((await search(annOn2, 'ann', '... ?!')).data).toMatchObject({ error_code: 'INVALID_REQUEST', request: 'search_messages' });
    expect((await search(annOn2, 'ann', 'fox', { limit: 101 })).data).toMatchObject({ error_code: 'INVALID_REQUEST' });
    expect((await search(annOn2, 'carol', 'fox')).data).toMatchObject({ error_code: 'UNAUTHORIZED' });
    expect((await dave.request('mark_read', { room_id: roomId, username: 'dave', sequence_number: 1 }, 'mark_read_success', 'error')).data).toMatchObject({ error_code: 'NOT_MEMBER', request: 'mark_read' });
  });

  it('a marker made while node1 was down reaches node1 once it is back', async () => {
    await node(1).stop('SIGKILL');
    await send('while node1 is down');
    expect((await markRead(annOn2, lastSequence)).data).toMatchObject({ last_read: lastSequence, unread_count: 0 });
    await node(1).start();
    await meshHealthy(ctx.cluster.nodes);
    await eventually(() => storedMarker(node(1), roomId, 'ann') === lastSequence, 15000, 100);
  });

  it('a marker acknowledged right before its host is SIGKILLed is on the new host', async () => {
    await send('one more');
    const acknowledged = lastSequence;
    expect((await markRead(annOn2, acknowledged)).data).toMatchObject({ last_read: acknowledged });
    await node(3).stop('SIGKILL');
    const fresh = await open(2, 'ann');
    // retried while a new host is elected; the join names it
    const joined = await eventually(async () => {
      const reply = await join(fresh, roomId, 'ann');
      return reply.data.admin_node !== 'node3' ? reply : null;
    }, 20000, 200);
    expect(joined!.data).toMatchObject({ last_read: acknowledged, unread_count: 0 });
    const host = Number(String(joined!.data.admin_node).replace('node', ''));
    expect(storedMarker(node(host), roomId, 'ann')).toBe(acknowledged);
  });
});
