import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { NodeProcess } from '../src/cluster/node-process';
import { readRooms, type StoredMessage } from './durability/node-store';
import { eventually } from './support/cluster';
import { createRoom, join, received, receivedUpTo, sendSequential, useCluster } from './support/rooms';
import type { TestClient } from './support/test-client';

/** The room's log on a node's disk: how many entries of each kind it keeps (read-only, safe while it runs). */
function logKinds(node: NodeProcess, roomId: string): Record<string, number> {
  const db = new DatabaseSync(path.join(node.env.DATA_DIR, 'chat.db'), { readOnly: true, timeout: 2000 });
  try {
    const rows = db.prepare('SELECT kind, count(*) AS n FROM log_entries WHERE room_id = ? GROUP BY kind').all(roomId) as { kind: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.kind, Number(r.n)]));
  } finally {
    db.close();
  }
}

/** The room's message entries in a node's log, in order: their sequence and payload as stored. */
function messageEntries(node: NodeProcess, roomId: string): { sequence: number; bytes: number; data: Record<string, unknown> }[] {
  const db = new DatabaseSync(path.join(node.env.DATA_DIR, 'chat.db'), { readOnly: true, timeout: 2000 });
  try {
    const rows = db.prepare("SELECT sequence, data FROM log_entries WHERE room_id = ? AND kind = 'message' ORDER BY idx").all(roomId) as { sequence: number; data: string }[];
    return rows.map((r) => ({ sequence: Number(r.sequence), bytes: r.data.length, data: JSON.parse(r.data) as Record<string, unknown> }));
  } finally {
    db.close();
  }
}

/**
 * Every message entry of the room in the node's log: below `firstKept` only its metadata (no
 * content, marked trimmed, its message_id kept), from there on the whole message.
 */
function expectLogTrimmedBelow(node: NodeProcess, roomId: string, firstKept: number, messages: StoredMessage[], username: string): void {
  const entries = messageEntries(node, roomId);
  expect(entries.map((e) => e.sequence)).toEqual(Array.from({ length: entries.length }, (_, i) => i + 1));
  const byId = new Map(messages.map((m) => [m.sequence_number, m]));
  for (const e of entries) {
    if (e.sequence < firstKept) {
      expect({ node: node.spec.nodeId, sequence: e.sequence, data: e.data }).toEqual({ node: node.spec.nodeId, sequence: e.sequence, data: { message_id: expect.any(String), username, timestamp: expect.any(String), client_message_id: null, trimmed: true } });
      expect(e.bytes).toBeLessThan(200);
      if (byId.has(e.sequence)) expect(e.data.message_id).toBe(byId.get(e.sequence)!.message_id);
    } else {
      expect({ node: node.spec.nodeId, sequence: e.sequence, content: e.data.content, trimmed: e.data.trimmed }).toEqual({ node: node.spec.nodeId, sequence: e.sequence, content: byId.get(e.sequence)?.content ?? expect.any(String), trimmed: undefined });
    }
  }
}

/**
 * Retention through the room's log: with MAX_MESSAGES_PER_ROOM=10, the host proposes trim entries
 * and every node's store ends with exactly the same newest 10 messages at their sequence numbers;
 * clients joining later see the history start at 16.
 */
describe('message retention across three nodes (MAX_MESSAGES_PER_ROOM=10)', () => {
  const ctx = useCluster(3, { MAX_MESSAGES_PER_ROOM: '10', RETENTION_INTERVAL: '0.3' });
  const nodes = () => [1, 2, 3].map((n) => ctx.cluster.node(n));
  let roomId: string;
  let sent: StoredMessage[];
  /** What each room holds at the end of the test that wrote to it last. */
  let mainKept: StoredMessage[] = [];
  let catchUpRoom = '';
  let catchUpKept: StoredMessage[] = [];

  /** Waits until every node's chat.db holds exactly `expected` for the room (and says so when it never does). */
  const everyNodeHolds = async (expected: StoredMessage[], room = roomId, which = nodes()) => {
    let seen = '';
    try {
      await eventually(() => {
        const copies = which.map((n) => readRooms(n, [room])[0]);
        seen = JSON.stringify(copies.map((c) => ({ node: c.node, last: c.room?.last_sequence, seqs: c.messages.map((m) => m.sequence_number) })));
        return copies.every((c) => c.room?.last_sequence === expected.at(-1)!.sequence_number && JSON.stringify(c.messages) === JSON.stringify(expected));
      }, 20000, 100);
    } catch (e) {
      throw new Error(`${(e as Error).message}; the nodes hold ${seen}`);
    }
  };

  beforeAll(async () => {
    const alice = await ctx.open(1);
    roomId = await createRoom(alice, `retention-${Date.now()}`, 'alice');
    await join(alice, roomId, 'alice');
    const acks = await sendSequential(alice, roomId, 'alice', 25, 'kept-or-not');
    expect(acks.map((a) => a.data.sequence_number)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    const shown = await receivedUpTo(alice, roomId, 25);
    sent = shown.map((m) => ({ sequence_number: m.sequence_number, message_id: m.message_id, content: m.content, client_message_id: null }));
  }, 60000);

  it('every node\'s store ends with exactly the same last 10 messages, at their sequence numbers; the log keeps every entry, without the removed ones\' content', async () => {
    await everyNodeHolds(sent.slice(15));
    for (const node of nodes()) {
      const kinds = logKinds(node, roomId);
      expect(kinds.message).toBe(25); // the log still holds an entry per message (it is not compacted)
      expect(kinds.trim).toBeGreaterThanOrEqual(1); // removed by a committed entry, on every node
      expectLogTrimmedBelow(node, roomId, 16, sent, 'alice'); // stripped in the write that removed the rows
    }
  }, 30000);

  it('a new client on any node joins at first_sequence 16 and is replayed those 10 messages; get_history pages them', async () => {
    await everyNodeHolds(sent.slice(15));
    for (const n of [1, 2, 3]) {
      const client: TestClient = await ctx.open(n);
      const joined = await join(client, roomId, `reader${n}`);
      expect(joined.data).toMatchObject({ room_id: roomId, first_sequence: 16, last_sequence: 25 });
      const replay = await receivedUpTo(client, roomId, 25);
      expect(replay.map((m) => [m.sequence_number, m.message_id, m.content])).toEqual(sent.slice(15).map((m) => [m.sequence_number, m.message_id, m.content]));

      const back = await client.request('get_history', { room_id: roomId, limit: 50 }, 'history', 'history_error');
      expect(back.type).toBe('history');
      expect(back.data).toMatchObject({ first_sequence: 16, last_sequence: 25, has_more: false });
      expect(back.data.messages.map((m: { sequence_number: number }) => m.sequence_number)).toEqual(Array.from({ length: 10 }, (_, i) => 16 + i));

      const older = await client.request('get_history', { room_id: roomId, before_sequence: 20, limit: 3 }, 'history', 'history_error');
      expect(older.data).toMatchObject({ first_sequence: 16, has_more: true });
      expect(older.data.messages.map((m: { sequence_number: number }) => m.sequence_number)).toEqual([17, 18, 19]);
      const oldest = await client.request('get_history', { room_id: roomId, before_sequence: 17, limit: 50 }, 'history', 'history_error');
      expect(oldest.data).toMatchObject({ first_sequence: 16, has_more: false });
      expect(oldest.data.messages.map((m: { sequence_number: number }) => m.sequence_number)).toEqual([16]);

      const forward = await client.request('get_history', { room_id: roomId, after_sequence: 0, limit: 50 }, 'history', 'history_error');
      expect(forward.data.messages.map((m: { sequence_number: number }) => m.sequence_number)).toEqual(Array.from({ length: 10 }, (_, i) => 16 + i));
    }
  }, 60000);

  it('keeps trimming as the room goes on: the next messages take the next numbers, and the oldest go everywhere', async () => {
    const bob = await ctx.open(2); // through a node that does not host the room
    await join(bob, roomId, 'bob');
    const acks = await sendSequential(bob, roomId, 'bob', 3, 'later');
    expect(acks.map((a) => a.data.sequence_number)).toEqual([26, 27, 28]);
    const shown = await receivedUpTo(bob, roomId, 28);
    const later = shown.filter((m) => m.sequence_number > 25).map((m) => ({ sequence_number: m.sequence_number, message_id: m.message_id, content: m.content, client_message_id: null }));
    mainKept = [...sent.slice(18), ...later];
    await everyNodeHolds(mainKept);
    for (const node of nodes()) expectLogTrimmedBelow(node, roomId, 19, [...sent, ...later], 'alice');
  }, 60000);

  it('a node that was down catches up by replaying the log, trims included, and ends with the same messages', async () => {
    const node3 = ctx.cluster.node(3);
    await node3.stop('SIGKILL');
    const carol = await ctx.open(1);
    const room = await createRoom(carol, `retention-catch-up-${Date.now()}`, 'carol');
    await join(carol, room, 'carol');
    await sendSequential(carol, room, 'carol', 25, 'while-node3-was-down');
    const shown = (await receivedUpTo(carol, room, 25)).map((m) => ({ sequence_number: m.sequence_number, message_id: m.message_id, content: m.content, client_message_id: null }));
    await everyNodeHolds(shown.slice(15), room, [ctx.cluster.node(1), ctx.cluster.node(2)]);
    for (const node of [ctx.cluster.node(1), ctx.cluster.node(2)]) expectLogTrimmedBelow(node, room, 16, shown, 'carol');
    await node3.start(); // the host sends it the stripped entries: it counts them and stores nothing of them
    await everyNodeHolds(shown.slice(15), room);
    expect(logKinds(node3, room)).toMatchObject({ message: 25, trim: expect.any(Number) });
    for (const node of nodes()) expectLogTrimmedBelow(node, room, 16, shown, 'carol');
    catchUpRoom = room;
    catchUpKept = shown.slice(15);
  }, 90000);

  it('a node back with an empty data directory learns both rooms from the stripped logs and ends with the same messages; a reader there sees only whole ones', async () => {
    expect(catchUpRoom).not.toBe('');
    const node3 = ctx.cluster.node(3);
    await node3.stop('SIGKILL');
    for (const entry of fs.readdirSync(node3.env.DATA_DIR)) fs.rmSync(path.join(node3.env.DATA_DIR, entry), { recursive: true, force: true });
    await node3.start();
    await everyNodeHolds(catchUpKept, catchUpRoom);
    await everyNodeHolds(mainKept);
    expectLogTrimmedBelow(node3, roomId, 19, [...sent, ...mainKept], 'alice');
    expectLogTrimmedBelow(node3, catchUpRoom, 16, catchUpKept, 'carol');

    const reader = await ctx.open(3);
    const joined = await join(reader, catchUpRoom, 'reader-after-wipe');
    expect(joined.data).toMatchObject({ first_sequence: 16, last_sequence: 25 });
    await receivedUpTo(reader, catchUpRoom, 25);
    const shown = received(reader, catchUpRoom);
    expect(shown.map((m) => [m.sequence_number, m.message_id, m.content])).toEqual(catchUpKept.map((m) => [m.sequence_number, m.message_id, m.content]));
    expect(shown.filter((m) => typeof m.content !== 'string' || m.content === '')).toEqual([]);
  }, 120000);
});
