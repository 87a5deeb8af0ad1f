// Client-side helpers of the e2e suites: connect, create and join rooms (retrying a refusal that
// says to retry, as clients do during a host switch), send, collect what arrived, and a barrier
// that replaces "wait a while, then expect nothing more arrived".
import type { ChatMessage } from '../../src/common/protocol/client-wire';
import type { NodeProcess } from '../../src/cluster/node-process';
import { eventually, sleep, TestCluster } from './cluster';
import { ClientPool, TestClient, type Frame } from './test-client';

/** A new_message payload, as the server defines it. */
export type Msg = ChatMessage;

export const connect = (node: NodeProcess) => TestClient.connect(node.url);

/** How long the helpers below retry a request refused as retryable (a failover or a majority being confirmed). */
const RETRY_FOR_MS = 10000;

const isRetryable = (f: Frame) => f.data?.retryable === true || /majority|retry/i.test(String(f.data?.message ?? ''));

/** Sends `request` until its reply is not a retryable refusal, as a client does during a host switch (bounded). */
export async function retrying(request: () => Promise<Frame>): Promise<Frame> {
  const deadline = Date.now() + RETRY_FOR_MS;
  for (;;) {
    const reply = await request();
    if (!isRetryable(reply) || Date.now() > deadline) return reply;
    await sleep(Number(reply.data?.retry_after_ms ?? 200));
  }
}

/** One create_room; resolves with room_created as it came (a refusal too). */
const requestCreate = (client: TestClient, roomName: string, creatorId: string, description?: string | null) =>
  client.request('create_room', { room_name: roomName, creator_id: creatorId, ...(description !== undefined ? { description } : {}) }, 'room_created');

/** Creates a room through `client` (the room is hosted by the client's node), retried while refused as retryable; returns its id. */
export async function createRoom(client: TestClient, roomName: string, creatorId: string): Promise<string> {
  const reply = await retrying(() => requestCreate(client, roomName, creatorId));
  if (!reply.data.room_id) throw new Error(`create_room failed: ${JSON.stringify(reply.data)}`);
  return reply.data.room_id as string;
}

let roomNames = 0;

/** One create_room under a fresh name (`<prefix>-N`); the reply as it came (a refusal too), its room id and the name. */
export async function createFreshRoom(client: TestClient, creatorId: string, description: string | null, prefix = 'room'): Promise<{ roomId: string; name: string; reply: Frame }> {
  const name = `${prefix}-${++roomNames}`;
  const reply = await requestCreate(client, name, creatorId, description);
  return { roomId: reply.data.room_id as string, name, reply };
}

/** One join_room; resolves with join_room_success or join_room_error as it came. */
export const requestJoin = (client: TestClient, roomId: string, username: string, extra: Record<string, unknown> = {}): Promise<Frame> =>
  client.request('join_room', { room_id: roomId, username, ...extra }, 'join_room_success', 'join_room_error');

/** join_room (optionally resuming), retried while refused as retryable; returns join_room_success or throws with the error frame. */
export async function join(client: TestClient, roomId: string, username: string, since?: number): Promise<Frame> {
  const reply = await retrying(() => requestJoin(client, roomId, username, since !== undefined ? { since_sequence: since } : {}));
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

let barriers = 0;

/**
 * Sends a marker message to the room through `sender` and waits until every watcher has it: a room's
 * messages reach a socket in sequence order, so whatever was going to arrive before the marker has
 * arrived by then. Returns the marker's sequence number. Use it instead of waiting a while before
 * asserting that nothing more came.
 */
export async function barrier(sender: TestClient, roomId: string, username: string, watchers: TestClient[]): Promise<number> {
  const reply = await sender.request('send_message', { room_id: roomId, username, content: `barrier-${++barriers}` }, 'message_sent', 'message_error');
  if (reply.type !== 'message_sent') throw new Error(`barrier send failed: ${JSON.stringify(reply.data)}`);
  const sequence = reply.data.sequence_number as number;
  await Promise.all(watchers.map((w) => receivedUpTo(w, roomId, sequence)));
  return sequence;
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

/**
 * One real cluster per suite, started before its tests and stopped after them; `open` connects a
 * client to node N that is closed with the cluster.
 */
export function useCluster(count: number, env: Record<string, string> = {}) {
  let cluster: TestCluster | undefined;
  const clients = new ClientPool();
  beforeAll(async () => {
    cluster = await TestCluster.start(count, env);
  });
  afterAll(async () => {
    await clients.closeAll();
    await cluster?.stop();
  });
  return {
    get cluster(): TestCluster {
      if (!cluster) throw new Error('the cluster has not started');
      return cluster;
    },
    open(node: number): Promise<TestClient> {
      return clients.connect(this.cluster.node(node).url);
    },
  };
}
