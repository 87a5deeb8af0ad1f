import { randomInt } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NodeProcess } from '../../src/cluster/node-process';
import { eventually, meshHealthy, TestCluster } from '../support/cluster';
import { NetnsLab } from '../support/netns-lab';
import { Chatter, within, type ChatterOptions } from './chatter';
import { AckLedger, checkCluster, failoverSeed, FailoverMember, historyVia, readRooms, SeededRandom, watchHostClaims, type MemberOptions } from './failover-ledger';
import { createRoom } from '../support/rooms';

/**
 * The kit of the black-box fault suites (pause-failover, five-node-partition, host-wipe,
 * replica-wipe): real node processes, one per network namespace; members that resend the same
 * client_message_id after 1 s without message_sent; SIGSTOP/SIGCONT, kill -9, wiped data
 * directories, partitions and one-way blocks; and one final check (settleAndCheck) that holds
 * every message_sent and every new_message any member got against every node's history.
 * Everything a test saw is kept in $TMPDIR/fault-suites/<test>/ (node logs, ledger.json).
 */

/** describe, or describe.skip with one console line where network namespaces are unavailable. */
export function describeInLab(title: string, body: () => void): void {
  const unavailable = NetnsLab.unavailable();
  if (unavailable) console.warn(`${title}: skipped: ${unavailable}`);
  (unavailable ? describe.skip : describe)(title, body);
}

/** The run's seed: FAILOVER_SEED replays one, else a fresh one each run (printed either way). */
export const faultSeed = (): number => failoverSeed(randomInt(1, 2 ** 31 - 1));

/** A member as the issue's user: resends the same id after 1 s without message_sent, stays on its node. */
export const RESENDING: MemberOptions = { resendAfterMs: 1000, attemptTimeoutMs: 30_000, deadlineMs: 90_000, maxBackoffMs: 500 };

export const EVIDENCE_DIR = path.join(os.tmpdir(), 'fault-suites');

const logOf = (n: NodeProcess) => {
  const file = path.join(n.env.LOG_DIR, `${n.spec.nodeId}.log`);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : n.output;
};

/** One test's cluster, members and faults; `FaultLab.use` registers its cleanup with jest. */
export class FaultLab {
  lab!: NetnsLab;
  cluster: TestCluster | undefined;
  ledger = new AckLedger();
  chatters: Chatter[] = [];
  members: FailoverMember[] = [];
  /** Product properties seen broken on the way, reported with the final check (the test goes on to show the rest). */
  problems: string[] = [];
  rng = new SeededRandom(1);
  private readonly paused = new Set<NodeProcess>();
  private stopWatching = () => undefined as void;

  private constructor(readonly size: number) {}

  /** A lab of `hosts` namespaces for the suite; each test's cluster and members are cleaned up after it, even when it fails. */
  static use(hosts: number): FaultLab {
    const f = new FaultLab(hosts);
    beforeAll(() => {
      f.lab = NetnsLab.create(hosts);
    });
    afterEach(() => f.cleanup());
    afterAll(() => f.lab?.destroy());
    return f;
  }

  node(n: number): NodeProcess {
    return this.cluster!.node(n);
  }
  get nodes(): NodeProcess[] {
    return this.cluster!.nodes;
  }

  /** Starts one node per namespace with `env` over the kit's fast failure detection; `seed` drives every choice. */
  async start(env: Record<string, string>, seed: number): Promise<void> {
    this.rng = new SeededRandom(seed);
    this.cluster = await TestCluster.startIn(this.lab, env);
  }

  async member(name: string, on: number, options: MemberOptions = RESENDING): Promise<FailoverMember> {
    const m = await FailoverMember.connect(this.ledger, name, this.nodes, this.node(on), options);
    this.members.push(m);
    return m;
  }

  /** A room created through node `on` (so hosted there), watched for two hosts in one epoch. */
  async room(name: string, on: number): Promise<string> {
    const creator = await this.member(`creator-${name}`, on);
    const id = await createRoom(creator.client, name, creator.username);
    this.stopWatching = watchHostClaims(this.ledger, this.nodes, [id]);
    return id;
  }

  /**
   * A member on node `on` that joins `room` and sends to it (seeded pace and sizes) until the test
   * ends; the pace keeps each connection under the node's 20 sends/s limit.
   */
  async chatter(name: string, on: number, room: string, options: ChatterOptions = {}): Promise<Chatter> {
    const m = await this.member(name, on);
    await m.join(room);
    const c = new Chatter(m, room, this.ledger, { rng: new SeededRandom(this.rng.int(1, 2 ** 31)), paceMs: [40, 90], ...options }).start();
    this.chatters.push(c);
    return c;
  }

  pause(n: number): void {
    process.kill(this.node(n).pid!, 'SIGSTOP');
    this.paused.add(this.node(n));
  }
  resume(n: number): void {
    if (this.node(n).running) process.kill(this.node(n).pid!, 'SIGCONT'); // a stopped node may have been killed since
    this.paused.delete(this.node(n));
  }

  /** kill -9 of node `n`, then its data directory emptied (the directory itself stays, as a fresh volume would). */
  async killAndWipe(n: number): Promise<void> {
    const node = this.node(n);
    await node.stop('SIGKILL');
    for (const entry of fs.readdirSync(node.env.DATA_DIR)) fs.rmSync(path.join(node.env.DATA_DIR, entry), { recursive: true, force: true });
  }

  /** The room's host as every running node's copy names it (`node2@3`, `none`, `unreadable`). */
  hostsOf(room: string, nodes = this.nodes.filter((n) => n.running)): Record<string, string> {
    const one = (n: NodeProcess) => {
      try {
        const r = readRooms(n, [room], { messages: false })[0].room;
        return r ? `${r.host_node}@${r.host_epoch}` : 'none';
      } catch {
        return 'unreadable';
      }
    };
    return Object.fromEntries(nodes.map((n) => [n.spec.nodeId, one(n)]));
  }

  /** Waits until `nodes` all name one host other than `not` at an epoch above `after`; returns it (`node2@2`). */
  async newHost(room: string, nodes: NodeProcess[], not: string, after: number, timeoutMs: number): Promise<string> {
    const agreed = () => {
      const seen = new Set(Object.values(this.hostsOf(room, nodes)));
      const [only] = seen;
      return seen.size === 1 && /@/.test(only) && !only.startsWith(`${not}@`) && Number(only.split('@')[1]) > after ? only : '';
    };
    return eventually(agreed, timeoutMs, 50).catch(() => {
      throw new Error(`no new host (not ${not}, epoch above ${after}) agreed by ${nodes.map((n) => n.spec.nodeId).join(',')} within ${timeoutMs} ms: ${JSON.stringify(this.hostsOf(room, nodes))}`);
    });
  }

  /**
   * Waits until every chatter in `list` got `n` acks since `since`. On the deadline: a problem
   * (reported by settleAndCheck) if `soft`, else a failure, naming who lags and why.
   */
  async acked(list: Chatter[], n: number, since: number, timeoutMs: number, what: string, soft = false): Promise<boolean> {
    const enough = (c: Chatter) => c.acksSince(since).length >= n;
    // a member that gave up (non-retryable refusals) will not get there: no point waiting for it
    await eventually(() => list.every((c) => enough(c) || c.gaveUp), timeoutMs, 20).catch(() => undefined);
    if (list.every(enough)) return true;
    const lastError = (c: Chatter) => this.ledger.errors.filter((e) => e.label === c.name).at(-1)?.data.error_code ?? 'none';
    const lagging = list.filter((c) => c.acksSince(since).length < n);
    const line =
      `${what}: not every member got ${n} acks within ${timeoutMs} ms: ${list.map((c) => `${c.name}=${c.acksSince(since).length}`).join(', ')}; ` +
      `lagging: ${lagging.map((c) => `${c.name} on ${c.member.node.spec.nodeId} (last refusal ${lastError(c)}, ${c.failures.length} sends given up${c.gaveUp ? ', stopped' : ''})`).join('; ')}; ` +
      `hosts: ${JSON.stringify(this.hostsOf(list[0].room))}`;
    if (!soft) throw new Error(line);
    this.problems.push(line);
    return false;
  }

  /**
   * The final check, on every running node: resumes and heals everything, waits for the mesh and
   * for every member's message in flight, then checkCluster (every ack at its sequence, no sequence
   * acked for two messages, every retried id stored once, identical copies, nothing shown vanished,
   * one host per epoch) plus get_history on every node equal to the stored history.
   */
  async settleAndCheck(rooms: string[], scenario: string): Promise<void> {
    for (const n of [...this.paused]) this.resume(this.nodes.indexOf(n) + 1);
    this.lab.heal();
    const live = this.nodes.filter((n) => n.running);
    await meshHealthy(live, 30_000);
    await within(Promise.all(this.chatters.map((c) => c.finish())), 120_000, 'every member acknowledged after the faults').catch((e: Error) => this.problems.push(e.message));
    const unacked = this.chatters.filter((c) => c.failures.length > 0).map((c) => `${c.name}: ${c.failures.length} send(s) never acknowledged${c.gaveUp ? ' (gave up)' : ''}, first: ${c.failures[0].slice(0, 300)}`);
    await checkCluster(live, rooms, this.ledger, { timeoutMs: 30_000, also: [...this.problems, ...unacked] });
    for (const room of rooms) {
      const stored = readRooms(live[0], [room])[0].messages.map((m) => `${m.sequence_number}|${m.message_id}`);
      for (const n of live) expect({ node: n.spec.nodeId, history: (await historyVia(n, room)).map((m) => `${m.sequence_number}|${m.message_id}`) }).toEqual({ node: n.spec.nodeId, history: stored });
    }
    expect(this.ledger.acks.size).toBeGreaterThan(0);
    console.log(`[fault] ${scenario}: ${this.ledger.summary()}, ${this.members.reduce((k, m) => k + m.resends, 0)} resends; rooms end on ${rooms.map((r) => JSON.stringify(this.hostsOf(r))).join(' ')}`);
  }

  /** Node logs and everything the members saw, for the test that just ran. */
  keepEvidence(): string {
    const name = (expect.getState().currentTestName ?? 'test').replace(/[^a-z0-9]+/gi, '-').slice(0, 160);
    const dir = path.join(EVIDENCE_DIR, name);
    fs.mkdirSync(dir, { recursive: true });
    for (const n of this.cluster?.nodes ?? []) fs.writeFileSync(path.join(dir, `${n.spec.nodeId}.log`), logOf(n));
    const { allAcks, shown, errors, hostChanges, violations } = this.ledger;
    fs.writeFileSync(path.join(dir, 'ledger.json'), JSON.stringify({ seed: this.rng.seed, problems: this.problems, violations, allAcks, shown, errors, hostChanges }, null, 1));
    return dir;
  }

  private async cleanup(): Promise<void> {
    this.stopWatching();
    for (const n of this.cluster?.nodes ?? []) if (n.running) process.kill(n.pid!, 'SIGCONT'); // a failed test may leave a node stopped
    this.paused.clear();
    this.lab?.heal();
    if (this.cluster) console.log(`[fault] evidence kept in ${this.keepEvidence()}`);
    await within(Promise.all(this.chatters.map((c) => c.finish())), 20_000, 'senders ending').catch(() => undefined);
    await Promise.all(this.members.map((m) => m.close().catch(() => undefined)));
    await this.cluster?.stop();
    this.cluster = undefined;
    this.ledger = new AckLedger();
    this.chatters = [];
    this.members = [];
    this.problems = [];
  }
}
