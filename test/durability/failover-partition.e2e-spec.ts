import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NodeProcess } from '../../src/cluster/node-process';
import { NetnsLab } from '../support/netns-lab';
import { eventually, meshHealthy, sleep, TestCluster } from '../support/cluster';
import { Chatter, within } from './chatter';
import { AckLedger, checkCluster, FailoverMember, readRooms, watchHostClaims } from './failover-ledger';
import { createRoom } from '../support/rooms';

/**
 * Failover under real partitions: three nodes on three hosts (network namespaces), links cut in
 * the kernel (NetnsLab), members on every side sending one message after the other with
 * client_message_ids and retrying what is refused. After healing, checkCluster holds every
 * acknowledged and shown message against every node's chat.db and get_history.
 */

const describeLab = NetnsLab.describeOrSkip('failover partition e2e');

/** After this long cut off from both peers, a host must have stopped acknowledging (2 x FAILOVER_TIMEOUT). */
const FENCE_BOUND_MS = 2000;
/** A failover (detection, claim round, adopting the most complete copy) must be done within this long. */
const FAILOVER_DEADLINE_MS = 10_000;
const CLUSTER_ENV = { FAILOVER_TIMEOUT: '1', HEARTBEAT_INTERVAL: '0.5', HEARTBEAT_TIMEOUT: '0.5', PEER_CALL_TIMEOUT: '1' };

const logOf = (n: NodeProcess) => {
  const file = path.join(n.env.LOG_DIR, `${n.spec.nodeId}.log`);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : n.output;
};
const hostOf = (n: NodeProcess, room: string) => {
  const r = readRooms(n, [room])[0].room;
  return r ? `${r.host_node}@${r.host_epoch}` : 'none';
};

describeLab('failover under real network partitions (nodes in network namespaces)', () => {
  jest.setTimeout(60_000);
  let lab: NetnsLab;
  let cluster: TestCluster | undefined;
  let ledger: AckLedger;
  let chatters: Chatter[] = [];
  let members: FailoverMember[] = [];
  let stopWatching = () => undefined as void;

  beforeAll(() => {
    lab = NetnsLab.create(3);
  });
  beforeEach(() => {
    ledger = new AckLedger();
  });
  afterEach(async () => {
    stopWatching();
    lab.heal();
    // a failed scenario's senders get their message in flight through once healed, or are cut off below
    await within(Promise.all(chatters.map((c) => c.finish())), 20_000, 'senders ending').catch(() => undefined);
    await Promise.all(members.map((m) => m.close().catch(() => undefined)));
    await cluster?.stop();
    cluster = undefined;
    chatters = [];
    members = [];
  });
  afterAll(() => lab?.destroy());

  const node = (n: number) => cluster!.node(n);
  async function start(): Promise<void> {
    cluster = await TestCluster.startIn(lab, CLUSTER_ENV);
  }
  async function member(name: string, on: number): Promise<FailoverMember> {
    // a member stays on its node: only a node that does not answer at all would send it elsewhere
    const m = await FailoverMember.connect(ledger, name, cluster!.nodes, node(on), { deadlineMs: 40_000, attemptTimeoutMs: 8000 });
    members.push(m);
    return m;
  }
  async function room(name: string, on: number): Promise<string> {
    const creator = await member(`creator-${name}`, on);
    return createRoom(creator.client, name, creator.username);
  }
  async function chatter(name: string, on: number, roomId: string): Promise<Chatter> {
    const m = await member(name, on);
    await m.join(roomId);
    const c = new Chatter(m, roomId, ledger).start();
    chatters.push(c);
    return c;
  }
  const acked = (list: Chatter[], n: number, since: number, timeoutMs = FAILOVER_DEADLINE_MS) =>
    eventually(() => list.every((c) => c.acksSince(since).length >= n), timeoutMs, 20).catch(() => {
      const lagging = list.filter((c) => c.acksSince(since).length < n);
      const lastError = (c: Chatter) => JSON.stringify(ledger.errors.filter((e) => e.label === c.name).at(-1)?.data);
      throw new Error(
        `not every sender got ${n} acks within ${timeoutMs} ms: ${list.map((c) => `${c.name}=${c.acksSince(since).length}`).join(', ')}; ` +
          `lagging: ${lagging.map((c) => `${c.name} on ${c.member.node.spec.nodeId} (${c.member.timeouts} timeouts, last refusal ${lastError(c)})`).join('; ')}; ` +
          `hosts: ${cluster!.nodes.map((x) => `${x.spec.nodeId}=${hostOf(x, lagging[0]?.room ?? list[0].room)}`).join(' ')}`,
      );
    });
  /** Refusals `label` got after the ledger held `from` errors, by kind, e.g. ['ADMIN_NODE_UNAVAILABLE retryable']. */
  const refusals = (label: string, from: number) =>
    [...new Set(ledger.errors.slice(from).filter((e) => e.label === label).map((e) => `${e.data.error_code} ${e.data.retryable === true ? 'retryable' : 'final'}`))].sort();
  const refusalCount = (label: string, from: number) => ledger.errors.slice(from).filter((e) => e.label === label).length;

  /** Heals, waits for every sender's message in flight, then the full cluster check. */
  async function healAndCheck(scenario: string, rooms: string[]): Promise<void> {
    lab.heal();
    await meshHealthy(cluster!.nodes, 20_000);
    await within(Promise.all(chatters.map((c) => c.finish())), 30_000, 'every sender acknowledged after healing');
    stopWatching();
    expect(chatters.flatMap((c) => c.failures)).toEqual([]);
    await checkCluster(cluster!.nodes, rooms, ledger);
    expect(ledger.acks.size).toBeGreaterThan(0);
    const epochs = rooms.map((r) => hostOf(node(1), r)).join(' ');
    process.stdout.write(`[partition] ${scenario}: ${ledger.acks.size} acks, ${ledger.errors.length} refusals, ${chatters.reduce((n, c) => n + c.rejoins, 0)} re-joins; rooms end on ${epochs}\n`);
  }

  /** The host both `nodes` name for `room`, once they agree on one of `candidates` above epoch 1 ('node2@2', ...). */
  const agreedHost = (nodes: number[], r: string, candidates: string[], above = 1) =>
    eventually(() => {
      const seen = new Set(nodes.map((n) => hostOf(node(n), r)));
      const [only] = seen;
      return seen.size === 1 && candidates.includes(only.split('@')[0]) && Number(only.split('@')[1]) > above ? only : null;
    }, FAILOVER_DEADLINE_MS, 50) as Promise<string>;

  it('isolated host: the majority elects a new host and keeps acknowledging; the old host acknowledges nothing, then steps down and converges', async () => {
    await start();
    const r = await room('isolated-host', 1);
    stopWatching = watchHostClaims(ledger, cluster!.nodes, [r]);
    const [alice, bob, carol] = [await chatter('alice', 1, r), await chatter('bob', 2, r), await chatter('carol', 3, r)];
    await acked([alice, bob, carol], 3, 0);

    const isolatedAt = Date.now();
    const errorsBefore = ledger.errors.length;
    lab.isolate(1);
    const moved = await agreedHost([2, 3], r, ['node2', 'node3']);
    const [newHost, newEpoch] = [moved.split('@')[0], Number(moved.split('@')[1])];
    expect(newEpoch).toBeGreaterThanOrEqual(2);
    await acked([bob, carol], 5, Date.now());
    // the isolated side keeps being refused, retryably, past the fence bound (usually over by now: the wait is for time itself)
    await sleep(Math.max(0, isolatedAt + FENCE_BOUND_MS - Date.now()));
    const errorsPastBound = ledger.errors.length;
    await eventually(() => refusalCount('alice', errorsPastBound) >= 2, FAILOVER_DEADLINE_MS, 50);

    // fencing, read before healing: whatever the isolated host acknowledged is on the majority side
    const majority = new Map(readRooms(node(2), [r])[0].messages.map((m) => [Number(m.sequence_number), m.message_id]));
    const fromOldHost = alice.acksSince(isolatedAt);
    expect(fromOldHost.filter((a) => majority.get(a.sequence_number) !== a.message_id)).toEqual([]);
    expect(fromOldHost.filter((a) => a.at > isolatedAt + FENCE_BOUND_MS)).toEqual([]);
    expect(refusals('alice', errorsBefore)).toEqual(['ADMIN_NODE_UNAVAILABLE retryable']);
    expect({ timeouts: alice.member.timeouts, reconnects: alice.member.reconnects }).toEqual({ timeouts: 0, reconnects: 0 });
    expect(ledger.hostChanges.filter((h) => h.label === 'bob' || h.label === 'carol').map((h) => `${h.admin_node}@${h.host_epoch}`)).toEqual([moved, moved]);
    expect(logOf(node(Number(newHost.slice(4))))).toMatch(new RegExp(`failed over from node1 \\(epoch 1\\) to ${newHost} \\(epoch ${newEpoch}\\)`));

    const healedAt = Date.now();
    lab.heal();
    await eventually(() => hostOf(node(1), r) === moved, FAILOVER_DEADLINE_MS, 50);
    await eventually(() => ledger.hostChanges.some((h) => h.label === 'alice' && h.admin_node === newHost && h.host_epoch === newEpoch), FAILOVER_DEADLINE_MS, 50);
    await acked([alice], 3, healedAt, 15_000);
    await healAndCheck('isolated host', [r]);
    expect(alice.member.node.spec.nodeId).toBe('node1'); // its acks after healing came through node1, now a replica
  });

  it('isolated peer: the room keeps working on the host and the other peer with no failover; the peer catches up on heal', async () => {
    await start();
    const r = await room('isolated-peer', 1);
    stopWatching = watchHostClaims(ledger, cluster!.nodes, [r]);
    const [alice, bob, carol] = [await chatter('alice', 1, r), await chatter('bob', 2, r), await chatter('carol', 3, r)];
    await acked([alice, bob, carol], 3, 0);

    const isolatedAt = Date.now();
    const errorsBefore = ledger.errors.length;
    lab.isolate(3);
    // three failure timeouts of traffic on the majority side, still under epoch 1
    await eventually(() => [alice, bob].every((c) => c.acksSince(isolatedAt + 3000).length > 0), FAILOVER_DEADLINE_MS, 50);
    await eventually(() => refusalCount('carol', errorsBefore) >= 2, FAILOVER_DEADLINE_MS, 50);
    expect(refusals('carol', errorsBefore)).toEqual(['ADMIN_NODE_UNAVAILABLE retryable']);
    expect([hostOf(node(1), r), hostOf(node(2), r)]).toEqual(['node1@1', 'node1@1']);

    const healedAt = Date.now();
    lab.heal();
    await acked([carol], 3, healedAt, 15_000);
    await healAndCheck('isolated peer', [r]);
    expect([1, 2, 3].map((n) => hostOf(node(n), r))).toEqual(['node1@1', 'node1@1', 'node1@1']);
    expect(ledger.hostChanges).toEqual([]);
    for (const n of cluster!.nodes) expect(logOf(n)).not.toMatch(/failed over from/);
  });

  /** Acks the chatters got since `t` for messages node `majorityNode` (on the majority side) does not hold at that sequence. */
  const newAcksSince = (chatters: Chatter[], t: number, majorityNode: number) => {
    const rooms = [...new Set(chatters.map((c) => c.room))];
    const held = new Map(readRooms(node(majorityNode), rooms).flatMap((v, i) => v.messages.map((m) => [`${rooms[i]}@${m.sequence_number}`, m.message_id] as const)));
    return chatters.flatMap((c) => c.acksSince(t)).filter((a) => held.get(`${a.room_id}@${a.sequence_number}`) !== a.message_id);
  };

  it('one against two, twice: members on both sides keep sending; every room ends on one host per epoch with every ack kept', async () => {
    await start();
    const rooms = [await room('split-a', 1), await room('split-b', 2)];
    stopWatching = watchHostClaims(ledger, cluster!.nodes, rooms);
    const byNode: Chatter[][] = [];
    for (const n of [1, 2, 3]) byNode.push(await Promise.all(rooms.map((r, i) => chatter(`n${n}r${i}`, n, r))));
    const on = (...ns: number[]) => ns.flatMap((n) => byNode[n - 1]);
    await acked(on(1, 2, 3), 2, 0);

    // node1 (host of split-a) alone: split-a moves to node2 or node3; split-b, hosted on the majority side, stays
    let cutAt = Date.now();
    lab.partition([1], [2, 3]);
    await acked(on(2, 3), 3, cutAt + FENCE_BOUND_MS);
    const splitA = await agreedHost([2, 3], rooms[0], ['node2', 'node3']);
    expect(hostOf(node(2), rooms[1])).toBe('node2@1');
    // past the bound the isolated side acknowledges nothing new: only messages the majority side
    // already holds at that sequence (node2 answered a forward just before the cut, and node1 waited
    // for the entry to reach it before telling its member)
    expect(newAcksSince(on(1), cutAt + FENCE_BOUND_MS, 2)).toEqual([]);
    lab.heal();
    await acked(on(1), 2, Date.now(), 15_000);

    // now node2 alone: whatever it hosts moves to node1 or node3; the rest stays where it is
    cutAt = Date.now();
    lab.partition([2], [1, 3]);
    await acked(on(1, 3), 3, cutAt + FENCE_BOUND_MS);
    const before = [splitA, 'node2@1'];
    const after = await Promise.all(rooms.map((r, i) => (before[i].startsWith('node2@') ? agreedHost([1, 3], r, ['node1', 'node3'], Number(before[i].split('@')[1])) : before[i])));
    expect(newAcksSince(on(2), cutAt + FENCE_BOUND_MS, 1)).toEqual([]);
    await healAndCheck('one against two, twice', rooms);
    expect([1, 2, 3].map((n) => rooms.map((r) => hostOf(node(n), r)).join(' '))).toEqual(Array(3).fill(after.join(' ')));
  });
});
