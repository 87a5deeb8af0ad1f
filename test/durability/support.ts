import type { ChatMessage } from '../../src/common/protocol/client-wire';
import { TestCluster } from '../support/cluster';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { NodeProcess } from '../../src/cluster/node-process';
import { TestClient, type Frame } from '../support/test-client';
import { eventually } from '../support/cluster';

export { eventually };

/** A new_message payload, as the server defines it. */
export type Msg = ChatMessage;

export const connect = (node: NodeProcess) => TestClient.connect(node.url);

/** How long the helpers below retry a request refused as retryable (a failover or a majority being confirmed). */
const RETRY_FOR_MS = 10000;

const isRetryable = (f: Frame) => f.data?.retryable === true || /majority|retry/i.test(String(f.data?.message ?? ''));

/** Sends `request` until its reply is not a retryable refusal, as a client does during a host switch (bounded). */
async function retrying(request: () => Promise<Frame>): Promise<Frame> {
  const deadline = Date.now() + RETRY_FOR_MS;
  for (;;) {
    const reply = await request();
    if (!isRetryable(reply) || Date.now() > deadline) return reply;
    await new Promise((r) => setTimeout(r, Number(reply.data?.retry_after_ms ?? 200)));
  }
}

/** Creates a room through `client` (the room is hosted by the client's node); returns its id. */
export async function createRoom(client: TestClient, roomName: string, creatorId: string): Promise<string> {
  const reply = await retrying(() => client.request('create_room', { room_name: roomName, creator_id: creatorId }, 'room_created'));
  if (!reply.data.room_id) throw new Error(`create_room failed: ${JSON.stringify(reply.data)}`);
  return reply.data.room_id as string;
}

/** join_room (optionally resuming), retried while refused as retryable; returns join_room_success or throws with the error frame. */
export async function join(client: TestClient, roomId: string, username: string, since?: number): Promise<Frame> {
  const reply = await retrying(() =>
    client.request('join_room', { room_id: roomId, username, ...(since !== undefined ? { since_sequence: since } : {}) }, 'join_room_success', 'join_room_error'),
  );
  if (reply.type !== 'join_room_success') throw new Error(`join_room failed: ${JSON.stringify(reply.data)}`);
  return reply;
}

/** Every new_message of `roomId` this client has received so far (in arrival order). */
export const received = (client: TestClient, roomId: string): Msg[] =>
  client.frames.filter((f) => f.type === 'new_message' && f.data.room_id === roomId).map((f) => f.data as Msg);

export const framesOf = (client: TestClient, type: string): Frame[] => client.frames.filter((f) => f.type === type);

/** Waits until the client has received new_message up to `sequence` in `roomId`. */
export function receivedUpTo(client: TestClient, roomId: string, sequence: number, timeoutMs = 10000): Promise<Msg[]> {
  return eventually<Msg[] | null>(() => {
    const got = received(client, roomId);
    return got.length > 0 && got[got.length - 1].sequence_number >= sequence ? got : null;
  }, timeoutMs) as Promise<Msg[]>;
}

/** Sends `n` messages one after the other, each after the previous message_sent. */
export async function sendSequential(client: TestClient, roomId: string, username: string, n: number, prefix: string): Promise<Frame[]> {
  const acks: Frame[] = [];
  for (let i = 0; i < n; i++) {
    const reply = await client.request('send_message', { room_id: roomId, username, content: `${prefix}-${i}` }, 'message_sent', 'message_error');
    if (reply.type !== 'message_sent') throw new Error(`send failed: ${JSON.stringify(reply.data)}`);
    acks.push(reply);
  }
  return acks;
}

/** Sends `n` messages without waiting (the node handles one request per socket at a time) and waits for all acks. */
export async function sendPipelined(client: TestClient, roomId: string, username: string, n: number, prefix: string, timeoutMs = 20000): Promise<Frame[]> {
  const before = framesOf(client, 'message_sent').length + framesOf(client, 'message_error').length;
  for (let i = 0; i < n; i++) client.send('send_message', { room_id: roomId, username, content: `${prefix}-${i}` });
  await eventually(() => framesOf(client, 'message_sent').length + framesOf(client, 'message_error').length - before >= n, timeoutMs);
  const errors = framesOf(client, 'message_error');
  if (errors.length > 0) throw new Error(`send failed: ${JSON.stringify(errors[0].data)}`);
  return framesOf(client, 'message_sent').slice(-n);
}

/** Asserts messages are exactly the sequence numbers from..to, ascending, each once. */
export function expectContiguous(messages: { sequence_number: number }[], from: number, to: number): void {
  const seqs = messages.map((m) => m.sequence_number);
  const want = Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
  expect(seqs).toEqual(want);
}

/** The full history of a room as seen from `node`, by a fresh client joining with since_sequence 0. */
export async function fullHistory(node: NodeProcess, roomId: string, username: string): Promise<{ messages: Msg[]; joined: Frame }> {
  const client = await connect(node);
  try {
    const joined = await join(client, roomId, username, 0);
    const last = joined.data.last_sequence as number;
    const messages = last > 0 ? await receivedUpTo(client, roomId, last) : [];
    return { messages: messages.filter((m) => m.sequence_number <= last), joined };
  } finally {
    await client.close();
  }
}

export interface DbSnapshot {
  rooms: { room_id: string; room_name: string; host_node: string; last_sequence: number; state: string }[];
  messages: (room: string) => { sequence_number: number; message_id: string; content: string }[];
  tombstones: { room_id: string; room_name: string; host_node: string }[];
  members: { room_id: string; username: string; node_id: string }[];
}

/** Reads a (stopped) node's chat.db directly. */
export function readDb(node: NodeProcess): DbSnapshot {
  const file = path.join(node.env.DATA_DIR, 'chat.db');
  const db = new DatabaseSync(file, { readOnly: false });
  try {
    const rooms = db.prepare('SELECT room_id, room_name, host_node, last_sequence, state FROM rooms').all() as unknown as DbSnapshot['rooms'];
    const tombstones = db.prepare('SELECT room_id, room_name, host_node FROM tombstones').all() as unknown as DbSnapshot['tombstones'];
    const members = db.prepare('SELECT room_id, username, node_id FROM members').all() as unknown as DbSnapshot['members'];
    const byRoom = new Map<string, { sequence_number: number; message_id: string; content: string }[]>();
    for (const r of rooms) {
      byRoom.set(
        r.room_id,
        db.prepare('SELECT sequence_number, message_id, content FROM messages WHERE room_id = ? ORDER BY sequence_number').all(r.room_id) as never,
      );
    }
    const orphan = Number((db.prepare('SELECT count(*) AS n FROM messages WHERE room_id NOT IN (SELECT room_id FROM rooms)').get() as { n: number }).n);
    if (orphan > 0) throw new Error(`${file}: ${orphan} message(s) of rooms that do not exist`);
    return { rooms: rooms.map((r) => ({ ...r, last_sequence: Number(r.last_sequence) })), messages: (id) => byRoom.get(id) ?? [], tombstones, members };
  } finally {
    db.close();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every running node reports every other running node healthy (shared with the other e2e suites). */
export { meshHealthy } from '../support/cluster';

/**
 * One real cluster per suite, started before its tests and stopped after them; `open` connects a
 * client to node N that is closed with the cluster.
 */
export function useCluster(count: number, env: Record<string, string> = {}) {
  let cluster: TestCluster | undefined;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    cluster = await TestCluster.start(count, env);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await cluster?.stop();
  });
  return {
    get cluster(): TestCluster {
      if (!cluster) throw new Error('the cluster has not started');
      return cluster;
    },
    async open(node: number): Promise<TestClient> {
      const c = await connect(this.cluster.node(node));
      clients.push(c);
      return c;
    },
  };
}
