// Write-path benchmark: messages per second stored by a room's host and acknowledged to the sender
// (message_sent received), on one node and across three nodes (senders on other nodes, forwarded).
//
//   npm run bench:write                                  # default scenarios and sender counts
//   npm run bench:write -- --senders 1,16 --seconds 5 --size 200 --json out.json
//
// Every sender has its own WebSocket and keeps `--window` sends outstanding (default 1: send, wait
// for message_sent, send again). All senders are in one room, so the host's single sequencer is
// what is measured. After each run the host's last_sequence is checked against the acks (every
// acknowledged message is stored, none twice), and on three nodes the time until every replica
// holds the last message is reported.
import { writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { startChatCluster, type Target } from './cluster';

interface Options {
  scenarios: Scenario[];
  senders: number[];
  seconds: number;
  warmupSeconds: number;
  size: number;
  window: number;
  roomPerSender: boolean;
  json?: string;
}

type Scenario = 'single' | 'host3' | 'forward3';

const SCENARIOS: Record<Scenario, { nodes: number; label: string; senderNodes: (n: number) => number[] }> = {
  single: { nodes: 1, label: 'one node (sender on the host, no peers)', senderNodes: () => [0] },
  host3: { nodes: 3, label: 'three nodes, senders on the host (replicated to 2 peers)', senderNodes: () => [0] },
  forward3: { nodes: 3, label: 'three nodes, senders on the two non-host nodes (forwarded over XML-RPC)', senderNodes: () => [1, 2] },
};

function parseArgs(argv: string[]): Options {
  const opts: Options = { scenarios: ['single', 'host3', 'forward3'], senders: [1, 8, 32], seconds: 5, warmupSeconds: 1, size: 100, window: 1, roomPerSender: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${a} needs a value`);
      return value;
    };
    if (a === '--scenarios' || a === '-s') opts.scenarios = v().split(',').map((s) => s.trim() as Scenario);
    else if (a === '--senders' || a === '-n') opts.senders = v().split(',').map(Number);
    else if (a === '--seconds' || a === '-d') opts.seconds = Number(v());
    else if (a === '--warmup') opts.warmupSeconds = Number(v());
    else if (a === '--size') opts.size = Number(v());
    else if (a === '--window' || a === '-w') opts.window = Number(v());
    else if (a === '--room-per-sender') opts.roomPerSender = true;
    else if (a === '--json') opts.json = v();
    else if (a === '--help' || a === '-h') {
      process.stdout.write(
        'usage: node dist/bench/write-path.js [--scenarios single,host3,forward3] [--senders 1,8,32] [--seconds 5] [--warmup 1] [--size 100] [--window 1] [--room-per-sender] [--json FILE]\n' +
          '  --room-per-sender: each sender in its own room (no fan-out of every message to every sender)\n',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  for (const s of opts.scenarios) if (!(s in SCENARIOS)) throw new Error(`unknown scenario ${s} (single, host3, forward3)`);
  if (opts.senders.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--senders: whole numbers >= 1');
  if (!(opts.seconds > 0) || !(opts.warmupSeconds >= 0)) throw new Error('--seconds > 0, --warmup >= 0');
  if (!Number.isInteger(opts.size) || opts.size < 1 || opts.size > 5000) throw new Error('--size: 1-5000 characters');
  if (!Number.isInteger(opts.window) || opts.window < 1) throw new Error('--window: whole number >= 1');
  return opts;
}

interface Frame {
  type: string;
  data: Record<string, any>;
}

/** A minimal client: request/reply matching by type, in order (the node answers one request per socket at a time). */
class Client {
  private waiters: { types: string[]; resolve: (f: Frame) => void; reject: (e: Error) => void }[] = [];
  onFrame: ((f: Frame) => void) | null = null;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as Frame;
      this.onFrame?.(frame);
      const i = this.waiters.findIndex((w) => w.types.includes(frame.type));
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(frame);
    });
    ws.on('close', () => {
      for (const w of this.waiters.splice(0)) w.reject(new Error('connection closed'));
    });
  }

  static connect(url: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(new Client(ws)));
      ws.once('error', reject);
    });
  }

  send(type: string, data: unknown): void {
    this.ws.send(JSON.stringify({ type, data }));
  }

  request(type: string, data: unknown, ...replies: string[]): Promise<Frame> {
    const p = new Promise<Frame>((resolve, reject) => this.waiters.push({ types: replies, resolve, reject }));
    this.send(type, data);
    return p;
  }

  close(): void {
    this.ws.close();
  }
}

async function joinRoom(c: Client, roomId: string, username: string, since?: number): Promise<Frame> {
  const r = await c.request('join_room', { room_id: roomId, username, ...(since !== undefined ? { since_sequence: since } : {}) }, 'join_room_success', 'join_room_error');
  if (r.type !== 'join_room_success') throw new Error(`join_room: ${JSON.stringify(r.data)}`);
  return r;
}

/** The room's last sequence number at its host (a fresh client resuming at the end). */
async function lastSequence(url: string, roomId: string, username: string): Promise<number> {
  const c = await Client.connect(url);
  try {
    const j = await joinRoom(c, roomId, username, 1_000_000_000);
    return j.data.last_sequence as number;
  } finally {
    c.close();
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface RunResult {
  scenario: Scenario;
  nodes: number;
  senders: number;
  window: number;
  rooms: number;
  size: number;
  seconds: number;
  acked: number;
  errors: number;
  perSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  stored: number;
  storedMatchesAcks: boolean;
  replicaCatchUpMs?: number;
}

async function runOne(target: Target, scenario: Scenario, senders: number, opts: Options, runNo: number): Promise<RunResult> {
  const spec = SCENARIOS[scenario];
  const host = target.nodes[0];
  const owner = await Client.connect(host.url);
  const roomIds: string[] = [];
  for (let r = 0; r < (opts.roomPerSender ? senders : 1); r++) {
    const created = await owner.request('create_room', { room_name: `bench-${scenario}-${senders}-${runNo}-${r}-${Date.now()}`, creator_id: 'owner' }, 'room_created');
    if (!created.data.room_id) throw new Error(`create_room: ${JSON.stringify(created.data)}`);
    roomIds.push(created.data.room_id as string);
  }
  owner.close();
  const roomOf = (i: number) => roomIds[i % roomIds.length];

  const nodesFor = spec.senderNodes(target.nodes.length);
  const clients: Client[] = [];
  for (let i = 0; i < senders; i++) {
    const node = target.nodes[nodesFor[i % nodesFor.length]];
    const c = await Client.connect(node.url);
    await joinRoom(c, roomOf(i), `s${i}`);
    clients.push(c);
  }

  const content = 'm'.repeat(opts.size);
  let measuring = false;
  let stopped = false;
  let acked = 0;
  let totalAcked = 0;
  let errors = 0;
  const latencies: number[] = [];

  const loop = async (c: Client, i: number) => {
    const inFlight: number[] = []; // send times, FIFO (replies come in request order)
    await new Promise<void>((done) => {
      const pump = () => {
        while (!stopped && inFlight.length < opts.window) {
          inFlight.push(performance.now());
          c.send('send_message', { room_id: roomOf(i), username: `s${i}`, content });
        }
        if (stopped && inFlight.length === 0) done();
      };
      c.onFrame = (f) => {
        if (f.type !== 'message_sent' && f.type !== 'message_error') return;
        const t0 = inFlight.shift()!;
        if (f.type === 'message_sent') {
          totalAcked++;
          if (measuring) {
            acked++;
            latencies.push(performance.now() - t0);
          }
        } else {
          errors++;
          if (errors <= 3) process.stderr.write(`message_error: ${JSON.stringify(f.data)}\n`);
        }
        pump();
      };
      pump();
    });
  };

  const loops = clients.map((c, i) => loop(c, i));
  await sleep(opts.warmupSeconds * 1000);
  measuring = true;
  const t0 = performance.now();
  await sleep(opts.seconds * 1000);
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  stopped = true;
  await Promise.all(loops);
  const endedAt = performance.now();

  // every acknowledged message is stored at the host, once
  const lasts = new Map<string, number>();
  for (const roomId of roomIds) lasts.set(roomId, await lastSequence(host.url, roomId, 'checker'));
  const stored = [...lasts.values()].reduce((a, b) => a + b, 0);
  let replicaCatchUpMs: number | undefined;
  if (target.nodes.length > 1) {
    // get_history is answered from the node's own store: its last_sequence is the replica's
    for (const n of target.nodes.slice(1)) {
      for (const roomId of roomIds) {
        const c = await Client.connect(n.url);
        await joinRoom(c, roomId, `replica-watch-${n.name}`);
        for (;;) {
          const h = await c.request('get_history', { room_id: roomId, limit: 1 }, 'history', 'history_error');
          if (h.type !== 'history') throw new Error(`get_history on ${n.name}: ${JSON.stringify(h.data)}`);
          if ((h.data.last_sequence as number) >= lasts.get(roomId)!) break;
          if (performance.now() - endedAt > 30000) throw new Error(`${n.name} did not catch up within 30 s`);
          await sleep(10);
        }
        c.close();
      }
    }
    replicaCatchUpMs = performance.now() - endedAt;
  }
  for (const c of clients) c.close();

  latencies.sort((a, b) => a - b);
  return {
    scenario,
    nodes: target.nodes.length,
    senders,
    window: opts.window,
    rooms: roomIds.length,
    size: opts.size,
    seconds: Number(elapsed.toFixed(2)),
    acked,
    errors,
    perSecond: Math.round(acked / elapsed),
    latencyMs: {
      p50: round(percentile(latencies, 50)),
      p90: round(percentile(latencies, 90)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies.at(-1) ?? NaN),
    },
    stored,
    storedMatchesAcks: stored === totalAcked,
    replicaCatchUpMs: replicaCatchUpMs === undefined ? undefined : Math.round(replicaCatchUpMs),
  };
}

const round = (x: number) => Math.round(x * 100) / 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function table(results: RunResult[]): string {
  const head = ['scenario', 'nodes', 'senders', 'rooms', 'window', 'msgs/s', 'acked', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'stored=acks', 'replicas ms', 'errors'];
  const rows = results.map((r) => [
    r.scenario,
    String(r.nodes),
    String(r.senders),
    String(r.rooms),
    String(r.window),
    String(r.perSecond),
    String(r.acked),
    String(r.latencyMs.p50),
    String(r.latencyMs.p90),
    String(r.latencyMs.p99),
    String(r.latencyMs.max),
    r.storedMatchesAcks ? 'yes' : `NO (${r.stored})`,
    r.replicaCatchUpMs === undefined ? '-' : String(r.replicaCatchUpMs),
    String(r.errors),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * The store alone, in this process: StoreTransactions.run around RoomLogRepository.replaceFrom and
 * MessageRepository.insertMessage (one SQLite transaction per message, as a node does) on a real
 * file, without WebSocket, Nest or peers: the ceiling of the write path.
 */
function storeCeiling(opts: Options): { perSecond: number; count: number } {
  // the built store (dist/common/store), loaded at run time so this file compiles on its own
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ChatStore } = require('../common/store/chat-store') as { ChatStore: any };
  const { mkdtempSync, rmSync } = require('node:fs') as typeof import('node:fs');
  const { tmpdir } = require('node:os') as typeof import('node:os');
  const { join } = require('node:path') as typeof import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'chat-store-bench-'));
  const store = ChatStore.open(dir);
  try {
    store.rooms.insertRoom({ roomId: 'r', roomName: 'bench', description: null, creatorId: 'b', hostNode: 'n', hostEpoch: 1, state: 'ACTIVE', createdAt: new Date().toISOString(), lastSequence: 0, deletionTxn: null });
    const content = 'm'.repeat(opts.size);
    const deadline = performance.now() + opts.seconds * 1000;
    const t0 = performance.now();
    let count = 0;
    while (performance.now() < deadline) {
      for (let i = 0; i < 100; i++) {
        // what a single node does per message: the log entry and the message it applies, one fsynced transaction
        const n = ++count;
        const data = { message_id: `${n}`, username: 'u', content, timestamp: new Date().toISOString(), client_message_id: null };
        store.transactions.run(() => {
          store.logs.replaceFrom('r', n, [{ index: n, epoch: 1, kind: 'message', sequence: n, clientKey: null, data }]);
          store.messages.insertMessage({ messageId: data.message_id, roomId: 'r', username: 'u', content, sequenceNumber: n, timestamp: data.timestamp, clientMessageId: null });
        }, true);
      }
    }
    return { perSecond: Math.round(count / ((performance.now() - t0) / 1000)), count };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (Number(process.versions.node.split('.')[0]) < 24) {
    throw new Error(`Node ${process.versions.node}: node:sqlite needs Node 24+ (run through npm: npm run bench:write)`);
  }
  const opts = parseArgs(process.argv.slice(2));
  const ceiling = storeCeiling(opts);
  process.stdout.write(`store alone (a log entry and its message, one fsynced transaction per message, WAL, in process): ${ceiling.perSecond} msgs/s\n`);
  process.stdout.write(
    `write path: ${opts.seconds}s per run after ${opts.warmupSeconds}s warm-up, ${opts.size}-character messages, window ${opts.window}, ` +
      `${opts.roomPerSender ? 'one room per sender' : 'all senders in one room'}, Node ${process.versions.node}, load generator in this process\n`,
  );
  const results: RunResult[] = [];
  let runNo = 0;
  for (const nodes of [...new Set(opts.scenarios.map((s) => SCENARIOS[s].nodes))]) {
    const target = await startChatCluster({ nodes });
    try {
      await sleep(1000); // let the peers see each other
      for (const scenario of opts.scenarios.filter((s) => SCENARIOS[s].nodes === nodes)) {
        process.stdout.write(`\n${scenario}: ${SCENARIOS[scenario].label}\n`);
        for (const senders of opts.senders) {
          const r = await runOne(target, scenario, senders, opts, runNo++);
          results.push(r);
          process.stdout.write(
            `  ${String(senders).padStart(3)} sender(s): ${String(r.perSecond).padStart(6)} msgs/s stored+acked, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms` +
              `${r.storedMatchesAcks ? '' : `  STORED ${r.stored} != ACKED`}${r.replicaCatchUpMs !== undefined ? `, replicas caught up ${r.replicaCatchUpMs} ms after the end` : ''}\n`,
          );
        }
      }
    } finally {
      await target.stop();
    }
  }
  process.stdout.write(`\n${table(results)}\n`);
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ options: opts, storeAlone: ceiling, results }, null, 2));
  if (results.some((r) => !r.storedMatchesAcks || r.errors > 0)) process.exitCode = 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error)?.stack ?? e}\n`);
  process.exit(1);
});
