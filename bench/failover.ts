// `npm run bench:failover`: how long a room is unwritable after its host dies. Each run starts a
// real three-node cluster, creates a room hosted by node1 with members on every node, sends
// steadily, `kill -9`s node1 and times kill -> first acknowledged send on a survivor: a client on
// node2 that sends one message every ~50 ms with one client_message_id until it is acknowledged.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { REPO_ROOT, startChatCluster, type Target } from './cluster';
import { sleep } from './load';
import { median } from './stats';

const HELP = `Usage: npm run bench:failover -- [--runs N] [--settings LIST] [--rate R] [-o FILE]

  --runs N         runs per setting (default 5, at least 5 for the report)
  --settings LIST  comma list of ${'defaults, test, test-fast'} (default: all three)
                     defaults   HEARTBEAT_* and FAILOVER_TIMEOUT at their defaults
                     test       HEARTBEAT_INTERVAL=2 HEARTBEAT_TIMEOUT=1, FAILOVER_TIMEOUT default
                     test-fast  HEARTBEAT_INTERVAL=2 HEARTBEAT_TIMEOUT=1 FAILOVER_TIMEOUT=1
  --rate R         steady messages/s of each of the three members before and after the kill (default 20)
  --retry-ms MS    the probe's resend interval (default 50)
  --log-level L    the nodes' LOG_LEVEL (default INFO; DEBUG shows every claim and grant)
  --keep-logs DIR  keep each run's node output under DIR/<setting>-<run>/
  -o FILE          JSON results (default bench-results/failover-<time>.json)`;

const SETTINGS: Record<string, Record<string, string>> = {
  defaults: {},
  test: { HEARTBEAT_INTERVAL: '2', HEARTBEAT_TIMEOUT: '1' },
  'test-fast': { HEARTBEAT_INTERVAL: '2', HEARTBEAT_TIMEOUT: '1', FAILOVER_TIMEOUT: '1' },
};
/** A room that is not writable this long after the kill counts as a failed run. */
const GIVE_UP_MS = 30000;

interface Frame {
  type: string;
  data?: Record<string, any>;
}

/** One WebSocket member: frames as they come, and waiting for one that matches. */
class Member {
  private listeners = new Set<(f: Frame) => void>();
  readonly acks = new Map<string, number>(); // client_message_id -> when acknowledged (performance.now)
  hostChanged: { at: number; admin_node: string; host_epoch: number } | null = null;

  private constructor(
    readonly ws: WebSocket,
    readonly username: string,
  ) {
    ws.on('message', (raw) => {
      const f = JSON.parse(String(raw)) as Frame;
      if (f.type === 'message_sent' && f.data?.client_message_id) this.acks.set(f.data.client_message_id, performance.now());
      if (f.type === 'room_host_changed' && !this.hostChanged) this.hostChanged = { at: performance.now(), admin_node: f.data?.admin_node, host_epoch: f.data?.host_epoch };
      for (const l of this.listeners) l(f);
    });
    ws.on('error', () => undefined); // the killed node's members just go quiet
  }

  static async open(url: string, username: string): Promise<Member> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return new Member(ws, username);
  }

  send(type: string, data: Record<string, unknown>): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type, data }));
  }

  waitFor(pred: (f: Frame) => boolean, timeoutMs = 10000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (this.listeners.delete(l), reject(new Error(`${this.username}: no matching frame within ${timeoutMs} ms`))), timeoutMs);
      const l = (f: Frame) => {
        if (!pred(f)) return;
        clearTimeout(timer);
        this.listeners.delete(l);
        resolve(f);
      };
      this.listeners.add(l);
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

interface RunResult {
  setting: string;
  run: number;
  /** kill -> first message_sent for the probe's client_message_id, ms (null: not within GIVE_UP_MS). */
  writable_ms: number | null;
  /** kill -> room_host_changed at the node2 member, ms. */
  host_changed_ms: number | null;
  new_host: string | null;
  host_epoch: number | null;
  probe_attempts: number;
  /** Messages with the probe's content in node2's history afterwards (must be exactly 1). */
  probe_copies: number;
  steady_acked_before_kill: number;
  failover_log: string | null;
}

interface RunOptions {
  rate: number;
  retryMs: number;
  logLevel: string;
  keepLogs?: string;
}

async function oneRun(setting: string, run: number, opts: RunOptions): Promise<RunResult> {
  const { rate, retryMs } = opts;
  const target = await startChatCluster({ nodes: 3, env: { LOG_LEVEL: opts.logLevel, ...SETTINGS[setting] } });
  const members: Member[] = [];
  let stopSteady: () => void = () => undefined;
  try {
    const [n1, n2, n3] = target.nodes;
    const owner = await Member.open(n1.url, 'owner');
    members.push(owner);
    owner.send('create_room', { room_name: `failover-${setting}-${run}-${Date.now()}`, creator_id: 'owner', description: null });
    const created = await owner.waitFor((f) => f.type === 'room_created');
    const roomId = String(created.data?.room_id);
    if (created.data?.admin_node !== 'node1') throw new Error(`room created on ${created.data?.admin_node}, not node1`);
    const others = [await Member.open(n2.url, 'm2'), await Member.open(n3.url, 'm3')];
    members.push(...others);
    for (const m of members) {
      m.send('join_room', { room_id: roomId, username: m.username });
      await m.waitFor((f) => f.type === 'join_room_success' && f.data?.room_id === roomId);
    }
    // Steady traffic from every member, one fresh client_message_id per message, never retried.
    let seq = 0;
    const timer = setInterval(() => {
      for (const m of members) m.send('send_message', { room_id: roomId, username: m.username, content: `steady ${m.username} ${seq}`, client_message_id: `${m.username}-${seq}` });
      seq += 1;
    }, 1000 / rate);
    stopSteady = () => clearInterval(timer);
    await sleep(1000);
    const ackedBefore = members.reduce((s, m) => s + m.acks.size, 0);
    if (ackedBefore === 0) throw new Error('no steady message was acknowledged before the kill');

    process.kill(n1.pid!, 'SIGKILL');
    const killedAt = performance.now();
    const probe = others[0];
    const cid = `probe-${setting}-${run}`;
    const content = `probe after the kill (${cid})`;
    let attempts = 0;
    while (!probe.acks.has(cid) && performance.now() - killedAt < GIVE_UP_MS) {
      probe.send('send_message', { room_id: roomId, username: probe.username, content, client_message_id: cid });
      attempts += 1;
      await sleep(retryMs);
    }
    const ackAt = probe.acks.get(cid);
    stopSteady();
    const hc = probe.hostChanged;
    const copies = await probeCopies(probe, roomId, content);
    return {
      setting,
      run,
      writable_ms: ackAt === undefined ? null : Math.round(ackAt - killedAt),
      host_changed_ms: hc ? Math.round(hc.at - killedAt) : null,
      new_host: hc?.admin_node ?? null,
      host_epoch: hc?.host_epoch ?? null,
      probe_attempts: attempts,
      probe_copies: copies,
      steady_acked_before_kill: ackedBefore,
      failover_log: failoverLogLine(target),
    };
  } finally {
    stopSteady();
    for (const m of members) m.close();
    if (opts.keepLogs && target.logDir) cpSync(target.logDir, join(opts.keepLogs, `${setting}-${run}`), { recursive: true, filter: (src) => !/chat\.db/.test(src) });
    await target.stop();
  }
}

/** How many times the probe's message is in the room's history on the prober's node (waits up to 3 s for a replica to catch up). */
async function probeCopies(probe: Member, roomId: string, content: string): Promise<number> {
  const deadline = performance.now() + 3000;
  for (;;) {
    let copies = 0;
    let after = 0;
    for (let page = 0; page < 100; page++) {
      probe.send('get_history', { room_id: roomId, after_sequence: after, limit: 200 });
      const h = await probe.waitFor((f) => (f.type === 'history' || f.type === 'history_error') && f.data?.room_id === roomId);
      const msgs = (h.data?.messages ?? []) as { content: string; sequence_number: number }[];
      copies += msgs.filter((m) => m.content === content).length;
      if (msgs.length === 0 || !h.data?.has_more) break;
      after = msgs[msgs.length - 1].sequence_number;
    }
    if (copies > 0 || performance.now() > deadline) return copies;
    await sleep(100);
  }
}

/** The survivors' "failed over from ..." line, read from their stdout files. */
function failoverLogLine(target: Target): string | null {
  for (const name of ['node2', 'node3']) {
    try {
      const text = readFileSync(join(target.logDir!, `${name}.out`), 'utf8');
      const line = text.split('\n').find((l) => /failed over from/.test(l));
      if (line) return `${name}: ${line.trim().slice(0, 240)}`;
    } catch {
      /* no log */
    }
  }
  return null;
}

function summarise(results: RunResult[]) {
  const ok = results.map((r) => r.writable_ms).filter((v): v is number => v !== null).sort((a, b) => a - b);
  const hc = results.map((r) => r.host_changed_ms).filter((v): v is number => v !== null).sort((a, b) => a - b);
  return {
    runs: results.length,
    writable: ok.length,
    median_ms: ok.length ? Math.round(median(ok)) : null,
    max_ms: ok.length ? ok[ok.length - 1] : null,
    min_ms: ok.length ? ok[0] : null,
    host_changed_median_ms: hc.length ? Math.round(median(hc)) : null,
    duplicates_or_losses: results.filter((r) => r.writable_ms !== null && r.probe_copies !== 1).length,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      settings: { type: 'string', default: Object.keys(SETTINGS).join(',') },
      rate: { type: 'string', default: '20' },
      'retry-ms': { type: 'string', default: '50' },
      'log-level': { type: 'string', default: 'INFO' },
      'keep-logs': { type: 'string' },
      output: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void console.log(HELP);
  const runs = Number(values.runs);
  const settings = values.settings.split(',').map((s) => s.trim());
  for (const s of settings) if (!SETTINGS[s]) throw new Error(`unknown setting ${s}; known: ${Object.keys(SETTINGS).join(', ')}`);
  const all: RunResult[] = [];
  // Settings alternate run by run, so a slow spell on the shared machine hits each of them alike.
  for (let run = 1; run <= runs; run++) {
    for (const setting of settings) {
      const r = await oneRun(setting, run, { rate: Number(values.rate), retryMs: Number(values['retry-ms']), logLevel: values['log-level'], keepLogs: values['keep-logs'] });
      all.push(r);
      console.log(
        `${setting.padEnd(10)} run ${run}: writable after ${r.writable_ms ?? 'NEVER'} ms` +
          ` (room_host_changed ${r.host_changed_ms ?? '-'} ms -> ${r.new_host ?? '?'} epoch ${r.host_epoch ?? '?'}, ${r.probe_attempts} sends, ${r.probe_copies} copy)`,
      );
    }
  }
  const summary = Object.fromEntries(settings.map((s) => [s, { env: SETTINGS[s], ...summarise(all.filter((r) => r.setting === s)) }]));
  console.log('\nkill -9 of the host -> first acknowledged send on a survivor (ms):');
  const envText = (env: Record<string, string>) => Object.entries(env).map(([k, x]) => `${k}=${x}`).join(' ') || '(defaults)';
  const width = Math.max(...Object.values(summary).map((v) => envText(v.env).length));
  console.log(`${'setting'.padEnd(10)} ${'env'.padEnd(width)}  runs  median     max  room_host_changed median`);
  for (const [s, v] of Object.entries(summary)) {
    const cell = (x: number | null) => String(x ?? '-').padStart(7);
    console.log(`${s.padEnd(10)} ${envText(v.env).padEnd(width)}  ${`${v.writable}/${v.runs}`.padStart(4)} ${cell(v.median_ms)} ${cell(v.max_ms)}  ${v.host_changed_median_ms ?? '-'}`);
  }
  const file = values.output ?? join(REPO_ROOT, 'bench-results', `failover-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, JSON.stringify({ summary, runs: all }, null, 2));
  console.log(`\nresults: ${file}`);
  const bad = Object.values(summary).some((v) => v.writable < v.runs || v.duplicates_or_losses > 0);
  if (bad) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
