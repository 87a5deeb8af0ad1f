import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { NodeProcess } from '../../src/cluster/node-process';
import { NetnsLab } from '../support/netns-lab';
import { eventually, meshHealthy, TestCluster } from '../support/cluster';
import { TestClient, type Frame } from '../support/test-client';
import { createRoom, join, sleep } from './support';

/**
 * Failover under real partitions: three nodes on three hosts (network namespaces), links cut in
 * the kernel, clients on every side sending with client_message_ids and retrying what is refused.
 * After healing, every node's database is checked against every acknowledgement and every message
 * a client was shown.
 */

const unavailable = NetnsLab.unavailable();
const describeLab = unavailable ? describe.skip : describe;
if (unavailable) console.warn(`failover partition e2e skipped: ${unavailable}`);

/** After this long cut off from both peers, a host must have stopped acknowledging (2 x FAILOVER_TIMEOUT). */
const FENCE_BOUND_MS = 2000;
/** A failover (detection + promise round + adopting the copy) must be done within this long. */
const FAILOVER_DEADLINE_MS = 10_000;

// --- interim sender and check (to be replaced by fo-faults' failover-ledger.ts) -----------------

interface Ack {
  user: string;
  room: string;
  cmid: string;
  content: string;
  seq: number;
  messageId: string;
  node: number;
  at: number;
}
interface SendError {
  user: string;
  room: string;
  code: string;
  retryable: boolean;
  node: number;
  at: number;
}

/** One client connection sending to one room, one message in flight, retrying with the same client_message_id. */
class RoomSender {
  readonly acks: Ack[] = [];
  readonly errors: SendError[] = [];
  timeouts = 0;
  private k = 0;
  private stopping = false;
  private aborted = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    readonly client: TestClient,
    readonly node: number,
    readonly room: string,
    readonly user: string,
  ) {}

  start(): this {
    this.loop = this.run();
    return this;
  }
  acksSince(t: number): Ack[] {
    return this.acks.filter((a) => a.at >= t);
  }
  errorsSince(t: number): SendError[] {
    return this.errors.filter((e) => e.at >= t);
  }

  /** Stops after the message in flight is acknowledged (retrying it as long as needed, bounded by the caller). */
  finish(): Promise<void> {
    this.stopping = true;
    return this.loop;
  }

  /** Gives up at once (the test is over, passed or not). */
  abort(): void {
    this.stopping = this.aborted = true;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const cmid = `${this.user}-${this.room.slice(0, 6)}-${this.k++}`;
      const content = `${cmid} from node${this.node}`;
      while (!this.aborted) {
        const from = this.client.frames.length;
        this.client.send('send_message', { room_id: this.room, username: this.user, content, client_message_id: cmid });
        const reply = await this.reply(cmid, from);
        if (reply?.type === 'message_sent') {
          this.acks.push({ user: this.user, room: this.room, cmid, content, seq: reply.data.sequence_number, messageId: reply.data.message_id, node: this.node, at: Date.now() });
          break;
        }
        if (reply) this.errors.push({ user: this.user, room: this.room, code: reply.data.error_code, retryable: reply.data.retryable === true, node: this.node, at: Date.now() });
        else this.timeouts++;
        await sleep(Math.min(500, Math.max(50, Number(reply?.data.retry_after_ms) || 100)));
      }
      await sleep(20);
    }
  }

  private async reply(cmid: string, from: number): Promise<Frame | null> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && this.client.closeCode === null) {
      const frames = this.client.frames;
      for (let i = from; i < frames.length; i++) {
        const f = frames[i];
        if (f.type === 'message_sent' && f.data.client_message_id === cmid) return f;
        if (f.type === 'message_error' && f.data.room_id === this.room) return f;
      }
      from = frames.length;
      await sleep(5);
    }
    return null;
  }
}

interface StoredMessage {
  sequence_number: number;
  message_id: string;
  content: string;
  client_message_id: string | null;
}
interface StoredRoom {
  host_node: string;
  host_epoch: number;
}

function readStore(node: NodeProcess, roomId: string): { room: StoredRoom | undefined; messages: StoredMessage[] } {
  const db = new DatabaseSync(path.join(node.env.DATA_DIR, 'chat.db'), { readOnly: true });
  try {
    const room = db.prepare('SELECT host_node, host_epoch FROM rooms WHERE room_id = ?').get(roomId) as unknown as StoredRoom | undefined;
    const messages = db.prepare('SELECT sequence_number, message_id, content, client_message_id FROM messages WHERE room_id = ? ORDER BY sequence_number').all(roomId) as unknown as StoredMessage[];
    return { room: room && { host_node: room.host_node, host_epoch: Number(room.host_epoch) }, messages: messages.map((m) => ({ ...m, sequence_number: Number(m.sequence_number) })) };
  } finally {
    db.close();
  }
}

/** What every node's store must show once healed; returns the problems found (empty = consistent). */
function checkStores(nodes: NodeProcess[], rooms: string[], senders: RoomSender[], clients: TestClient[]): string[] {
  const problems: string[] = [];
  for (const room of rooms) {
    const stores = nodes.map((n) => readStore(n, room));
    const want = stores[0].messages.map((m) => `${m.sequence_number}|${m.message_id}|${m.content}`);
    stores.forEach((s, i) => {
      const got = s.messages.map((m) => `${m.sequence_number}|${m.message_id}|${m.content}`);
      if (got.join('\n') !== want.join('\n')) problems.push(`node${i + 1} holds ${got.length} messages of ${room}, node1 ${want.length}; first difference at ${got.findIndex((g, j) => g !== want[j])}`);
      if (s.room?.host_node !== stores[0].room?.host_node || s.room?.host_epoch !== stores[0].room?.host_epoch) problems.push(`node${i + 1} says ${room} is hosted by ${JSON.stringify(s.room)}, node1 ${JSON.stringify(stores[0].room)}`);
      s.messages.forEach((m, j) => m.sequence_number !== j + 1 && problems.push(`node${i + 1}: ${room} #${j + 1} is numbered ${m.sequence_number}`));
    });
    const bySeq = new Map(stores[0].messages.map((m) => [m.sequence_number, m]));
    const count = new Map<string, number>();
    for (const m of stores[0].messages) count.set(m.content, (count.get(m.content) ?? 0) + 1);
    for (const a of senders.flatMap((s) => s.acks).filter((a) => a.room === room)) {
      const m = bySeq.get(a.seq);
      if (m?.message_id !== a.messageId || m.content !== a.content) problems.push(`${a.cmid} acknowledged as #${a.seq} via node${a.node}, stored there: ${JSON.stringify(m)}`);
      if (count.get(a.content) !== 1) problems.push(`${a.cmid} stored ${count.get(a.content) ?? 0} times`);
    }
    for (const c of clients) {
      for (const f of c.frames.filter((x) => x.type === 'new_message' && x.data.room_id === room)) {
        if (bySeq.get(f.data.sequence_number)?.message_id !== f.data.message_id) problems.push(`a client was shown #${f.data.sequence_number} ${f.data.message_id} in ${room}, which the stores do not hold`);
      }
    }
  }
  return problems;
}

// --- the scenarios ------------------------------------------------------------------------------

/** (room, epoch) -> every admin_node a client was told for it; more than one is two hosts in one epoch. */
function hostsPerEpoch(clients: TestClient[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const f of clients.flatMap((c) => c.frames).filter((x) => x.type === 'room_host_changed')) {
    const key = `${f.data.room_id}@${f.data.host_epoch}`;
    if (!out.has(key)) out.set(key, new Set());
    out.get(key)!.add(f.data.admin_node);
  }
  return out;
}

/** `work`, or a failure naming `what` once `ms` have passed. */
async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not done within ${ms} ms: ${what}`)), ms)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The distinct kinds of refusal a sender got, e.g. ['ADMIN_NODE_UNAVAILABLE retryable']. */
const refusalKinds = (errors: SendError[]) => [...new Set(errors.map((e) => `${e.code} ${e.retryable ? 'retryable' : 'final'}`))].sort();
const hostChanges = (c: TestClient, room: string) => c.frames.filter((f) => f.type === 'room_host_changed' && f.data.room_id === room);
const logOf = (n: NodeProcess) => {
  const file = path.join(n.env.LOG_DIR, `${n.spec.nodeId}.log`);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : n.output;
};

describeLab('failover under real network partitions (nodes in network namespaces)', () => {
  jest.setTimeout(45_000);
  let lab: NetnsLab;
  let cluster: TestCluster | undefined;
  let clients: TestClient[] = [];
  let senders: RoomSender[] = [];

  beforeAll(() => {
    lab = NetnsLab.create(3);
  });
  afterEach(async () => {
    for (const s of senders) s.abort();
    lab.heal();
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await cluster?.stop();
    cluster = undefined;
    clients = [];
    senders = [];
  });
  afterAll(() => lab?.destroy());

  async function start(): Promise<TestCluster> {
    cluster = await TestCluster.startIn(lab, { FAILOVER_TIMEOUT: '1', HEARTBEAT_INTERVAL: '0.5', HEARTBEAT_TIMEOUT: '0.5', PEER_CALL_TIMEOUT: '1' });
    return cluster;
  }
  async function open(node: number): Promise<TestClient> {
    const c = await TestClient.connect(cluster!.node(node).url);
    clients.push(c);
    return c;
  }
  /** A new connection on `node` joined to `room` as `user`, sending until finished. */
  async function sender(node: number, room: string, user: string): Promise<RoomSender> {
    const c = await open(node);
    await join(c, room, user);
    const s = new RoomSender(c, node, room, user).start();
    senders.push(s);
    return s;
  }
  /** Every sender's message in flight acknowledged, then the stores converge and pass the check. */
  async function finishAndCheck(rooms: string[]): Promise<void> {
    await meshHealthy(cluster!.nodes, 20_000);
    await within(Promise.all(senders.map((s) => s.finish())), 20_000, 'every sender acknowledged after healing');
    await eventually(() => checkStores(cluster!.nodes, rooms, senders, clients).length === 0, 15_000, 200).catch(() => undefined);
    expect(checkStores(cluster!.nodes, rooms, senders, clients)).toEqual([]);
    for (const [key, hosts] of hostsPerEpoch(clients)) expect({ key, hosts: [...hosts] }).toEqual({ key, hosts: [...hosts].slice(0, 1) });
    expect(senders.flatMap((s) => s.acks).length).toBeGreaterThan(0);
  }
  const whenAcked = (list: RoomSender[], n: number, since: number, timeoutMs = FAILOVER_DEADLINE_MS) =>
    eventually(() => list.every((s) => s.acksSince(since).length >= n), timeoutMs, 20);

  it('isolated host: the majority elects a new host at epoch 2 and keeps acknowledging; the old host acknowledges nothing, then steps down and converges', async () => {
    await start();
    const admin = await open(1);
    const room = await createRoom(admin, 'isolated-host', 'admin');
    const [onHost, onPeer2, onPeer3] = [await sender(1, room, 'alice'), await sender(2, room, 'bob'), await sender(3, room, 'carol')];
    await whenAcked([onHost, onPeer2, onPeer3], 3, 0);

    const isolatedAt = Date.now();
    lab.isolate(1);
    await eventually(() => [onPeer2, onPeer3].every((s) => hostChanges(s.client, room).some((f) => f.data.host_epoch === 2)), FAILOVER_DEADLINE_MS, 50);
    expect(hostChanges(onPeer2.client, room).map((f) => [f.data.admin_node, f.data.host_epoch])).toEqual([['node2', 2]]);
    const failedOverAt = Date.now();
    await whenAcked([onPeer2, onPeer3], 5, failedOverAt);
    // the isolated side keeps being refused, retryably, well past the fence bound
    await eventually(() => onHost.errorsSince(isolatedAt + FENCE_BOUND_MS).length >= 2, FAILOVER_DEADLINE_MS, 50);

    // fencing, read before healing: nothing the isolated host acknowledged is missing on the majority side
    const majority = readStore(cluster!.node(2), room);
    const held = new Map(majority.messages.map((m) => [m.sequence_number, m.message_id]));
    const fromOldHost = onHost.acksSince(isolatedAt);
    expect(fromOldHost.filter((a) => held.get(a.seq) !== a.messageId)).toEqual([]);
    expect(fromOldHost.filter((a) => a.at > isolatedAt + FENCE_BOUND_MS)).toEqual([]);
    expect(refusalKinds(onHost.errorsSince(isolatedAt))).toEqual(['ADMIN_NODE_UNAVAILABLE retryable']);
    expect(majority.room).toEqual({ host_node: 'node2', host_epoch: 2 });
    expect(logOf(cluster!.node(2))).toMatch(/failed over from node1 \(epoch 1\) to node2 \(epoch 2\)/);

    const healedAt = Date.now();
    lab.heal();
    await eventually(() => hostChanges(onHost.client, room).some((f) => f.data.admin_node === 'node2' && f.data.host_epoch === 2), FAILOVER_DEADLINE_MS, 50);
    await whenAcked([onHost], 3, healedAt, 15_000);
    expect(readStore(cluster!.node(1), room).room).toEqual({ host_node: 'node2', host_epoch: 2 });
    await finishAndCheck([room]);
  });

  it('isolated peer: the room keeps working on the host and the other peer with no failover; the peer catches up on heal', async () => {
    await start();
    const admin = await open(1);
    const room = await createRoom(admin, 'isolated-peer', 'admin');
    const [onHost, onPeer2, onIsolated] = [await sender(1, room, 'alice'), await sender(2, room, 'bob'), await sender(3, room, 'carol')];
    await whenAcked([onHost, onPeer2, onIsolated], 3, 0);

    const isolatedAt = Date.now();
    lab.isolate(3);
    // three failure timeouts of traffic on the majority side, still under epoch 1
    await eventually(() => [onHost, onPeer2].every((s) => s.acks.some((a) => a.at >= isolatedAt + 3000)), FAILOVER_DEADLINE_MS, 50);
    await eventually(() => onIsolated.errorsSince(isolatedAt).length >= 2, FAILOVER_DEADLINE_MS, 50);
    expect(refusalKinds(onIsolated.errorsSince(isolatedAt))).toEqual(['ADMIN_NODE_UNAVAILABLE retryable']);
    for (const n of [1, 2]) expect(readStore(cluster!.node(n), room).room).toEqual({ host_node: 'node1', host_epoch: 1 });

    const healedAt = Date.now();
    lab.heal();
    await whenAcked([onIsolated], 3, healedAt, 15_000);
    await finishAndCheck([room]);
    for (const n of [1, 2, 3]) expect(readStore(cluster!.node(n), room).room).toEqual({ host_node: 'node1', host_epoch: 1 });
    expect(clients.flatMap((c) => hostChanges(c, room))).toEqual([]);
    for (const n of cluster!.nodes) expect(logOf(n)).not.toMatch(/failed over from/);
  });

  it('one against two, twice: clients on both sides keep sending; each room ends on one host per epoch, every acknowledgement kept', async () => {
    await start();
    const rooms = [await createRoom(await open(1), 'split-a', 'admin1'), await createRoom(await open(2), 'split-b', 'admin2')];
    const all: RoomSender[][] = [];
    for (const node of [1, 2, 3]) all.push(await Promise.all(rooms.map((r, i) => sender(node, r, `u${node}r${i}`))));
    const onNode = (n: number) => all[n - 1];
    await whenAcked(all.flat(), 2, 0);

    // node1 (host of split-a) alone: split-a moves to node2 at epoch 2; split-b (hosted on the majority side) stays
    let cutAt = Date.now();
    lab.partition([1], [2, 3]);
    await whenAcked([...onNode(2), ...onNode(3)], 3, cutAt + FENCE_BOUND_MS);
    expect(readStore(cluster!.node(2), rooms[0]).room).toEqual({ host_node: 'node2', host_epoch: 2 });
    expect(readStore(cluster!.node(2), rooms[1]).room).toEqual({ host_node: 'node2', host_epoch: 1 });
    expect(onNode(1).flatMap((s) => s.acksSince(cutAt + FENCE_BOUND_MS))).toEqual([]);
    lab.heal();
    await whenAcked(onNode(1), 2, Date.now(), 15_000);

    // now node2 (hosting both) alone: both move to node1, the lowest live id
    cutAt = Date.now();
    lab.partition([2], [1, 3]);
    await whenAcked([...onNode(1), ...onNode(3)], 3, cutAt + FENCE_BOUND_MS);
    expect(readStore(cluster!.node(1), rooms[0]).room).toEqual({ host_node: 'node1', host_epoch: 3 });
    expect(readStore(cluster!.node(1), rooms[1]).room).toEqual({ host_node: 'node1', host_epoch: 2 });
    expect(onNode(2).flatMap((s) => s.acksSince(cutAt + FENCE_BOUND_MS))).toEqual([]);
    lab.heal();
    await whenAcked(onNode(2), 2, Date.now(), 15_000);
    await finishAndCheck(rooms);
    for (const n of [1, 2, 3]) expect(readStore(cluster!.node(n), rooms[0]).room).toEqual({ host_node: 'node1', host_epoch: 3 });
  });
});
