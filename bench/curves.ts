// `npm run bench:curves [-- --quick]`: how the server's cost grows with the work. Members per
// room, idle rooms per node, history on join, message size and cluster size, each measured on a
// fresh local cluster with real clients (and beside the raw ws ceiling where one exists); the
// figures go to bench-results/curves-<time>.json, the charts to docs/curves/*.svg.
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './cluster';
import { measureHistory, type HistoryPlan } from './curve-history';
import { markdownTables, writeCharts, type CurvesResult, type RoomsPoint, type TrafficCurve } from './curve-output';
import { describePoint, measureTraffic, type TrafficLoad } from './curve-points';
import { createRooms, idleCpuPercent } from './curve-probes';
import { sleep } from './load';
import { readProc } from './proc';

interface Plan {
  members: number[];
  rooms: number[];
  idleSeconds: number;
  history: HistoryPlan;
  sizes: number[];
  nodes: number[];
  /** Members of the room in the size and node curves. */
  baseMembers: number;
  messagesPerSender: number;
}

// Every traffic point offers the same load: 10 senders x 2 msgs/s = 20 messages/s in total, paced,
// so the curves show what one more member, room, byte or node costs, not a saturated cluster.
const SENDERS = 10;
const RATE = 2;

const FULL: Plan = {
  members: [10, 100, 1000],
  rooms: [10, 1000, 10000],
  idleSeconds: 10,
  history: { lengths: [100, 10000, 100000], fillers: 4, joinsEach: 10 },
  sizes: [100, 5000],
  nodes: [3, 5],
  baseMembers: 100,
  messagesPerSender: 20,
};

const QUICK: Plan = {
  members: [10, 100],
  rooms: [10, 300],
  idleSeconds: 3,
  history: { lengths: [100, 1000], fillers: 4, joinsEach: 3 },
  sizes: [100, 5000],
  nodes: [3, 5],
  baseMembers: 20,
  messagesPerSender: 8,
};

const DIMENSIONS = ['members', 'rooms', 'history', 'size', 'nodes'] as const;

const HELP = `Usage: npm run bench:curves -- [options]
  -q, --quick          a reduced set (members 10/100, 300 rooms, history 1000, 20 members for size and nodes): 2-3 minutes
      --only LIST      comma list of ${DIMENSIONS.join(', ')} (default: all)
      --seed N         seed of the load generator's random numbers (default 1)
      --charts DIR     where the SVG charts go (default docs/curves; --quick: bench-results/curves-quick)
      --charts-from F  only redraw the charts (and print the tables) from a saved JSON file
  -o, --output FILE    JSON file (default bench-results/curves-<time>.json)
  -h, --help`;

/**
 * Replaces Math.random with a seeded generator for this process: bench/load.ts spreads paced
 * senders' start times with Math.random, and seeded runs send at the same offsets every time.
 */
function seedMathRandom(seed: number): void {
  let state = seed >>> 0 || 1;
  Math.random = () => {
    // xorshift32: enough for spreading start times, and one line to read
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

function trafficLoad(plan: Plan, members: number, overrides: Partial<TrafficLoad> = {}): TrafficLoad {
  return { nodes: 3, clients: members, rooms: 1, senders: Math.min(SENDERS, members), ratePerSender: RATE, messagesPerSender: plan.messagesPerSender, contentSize: 100, ...overrides };
}

async function trafficCurve(parameter: string, xs: number[], loadFor: (x: number) => TrafficLoad, withCeiling: boolean, log: (s: string) => void): Promise<TrafficCurve> {
  const curve: TrafficCurve = { parameter, points: [] };
  for (const x of xs) {
    const chat = await measureTraffic('chat', loadFor(x));
    log(describePoint(`${parameter} ${x}`, chat));
    const raw = withCeiling ? await measureTraffic('raw', { ...loadFor(x), nodes: 1 }) : undefined;
    if (raw) log(describePoint(`${parameter} ${x}`, raw));
    curve.points.push({ x, chat, raw });
  }
  return curve;
}

/** Idle rooms: made on node1 (every node keeps a replica), left quiet, measured, then 10 more rooms get traffic beside them. */
async function roomsCurve(plan: Plan, log: (s: string) => void): Promise<RoomsPoint[]> {
  const points: RoomsPoint[] = [];
  for (const rooms of plan.rooms) {
    let made: Omit<RoomsPoint, 'traffic'> | undefined;
    const traffic = await measureTraffic('chat', trafficLoad(plan, 100, { rooms: 10 }), async (target, pids) => {
      const perSec = await createRooms(target.nodes[0].url, rooms, 50, `r${rooms}`);
      log(`  rooms ${rooms}: created at ${Math.round(perSec)} rooms/s; waiting for the cluster to go quiet...`);
      await sleep(3000); // the rooms' logs stop being ticked once quiet; WAL checkpoints finish
      const idle = await idleCpuPercent(pids, plan.idleSeconds);
      const rss = pids.map((pid) => Math.round((readProc(pid)?.rssKb ?? 0) / 102.4) / 10);
      made = { rooms, create_rooms_per_sec: Math.round(perSec), idle_cpu_percent_per_node: idle, idle_rss_mb_per_node: rss };
      log(`  rooms ${rooms}: idle CPU ${idle.join(' / ')} % per node over ${plan.idleSeconds} s, RSS ${rss.join(' / ')} MB`);
      return { ...made };
    });
    log(describePoint(`${rooms} idle rooms + 10 busy`, traffic));
    points.push({ ...made!, traffic });
  }
  return points;
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', short: 'q' },
      only: { type: 'string' },
      seed: { type: 'string' },
      charts: { type: 'string' },
      'charts-from': { type: 'string' },
      output: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const only = values.only ? values.only.split(',') : [...DIMENSIONS];
  for (const d of only) if (!(DIMENSIONS as readonly string[]).includes(d)) throw new Error(`--only: unknown dimension "${d}" (${DIMENSIONS.join(', ')})`);
  const seed = Number(values.seed ?? 1);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer (got "${values.seed}")`);
  const quick = !!values.quick;
  const charts = resolve(values.charts ?? join(REPO_ROOT, quick ? 'bench-results/curves-quick' : 'docs/curves'));
  return { quick, only, seed, charts, chartsFrom: values['charts-from'], output: values.output };
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const log = (s: string) => console.log(s);
  if (opts.chartsFrom) {
    const saved = JSON.parse(readFileSync(opts.chartsFrom, 'utf8')) as CurvesResult;
    for (const file of writeCharts(saved, opts.charts)) log(`chart: ${file}`);
    log(markdownTables(saved));
    return;
  }
  seedMathRandom(opts.seed);
  const plan = opts.quick ? QUICK : FULL;
  const started = new Date();
  const wall0 = performance.now();
  const result: CurvesResult = {
    started_at: started.toISOString(),
    finished_at: '',
    wall_seconds: 0,
    quick: opts.quick,
    seed: opts.seed,
    server_revision: serverRevision(),
    machine: { cpus: cpus().length, loadavg_1m_before: round(loadavg()[0]), loadavg_1m_after: 0 },
  };
  const stamp = started.toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const out = resolve(opts.output ?? join(REPO_ROOT, 'bench-results', `curves-${stamp}.json`));
  mkdirSync(resolve(out, '..'), { recursive: true });
  const save = () => writeFileSync(out, JSON.stringify(result, null, 2)); // after every dimension: a failure later keeps what was measured
  const dimension = async (name: (typeof DIMENSIONS)[number], run: () => Promise<void>) => {
    if (!opts.only.includes(name)) return;
    const t0 = performance.now();
    log(`-- ${name}`);
    await run();
    log(`   (${name}: ${Math.round((performance.now() - t0) / 1000)} s)`);
    save();
  };
  log(`cost curves${opts.quick ? ' (quick)' : ''}: ${SENDERS} senders x ${RATE} msgs/s per traffic point, seed ${opts.seed}`);
  await dimension('members', async () => {
    result.members = await trafficCurve('members', plan.members, (m) => trafficLoad(plan, m), true, log);
  });
  await dimension('rooms', async () => {
    result.rooms = await roomsCurve(plan, log);
  });
  await dimension('history', async () => {
    result.history = await measureHistory(plan.history, log);
  });
  await dimension('size', async () => {
    result.message_size = await trafficCurve('content characters', plan.sizes, (size) => trafficLoad(plan, plan.baseMembers, { contentSize: size }), true, log);
  });
  await dimension('nodes', async () => {
    result.nodes = await trafficCurve('nodes', plan.nodes, (nodes) => trafficLoad(plan, plan.baseMembers, { nodes }), false, log);
  });
  result.finished_at = new Date().toISOString();
  result.wall_seconds = Math.round((performance.now() - wall0) / 1000);
  result.machine.loadavg_1m_after = round(loadavg()[0]);
  save();
  log(markdownTables(result));
  for (const file of writeCharts(result, opts.charts)) log(`chart: ${file}`);
  log(`JSON: ${out}  (${result.wall_seconds} s in all)`);
}

/** Which server code was measured: the commit, marked -dirty when src/ had uncommitted changes. */
function serverRevision(): string | null {
  try {
    const head = execSync('git rev-parse --short HEAD', { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execSync('git status --porcelain -- src', { cwd: REPO_ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}-dirty` : head;
  } catch {
    return null;
  }
}

const round = (x: number) => Math.round(x * 100) / 100;

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`bench:curves failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
