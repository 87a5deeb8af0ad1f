import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NodeProcess } from '../../src/cluster/node-process';
import { eventually, TestCluster } from '../support/cluster';
import { AckLedger, FailoverMember, isRetryable, readRooms, SeededRandom, watchHostClaims, type AckRecord, type MemberOptions } from './failover-ledger';
import { createRoom } from '../support/rooms';

/** The scenario kit of failover.e2e-spec.ts: a cluster with members on every node, traffic, and what to wait for. */

/** Where each test's node output is kept (the node's last run: a restart starts a new output). */
const LOG_KEEP_DIR = path.join(os.tmpdir(), 'failover-e2e-logs');
export const FAILOVER_ENV = { FAILOVER_TIMEOUT: '1' };
/** Kill -> first ack on a survivor, with FAILOVER_TIMEOUT=1 (the issue allows 10 s with test settings, asks for 2 s). */
export const WRITABLE_WITHIN_MS = 5000;

export interface Scenario {
  cluster: TestCluster;
  ledger: AckLedger;
  room: string;
  members: FailoverMember[];
  /** The members whose connection started on node `n`. */
  on(n: number): FailoverMember[];
  stopWatchingHosts: () => void;
  /** Extra members (probes), closed with the scenario. */
  probes: FailoverMember[];
}

let current: Scenario | undefined;

/** A 3-node cluster, a room hosted by node1 and `perNode[i]` members connected to node i+1, all joined. */
export async function scenario(perNode: number[], options: (node: number) => MemberOptions = () => ({})): Promise<Scenario> {
  const cluster = await TestCluster.start(3, FAILOVER_ENV);
  const ledger = new AckLedger();
  const members: FailoverMember[] = [];
  const s: Scenario = { cluster, ledger, room: '', members, on: (n) => members.filter((m) => m.username.startsWith(`n${n}-`)), stopWatchingHosts: () => undefined, probes: [] };
  current = s;
  for (const [i, count] of perNode.entries()) {
    for (let k = 0; k < count; k++) members.push(await FailoverMember.connect(ledger, `n${i + 1}-${'abcdef'[k]}`, cluster.nodes, cluster.node(i + 1), options(i + 1)));
  }
  s.room = await createRoom(members[0].client, 'failover-room', members[0].username);
  for (const m of members) await m.join(s.room);
  s.stopWatchingHosts = watchHostClaims(ledger, cluster.nodes, [s.room]);
  return s;
}

/** Stops the scenario of the test that just ran: logs its figures, keeps its node output, stops its cluster. */
export async function endScenario(): Promise<void> {
  current?.stopWatchingHosts();
  if (current) console.log(`${expect.getState().currentTestName}: ${current.ledger.summary()}, ${current.members.reduce((n, m) => n + m.reconnects, 0)} reconnects`);
  keepLogs(current, expect.getState().currentTestName ?? 'test');
  await Promise.all([...(current?.members ?? []), ...(current?.probes ?? [])].map((m) => m.close().catch(() => undefined)));
  for (const n of current?.cluster.nodes ?? []) if (n.running) process.kill(n.pid!, 'SIGCONT'); // a test that failed mid-pause leaves a stopped node
  await current?.cluster.stop();
  current = undefined;
}

/** Each node's output of the test just run, kept in LOG_KEEP_DIR (the cluster's own folder is removed with it). */
function keepLogs(s: Scenario | undefined, testName: string): void {
  if (!s) return;
  const dir = path.join(LOG_KEEP_DIR, testName.replace(/[^a-z0-9]+/gi, '-').slice(-70));
  fs.mkdirSync(dir, { recursive: true });
  for (const n of s.cluster.nodes) fs.writeFileSync(path.join(dir, `${n.spec.nodeId}.log`), n.output);
}

/** A promise that never rejects (so a test failing before it awaits one leaves no unhandled rejection). */
export const settle = <T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: string }> =>
  p.then((value) => ({ ok: true as const, value }), (e: Error) => ({ ok: false as const, error: e.message }));

/** `count` messages from `member`, one after the other, with seeded sizes; resolves with the acks. */
export async function traffic(member: FailoverMember, room: string, count: number, tag: string, rng: SeededRandom): Promise<AckRecord[]> {
  const acks: AckRecord[] = [];
  for (let i = 0; i < count; i++) acks.push(await member.send(room, `${member.username} ${tag} #${i} ${'.'.repeat(rng.int(0, 200))}`, `${member.username}-${tag}-${i}`));
  return acks;
}

/** Every member sends `count` messages at once (each member sequentially). */
export function phase(s: Scenario, members: FailoverMember[], count: number, tag: string, rng: SeededRandom): Promise<AckRecord[][]> {
  const all = Promise.all(members.map((m) => traffic(m, s.room, count, tag, new SeededRandom(rng.int(0, 2 ** 31)))));
  all.catch(() => undefined); // awaited later; a test failing before that must not end in an unhandled rejection
  return all;
}

/** The room's host and epoch as `node`'s database has them. */
export function hostIn(node: NodeProcess, room: string): string {
  const r = readRooms(node, [room])[0].room;
  return r ? `${r.host_node}@${r.host_epoch}` : 'none';
}

/**
 * Waits until `nodes` all name the same host, one of `hosts`, at an epoch above `after`; returns
 * it and that epoch. Which survivor wins is Raft's choice: one whose log is at least as complete
 * as a majority's (not necessarily the lowest id), at an epoch that may skip one (a pre-vote or
 * vote that lost).
 */
export async function hostSettled(nodes: NodeProcess[], room: string, hosts: string | string[], after: number, timeoutMs = 10000): Promise<{ host: string; epoch: number }> {
  const allowed = Array.isArray(hosts) ? hosts : [hosts];
  const agreed = () => {
    const seen = new Set(nodes.map((n) => hostIn(n, room)));
    const [only] = seen;
    const [host, epoch] = only.split('@');
    return seen.size === 1 && allowed.includes(host) && Number(epoch) > after ? { host, epoch: Number(epoch) } : null;
  };
  return (eventually(agreed, timeoutMs, 50) as Promise<{ host: string; epoch: number }>).catch(() => {
    throw new Error(`host of ${room} not one of ${allowed.join(', ')} above epoch ${after} everywhere: ${nodes.map((n) => `${n.spec.nodeId}=${hostIn(n, room)}`).join(', ')}`);
  });
}

/** True if `member` knows `host`@`epoch` hosts the room: told by room_host_changed, or by its last join. */
export function knowsHost(s: Scenario, member: FailoverMember, host: string, epoch: number): boolean {
  const told = s.ledger.hostChanges.some((h) => h.label === member.username && h.room_id === s.room && h.admin_node === host && h.host_epoch === epoch);
  return told || member.joined.get(s.room)?.data.admin_node === host;
}

/** A member on `node` that only probes: how long from now until a send to the room is acknowledged. */
export async function probe(s: Scenario, node: NodeProcess): Promise<{ writableAfter: () => Promise<number> }> {
  const member = await FailoverMember.connect(s.ledger, `probe-${node.spec.nodeId}`, s.cluster.nodes, node, { maxBackoffMs: 20 });
  s.probes.push(member);
  await member.join(s.room);
  return {
    writableAfter: async () => {
      const t0 = Date.now();
      await member.send(s.room, `probe at ${t0}`);
      return Date.now() - t0;
    },
  };
}

/** A member that connects to `node` and joins the room now; resolves with its join_room_success data. */
export async function joinDuringSwitch(s: Scenario, node: NodeProcess): Promise<Record<string, any>> {
  const member = await FailoverMember.connect(s.ledger, `n3-newcomer`, s.cluster.nodes, node);
  s.probes.push(member);
  return (await member.join(s.room)).data;
}

/** admin_node of the room in list_rooms and discover_rooms, asked through `node`. */
export async function listedHost(node: NodeProcess, room: string): Promise<{ list?: string; discover?: string }> {
  const client = await FailoverMember.connect(new AckLedger(), `lister-${Math.random().toString(36).slice(2, 7)}`, [node], node);
  try {
    const listed = await client.client.request('list_rooms', {}, 'rooms_list');
    const discovered = await client.client.request('discover_rooms', {}, 'global_rooms_list');
    const pick = (f: { data: Record<string, any> }) => (f.data.rooms as { room_id: string; admin_node: string }[]).find((r) => r.room_id === room)?.admin_node;
    return { list: pick(listed), discover: pick(discovered) };
  } finally {
    await client.close();
  }
}

export const failoverLine = (from: string, e: number, to: string, E: number) => new RegExp(`failed over from ${from} \\(epoch ${e}\\) to ${to} \\(epoch ${E}\\)`);

/** message_errors that were not "try again": none are expected in a failover. */
export const errorsOtherThanRetryable = (s: Scenario) => s.ledger.errors.filter((e) => !isRetryable(e.data));


/** A node's message count for a room, 0 while its database cannot be read (the node is opening it). */
export function safeCount(node: NodeProcess, room: string): number {
  try {
    return readRooms(node, [room])[0].messages.length;
  } catch {
    return 0;
  }
}
