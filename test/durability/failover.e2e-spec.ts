import type { NodeProcess } from '../../src/cluster/node-process';
import { eventually, TestCluster } from '../support/cluster';
import type { TestClient } from '../support/test-client';
import { AckLedger, checkCluster, watchHostClaims, FailoverMember, failoverSeed, isRetryable, readRooms, SeededRandom, type AckRecord, type MemberOptions } from './failover-ledger';
import { createRoom } from './support';

/**
 * Failover with real node processes on loopback: the host of a room is killed (kill -9, never
 * back), paused past FAILOVER_TIMEOUT (kill -STOP, then -CONT), killed twice in a row, and a
 * replica is killed again in the middle of its catch-up. Members on every node keep sending with
 * client_message_ids (retrying the same id until acknowledged, moving to a survivor when their
 * node is gone); afterwards checkCluster holds every acknowledged and shown message against every
 * node's chat.db and get_history. FAILOVER_SEED replays a run's choices (kill points, sizes).
 */

const SEED = failoverSeed();
const FAILOVER_ENV = { FAILOVER_TIMEOUT: '1' };
/** Kill -> first ack on a survivor, with FAILOVER_TIMEOUT=1 (the issue allows 10 s with test settings, asks for 2 s). */
const WRITABLE_WITHIN_MS = 5000;

interface Scenario {
  cluster: TestCluster;
  ledger: AckLedger;
  room: string;
  members: FailoverMember[];
  /** The members whose connection started on node `n`. */
  on(n: number): FailoverMember[];
  stopWatchingHosts: () => void;
}

let current: Scenario | undefined;
const extraClients: TestClient[] = [];

/** A 3-node cluster, a room hosted by node1 and `perNode[i]` members connected to node i+1, all joined. */
async function scenario(perNode: number[], options: (node: number) => MemberOptions = () => ({})): Promise<Scenario> {
  const cluster = await TestCluster.start(3, FAILOVER_ENV);
  const ledger = new AckLedger();
  const members: FailoverMember[] = [];
  const s: Scenario = { cluster, ledger, room: '', members, on: (n) => members.filter((m) => m.username.startsWith(`n${n}-`)), stopWatchingHosts: () => undefined };
  current = s;
  for (const [i, count] of perNode.entries()) {
    for (let k = 0; k < count; k++) members.push(await FailoverMember.connect(ledger, `n${i + 1}-${'abcdef'[k]}`, cluster.nodes, cluster.node(i + 1), options(i + 1)));
  }
  s.room = await createRoom(members[0].client, 'failover-room', members[0].username);
  for (const m of members) await m.join(s.room);
  s.stopWatchingHosts = watchHostClaims(ledger, cluster.nodes, [s.room]);
  return s;
}

afterEach(async () => {
  current?.stopWatchingHosts();
  await Promise.all([...(current?.members ?? []).map((m) => m.close().catch(() => undefined)), ...extraClients.splice(0).map((c) => c.close().catch(() => undefined))]);
  for (const n of current?.cluster.nodes ?? []) if (n.running) process.kill(n.pid!, 'SIGCONT'); // a test that failed mid-pause leaves a stopped node
  await current?.cluster.stop();
  current = undefined;
});

/** `count` messages from `member`, one after the other, with seeded sizes; resolves with the acks. */
async function traffic(member: FailoverMember, room: string, count: number, tag: string, rng: SeededRandom): Promise<AckRecord[]> {
  const acks: AckRecord[] = [];
  for (let i = 0; i < count; i++) acks.push(await member.send(room, `${member.username} ${tag} #${i} ${'.'.repeat(rng.int(0, 200))}`, `${member.username}-${tag}-${i}`));
  return acks;
}

/** Every member sends `count` messages at once (each member sequentially). */
const phase = (s: Scenario, members: FailoverMember[], count: number, tag: string, rng: SeededRandom) =>
  Promise.all(members.map((m) => traffic(m, s.room, count, tag, new SeededRandom(rng.int(0, 2 ** 31)))));

/** The room's host and epoch as `node`'s database has them. */
function hostIn(node: NodeProcess, room: string): string {
  const r = readRooms(node, [room])[0].room;
  return r ? `${r.host_node}@${r.host_epoch}` : 'none';
}

/** Waits until `nodes` all name `host`@`epoch` as the room's host in their databases. */
const hostSettled = (nodes: NodeProcess[], room: string, host: string, epoch: number, timeoutMs = 10000) =>
  eventually(() => nodes.every((n) => hostIn(n, room) === `${host}@${epoch}`), timeoutMs, 50).catch(() => {
    throw new Error(`host of ${room} not ${host}@${epoch} everywhere: ${nodes.map((n) => `${n.spec.nodeId}=${hostIn(n, room)}`).join(', ')}`);
  });

/** The first ack after `since` for a sequence beyond `beyond`: the room was writable again. */
const firstAckAfter = (ledger: AckLedger, room: string, since: number, beyond: number) =>
  eventually(() => ledger.acksIn(room).find((a) => a.at >= since && a.sequence_number > beyond), 15000, 5);

const maxAcked = (ledger: AckLedger, room: string) => Math.max(0, ...ledger.acksIn(room).map((a) => a.sequence_number));

/** True if `member` knows `host`@`epoch` hosts the room: told by room_host_changed, or by its last join. */
function knowsHost(s: Scenario, member: FailoverMember, host: string, epoch: number): boolean {
  const told = s.ledger.hostChanges.some((h) => h.label === member.username && h.room_id === s.room && h.admin_node === host && h.host_epoch === epoch);
  return told || member.joined.get(s.room)?.data.admin_node === host;
}

/** admin_node of the room in list_rooms and discover_rooms, asked through `node`. */
async function listedHost(node: NodeProcess, room: string): Promise<{ list?: string; discover?: string }> {
  const client = await FailoverMember.connect(new AckLedger(), `lister-${Math.random().toString(36).slice(2, 7)}`, [node], node);
  extraClients.push(client.client);
  const listed = await client.client.request('list_rooms', {}, 'rooms_list');
  const discovered = await client.client.request('discover_rooms', {}, 'global_rooms_list');
  const pick = (f: { data: Record<string, any> }) => (f.data.rooms as { room_id: string; admin_node: string }[]).find((r) => r.room_id === room)?.admin_node;
  return { list: pick(listed), discover: pick(discovered) };
}

const failoverLine = (from: string, e: number, to: string, E: number) => new RegExp(`failed over from ${from} \\(epoch ${e}\\) to ${to} \\(epoch ${E}\\)`);

describe('failover: a room survives its host (3 real nodes, FAILOVER_TIMEOUT=1)', () => {
  jest.setTimeout(45000);

  it('kill -9 of the host mid-burst, never back: a survivor takes over at epoch 2 and nothing acknowledged is lost', async () => {
    const rng = new SeededRandom(SEED);
    const s = await scenario([2, 2, 2]);
    const [n1, n2, n3] = s.cluster.nodes;
    const perMember = 30;
    const sending = phase(s, s.members, perMember, 'burst', rng);
    await eventually(() => s.ledger.acks.size >= rng.int(10, 50), 15000, 2);
    const before = maxAcked(s.ledger, s.room);
    const killedAt = Date.now();
    await n1.stop('SIGKILL');
    const first = await firstAckAfter(s.ledger, s.room, killedAt, before);
    console.log(`kill -9 of the host -> first ack on a survivor: ${first!.at - killedAt} ms (acked before the kill: ${before})`);
    expect(first!.at - killedAt).toBeLessThan(WRITABLE_WITHIN_MS);
    await sending;
    expect(before).toBeLessThan(s.members.length * perMember); // the kill landed mid-burst

    await hostSettled([n2, n3], s.room, 'node2', 2);
    expect(n2.output).toMatch(failoverLine('node1', 1, 'node2', 2));
    for (const m of [...s.on(2), ...s.on(3)]) {
      expect({ who: m.username, toldOfNewHost: s.ledger.hostChanges.some((h) => h.label === m.username && h.admin_node === 'node2' && h.host_epoch === 2), reconnects: m.reconnects, silentDrops: m.timeouts }).toEqual({ who: m.username, toldOfNewHost: true, reconnects: 0, silentDrops: 0 });
    }
    for (const m of s.on(1)) {
      expect({ who: m.username, movedToSurvivor: m.reconnects >= 1 && m.node !== n1, knowsHost: knowsHost(s, m, 'node2', 2) }).toEqual({ who: m.username, movedToSurvivor: true, knowsHost: true });
    }
    expect(s.ledger.errors.filter((e) => !isRetryable(e.data))).toEqual([]);
    await eventually(async () => Object.values(await listedHost(n3, s.room)).every((h) => h === 'node2'), 10000, 200);

    const last = s.members.length * perMember;
    await checkCluster([n2, n3], [s.room], s.ledger);
    // everyone, including those that moved off the dead node with since_sequence, was shown all of it
    await eventually(() => s.members.every((m) => s.ledger.resumePoint(m.username, s.room) === last), 10000);
  });

  it('kill -STOP of the host past FAILOVER_TIMEOUT, then -CONT: the old host steps down, catches up, and its clients keep working', async () => {
    const rng = new SeededRandom(SEED + 1);
    // node1's members keep their connection through the pause: a reply may take as long as the pause
    const s = await scenario([2, 1, 1], (n) => (n === 1 ? { attemptTimeoutMs: 20000, deadlineMs: 30000 } : {}));
    const [n1, n2, n3] = s.cluster.nodes;
    await phase(s, s.members, 5, 'warmup', rng);
    const before = maxAcked(s.ledger, s.room);

    process.kill(n1.pid!, 'SIGSTOP');
    const pausedAt = Date.now();
    // sent to the paused host: it reads them only after -CONT, when it may still believe it hosts the room
    const parked = s.on(1).map((m) => m.send(s.room, `${m.username} sent while its node was paused`, `${m.username}-paused`));
    const survivors = phase(s, [...s.on(2), ...s.on(3)], 10, 'during-pause', rng);
    const first = await firstAckAfter(s.ledger, s.room, pausedAt, before);
    console.log(`kill -STOP of the host -> first ack on a survivor: ${first!.at - pausedAt} ms`);
    await survivors;
    await hostSettled([n2, n3], s.room, 'node2', 2);
    expect(s.ledger.ackOf(s.room, 'n1-a-paused')).toBeUndefined(); // node1 really was silent

    process.kill(n1.pid!, 'SIGCONT');
    await hostSettled([n1, n2, n3], s.room, 'node2', 2);
    await Promise.all(parked);
    await phase(s, s.on(1), 5, 'after-cont', rng); // through node1, now forwarded to the new host
    for (const m of s.on(1)) expect({ who: m.username, node: m.node.spec.nodeId, reconnects: m.reconnects }).toEqual({ who: m.username, node: 'node1', reconnects: 0 });
    await checkCluster([n1, n2, n3], [s.room], s.ledger, { historyNode: n1 });
    expect(s.ledger.errors.filter((e) => !isRetryable(e.data))).toEqual([]);
  });

  it('two failovers in a row: host killed, comes back as a replica, the second host killed: epoch 3', async () => {
    const rng = new SeededRandom(SEED + 2);
    const s = await scenario([1, 1, 1]);
    const [n1, n2, n3] = s.cluster.nodes;
    await phase(s, s.members, 5, 'epoch1', rng);

    const first = phase(s, s.members, 10, 'kill1', rng);
    await eventually(() => s.ledger.acks.size >= 15 + rng.int(1, 10), 15000, 2);
    await n1.stop('SIGKILL');
    await first;
    await hostSettled([n2, n3], s.room, 'node2', 2);

    await n1.start();
    await hostSettled([n1, n2, n3], s.room, 'node2', 2); // back as a replica, not as host
    await phase(s, s.members, 5, 'epoch2', rng);
    await checkCluster([n1, n2, n3], [s.room], s.ledger);

    const second = phase(s, s.members, 10, 'kill2', rng);
    const acked = s.ledger.acks.size;
    await eventually(() => s.ledger.acks.size >= acked + rng.int(1, 10), 15000, 2);
    await n2.stop('SIGKILL');
    await second;
    await hostSettled([n1, n3], s.room, 'node1', 3);
    expect(n1.output).toMatch(failoverLine('node2', 2, 'node1', 3));
    const seen = s.on(3)[0];
    expect([...new Set(s.ledger.hostChanges.filter((h) => h.label === seen.username).map((h) => `${h.admin_node}@${h.host_epoch}`))]).toEqual(['node2@2', 'node1@3']);
    await checkCluster([n1, n3], [s.room], s.ledger);
  });

  it('a replica killed again in the middle of its catch-up still ends with every message', async () => {
    const rng = new SeededRandom(SEED + 3);
    const s = await scenario([3, 3, 0]);
    const [n1, n2, n3] = s.cluster.nodes;
    await phase(s, s.members, 3, 'warmup', rng);
    await eventually(() => readRooms(n3, [s.room])[0].messages.length === 18, 10000);

    await n3.stop('SIGTERM');
    const bulk = 80 + rng.int(0, 40);
    await Promise.all(s.members.map((m) => traffic(m, s.room, bulk, 'bulk', new SeededRandom(rng.int(0, 2 ** 31)))));
    const total = s.ledger.acks.size;
    // keep a trickle going while the replica comes and goes
    const trickle = traffic(s.members[0], s.room, 20, 'trickle', rng);

    const killAt = 18 + rng.int(1, Math.floor((total - 18) / 3)); // somewhere in the first third of what it lacks
    const starting = n3.start().catch(() => undefined); // it is killed before it may report healthy
    const heldAtKill = await eventually(() => {
      const held = n3.running ? safeCount(n3, s.room) : 0;
      return held >= killAt && held < total ? held : 0;
    }, 20000, 2);
    await n3.stop('SIGKILL');
    await starting;
    console.log(`replica killed mid-catch-up holding ${heldAtKill} of ${total}+ messages`);
    await n3.start();
    await trickle;
    await checkCluster([n1, n2, n3], [s.room], s.ledger, { historyNode: n3 });
  });
});

/** A node's message count for a room, 0 while its database cannot be read (the node is opening it). */
function safeCount(node: NodeProcess, room: string): number {
  try {
    return readRooms(node, [room])[0].messages.length;
  } catch {
    return 0;
  }
}
