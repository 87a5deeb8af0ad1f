import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { NodeProcess } from '../src/cluster/node-process';
import { eventually, meshHealthy } from './support/cluster';
import { createRoom, join, received, useCluster } from './support/rooms';
import type { Frame, TestClient } from './support/test-client';

interface StoredRow {
  sequence_number: number;
  message_id: string;
  username: string;
  content: string;
  edited_at: string | null;
  deleted_at: string | null;
}

/** What a node's chat.db holds for the room (read-only, safe while the node runs). */
function storedMessages(node: NodeProcess, roomId: string): StoredRow[] {
  const db = new DatabaseSync(path.join(node.env.DATA_DIR, 'chat.db'), { readOnly: true, timeout: 2000 });
  try {
    const rows = db.prepare('SELECT sequence_number, message_id, username, content, edited_at, deleted_at FROM messages WHERE room_id = ? ORDER BY sequence_number').all(roomId) as unknown as StoredRow[];
    return rows.map((r) => ({ ...r, sequence_number: Number(r.sequence_number) }));
  } finally {
    db.close();
  }
}

/** How many of the room's log entries on a node's disk hold `text` anywhere in their payload. */
function logEntriesHolding(node: NodeProcess, roomId: string, text: string): number {
  const db = new DatabaseSync(path.join(node.env.DATA_DIR, 'chat.db'), { readOnly: true, timeout: 2000 });
  try {
    return Number((db.prepare('SELECT count(*) AS n FROM log_entries WHERE room_id = ? AND instr(data, ?) > 0').get(roomId, text) as { n: number }).n);
  } finally {
    db.close();
  }
}

const logLength = (node: NodeProcess, roomId: string): number => {
  const db = new DatabaseSync(path.join(node.env.DATA_DIR, 'chat.db'), { readOnly: true, timeout: 2000 });
  try {
    return Number((db.prepare('SELECT count(*) AS n FROM log_entries WHERE room_id = ?').get(roomId) as { n: number }).n);
  } finally {
    db.close();
  }
};

/**
 * Edits, deletions and typing notices on three real nodes. The room is hosted by node1 (alice, its
 * creator, is on node1), bob is on node2 and carol on node3: every edit or deletion through node2
 * or node3 is forwarded to node1, written into the room's log and applied on every node.
 */
describe('message edits, deletions and typing across three nodes', () => {
  const ctx = useCluster(3);
  const node = (n: number) => ctx.cluster.node(n);
  let roomId: string;
  let alice: TestClient;
  let bob: TestClient;
  let carol: TestClient;

  const send = async (c: TestClient, username: string, content: string): Promise<Frame['data']> => {
    const reply = await c.request('send_message', { room_id: roomId, username, content }, 'message_sent', 'message_error');
    if (reply.type !== 'message_sent') throw new Error(`send failed: ${JSON.stringify(reply.data)}`);
    return reply.data;
  };
  const edit = (c: TestClient, username: string, messageId: string, content: string) =>
    c.request('edit_message', { room_id: roomId, username, message_id: messageId, content }, 'edit_message_success', 'error');
  const remove = (c: TestClient, username: string, messageId: string) => c.request('delete_message', { room_id: roomId, username, message_id: messageId }, 'delete_message_success', 'error');
  const historyOf = async (c: TestClient): Promise<Frame['data'][]> => (await c.request('get_history', { room_id: roomId, after_sequence: 0, limit: 200 }, 'history', 'history_error')).data.messages;

  beforeAll(async () => {
    alice = await ctx.open(1);
    bob = await ctx.open(2);
    carol = await ctx.open(3);
    roomId = await createRoom(alice, 'edits', 'alice');
    await join(alice, roomId, 'alice');
    await join(bob, roomId, 'bob');
    await join(carol, roomId, 'carol');
  });

  it('an edit made through node2 in a room hosted by node1 reaches node3 as an event, in history and in a new join replay', async () => {
    const sent = await send(bob, 'bob', 'helo wrold');
    const reply = await edit(bob, 'bob', sent.message_id, 'hello world');
    expect(reply.type).toBe('edit_message_success');
    expect(reply.data).toEqual({ room_id: roomId, message_id: sent.message_id, sequence_number: sent.sequence_number, edited_at: expect.any(String) });
    // the editor saw its own event before the answer
    const own = bob.frames.findIndex((f) => f.type === 'message_edited' && f.data.message_id === sent.message_id);
    expect(own).toBeGreaterThanOrEqual(0);
    expect(own).toBeLessThan(bob.frames.indexOf(reply));
    const event = { room_id: roomId, message_id: sent.message_id, sequence_number: sent.sequence_number, username: 'bob', content: 'hello world', edited_at: reply.data.edited_at };
    expect((await carol.nextOf('message_edited')).data).toEqual(event);
    expect((await alice.nextOf('message_edited')).data).toEqual(event);

    const shown = (await historyOf(carol)).find((m) => m.message_id === sent.message_id);
    expect(shown).toMatchObject({ content: 'hello world', edited_at: reply.data.edited_at, sequence_number: sent.sequence_number });
    const dave = await ctx.open(3);
    const joined = await join(dave, roomId, 'dave');
    await eventually(() => received(dave, roomId).length >= joined.data.last_sequence);
    expect(received(dave, roomId).find((m) => m.message_id === sent.message_id)).toMatchObject({ content: 'hello world', edited_at: reply.data.edited_at });
    await dave.close();
  });

  it('the author deletes their message and the creator deletes anyone\'s: everyone gets message_deleted, history keeps a tombstone, no log holds the text', async () => {
    const own = await send(bob, 'bob', 'oops, wrong room');
    const byAuthor = await remove(bob, 'bob', own.message_id);
    expect(byAuthor.type).toBe('delete_message_success');
    expect((await carol.nextOf('message_deleted')).data).toEqual({ room_id: roomId, message_id: own.message_id, sequence_number: own.sequence_number, username: 'bob', deleted_by: 'bob', deleted_at: byAuthor.data.deleted_at });

    const rude = await send(carol, 'carol', 'something rude');
    const byCreator = await remove(alice, 'alice', rude.message_id);
    expect(byCreator.type).toBe('delete_message_success');
    expect((await bob.nextOf('message_deleted')).data).toMatchObject({ message_id: rude.message_id, username: 'carol', deleted_by: 'alice' });
    // a repeat (a client retrying) is answered again and writes nothing
    expect((await remove(alice, 'alice', rude.message_id)).data).toEqual(byCreator.data);

    const history = await historyOf(bob);
    for (const gone of [own, rude]) {
      expect(history.find((m) => m.message_id === gone.message_id)).toEqual({ message_id: gone.message_id, room_id: roomId, username: expect.any(String), content: '', sequence_number: gone.sequence_number, timestamp: gone.timestamp, deleted: true, deleted_at: expect.any(String) });
    }
    await eventually(() => [1, 2, 3].every((n) => storedMessages(node(n), roomId).find((m) => m.message_id === rude.message_id)?.deleted_at));
    for (const n of [1, 2, 3]) {
      expect(logEntriesHolding(node(n), roomId, 'wrong room')).toBe(0);
      expect(logEntriesHolding(node(n), roomId, 'something rude')).toBe(0);
    }
  });

  it('refuses an edit or deletion of another member\'s message, an unknown message, bad content and a room not joined, with the error frame', async () => {
    const mine = await send(bob, 'bob', 'mine');
    const notAuthor = await edit(carol, 'carol', mine.message_id, 'hijacked');
    expect(notAuthor.data).toEqual({ success: false, message: 'Only the author of a message may edit it', error_code: 'NOT_AUTHOR', request: 'edit_message', room_id: roomId, message_id: mine.message_id });
    expect((await remove(carol, 'carol', mine.message_id)).data.error_code).toBe('NOT_AUTHOR');
    // the creator may delete but not edit
    expect((await edit(alice, 'alice', mine.message_id, 'hijacked')).data.error_code).toBe('NOT_AUTHOR');
    expect((await edit(bob, 'bob', '00000000-0000-4000-8000-000000000000', 'x')).data.error_code).toBe('MESSAGE_NOT_FOUND');
    expect((await edit(bob, 'bob', mine.message_id, 'x'.repeat(5001))).data.error_code).toBe('INVALID_CONTENT');
    expect((await edit(bob, 'bob', mine.message_id, '')).data.error_code).toBe('INVALID_CONTENT');
    expect((await bob.request('edit_message', { room_id: roomId, username: 'bob', content: 'no id' }, 'error')).data.error_code).toBe('INVALID_REQUEST');
    const stranger = await ctx.open(2);
    expect((await stranger.request('delete_message', { room_id: roomId, username: 'eve', message_id: mine.message_id }, 'error')).data.error_code).toBe('NOT_MEMBER');
    await stranger.close();
    const shown = (await historyOf(carol)).find((m) => m.message_id === mine.message_id);
    expect(shown).toMatchObject({ content: 'mine' });
    expect(shown?.edited_at).toBeUndefined();
  });

  it('takes no sequence number: the messages sent between edits and deletions stay contiguous, on every node\'s disk alike', async () => {
    const first = await send(alice, 'alice', 'one');
    await edit(alice, 'alice', first.message_id, 'one (edited)');
    const second = await send(bob, 'bob', 'two');
    await remove(bob, 'bob', second.message_id);
    const third = await send(carol, 'carol', 'three');
    expect([second.sequence_number, third.sequence_number]).toEqual([first.sequence_number + 1, first.sequence_number + 2]);
    const seen = received(carol, roomId).map((m) => m.sequence_number);
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i + 1));
    await eventually(() => [2, 3].every((n) => JSON.stringify(storedMessages(node(n), roomId)) === JSON.stringify(storedMessages(node(1), roomId))));
    const rows = storedMessages(node(1), roomId);
    expect(rows.map((r) => r.sequence_number)).toEqual(Array.from({ length: rows.length }, (_, i) => i + 1));
  });

  it('typing reaches the members on the other nodes, not the typer, at most once a second, and is never stored', async () => {
    const logBefore = logLength(node(1), roomId);
    const mark = carol.frames.length;
    carol.send('typing', { room_id: roomId, username: 'carol' });
    const notice = { room_id: roomId, username: 'carol', expires_in_ms: expect.any(Number) };
    expect((await bob.nextOf('user_typing')).data).toEqual(notice);
    expect((await alice.nextOf('user_typing')).data).toEqual(notice);
    carol.send('typing', { room_id: roomId, username: 'carol' }); // within the second: dropped silently
    expect((await bob.drain(500)).filter((f) => f.type === 'user_typing')).toEqual([]);
    await eventually(async () => {
      carol.send('typing', { room_id: roomId, username: 'carol' });
      return (await bob.drain(200)).some((f) => f.type === 'user_typing');
    }, 3000, 1);
    expect(carol.frames.slice(mark).filter((f) => f.type === 'user_typing' || f.type === 'error')).toEqual([]);
    expect(logLength(node(1), roomId)).toBe(logBefore);
    expect(JSON.stringify(await historyOf(alice))).not.toContain('typing');
  });

  it('a node that was down during an edit and a deletion has both once it is back (a message it never stored as its tombstone)', async () => {
    const kept = await send(bob, 'bob', 'before the outage');
    await node(3).stop('SIGKILL');
    expect((await edit(bob, 'bob', kept.message_id, 'edited during the outage')).type).toBe('edit_message_success');
    const unseen = await send(bob, 'bob', 'never seen by node3');
    expect((await remove(bob, 'bob', unseen.message_id)).type).toBe('delete_message_success');
    await node(3).start();
    await meshHealthy(ctx.cluster.nodes);
    await eventually(() => {
      const rows = storedMessages(node(3), roomId);
      return rows.find((r) => r.message_id === kept.message_id)?.content === 'edited during the outage' && rows.some((r) => r.message_id === unseen.message_id);
    }, 15000);
    const rows = storedMessages(node(3), roomId);
    expect(rows.find((r) => r.message_id === unseen.message_id)).toMatchObject({ sequence_number: unseen.sequence_number, content: '', deleted_at: expect.any(String) });
    expect(rows).toEqual(storedMessages(node(1), roomId));
    expect(logEntriesHolding(node(3), roomId, 'never seen by node3')).toBe(0);
  });

  it('an edit acknowledged right before its host is killed is on the new host', async () => {
    const rejoined = await ctx.open(2);
    await join(rejoined, roomId, 'bob2');
    const sent = await send(rejoined, 'bob2', 'survive me');
    expect((await edit(rejoined, 'bob2', sent.message_id, 'survived')).type).toBe('edit_message_success');
    await node(1).stop('SIGKILL');
    const reader = await ctx.open(3);
    // retried while a new host is elected; the join names it
    const newHost = await eventually(async () => {
      const reply = await join(reader, roomId, 'reader');
      return reply.data.admin_node !== 'node1' ? String(reply.data.admin_node) : null;
    }, 20000, 200);
    const host = Number(String(newHost).replace('node', ''));
    expect([2, 3]).toContain(host);
    const onHost = await ctx.open(host);
    await join(onHost, roomId, 'checker');
    const history = (await onHost.request('get_history', { room_id: roomId, after_sequence: 0, limit: 200 }, 'history')).data.messages as Frame['data'][];
    expect(history.find((m) => m.message_id === sent.message_id)).toMatchObject({ content: 'survived', edited_at: expect.any(String) });
    expect(storedMessages(node(host), roomId).find((r) => r.message_id === sent.message_id)).toMatchObject({ content: 'survived', edited_at: expect.any(String) });
  });
});
