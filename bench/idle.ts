// `npm run bench:idle`: what an idle cluster costs. Starts a local cluster with default settings and
// no clients, lets it settle, then samples every node's CPU time from /proc over a window and prints
// it as % of one core per node, with the peer calls each node made per second (from /metrics).
// `--against DIR` alternates the runs with another checkout's build (before/after on a shared machine).
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, startChatCluster, type Target } from './cluster';
import { InspectorClient } from './inspector';
import { sleep } from './load';
import { ProcSampler } from './proc';
import { threadTicks } from './threads';
import { formatProfileSummary, summariseProfile } from './profile-summary';
import { median } from './stats';

const HELP = `Usage: npm run bench:idle -- [options]

  --nodes N        cluster size (default 3)
  --settle S       seconds between "all healthy" and the window (default 10)
  --seconds S      length of the sampling window (default 40)
  --runs N         runs per build (default 3)
  --against DIR    another checkout (built: npm run build) to alternate with, e.g. the commit before
  --node-env K=V   a setting for every node (repeatable), e.g. FAILOVER_TIMEOUT=1
  --profile        also CPU-profile node1 over the window (through --inspect) and summarise it
  -o FILE          JSON results (default bench-results/idle-<time>.json)`;

interface RunResult {
  build: string;
  run: number;
  cpu_percent_per_node: number[];
  peer_calls_per_s_per_node: number[];
  other_processes_cpu_percent: number;
  /** Per thread name (main = the event loop), % of a core, summed over the nodes and divided by their number. */
  threads_percent_per_node: Record<string, number>;
}

/** Outgoing peer calls so far, per method, from the node's /metrics (chat_peer_call_seconds_count). */
async function peerCalls(wsUrl: string): Promise<number> {
  const text = await (await fetch(wsUrl.replace(/^ws/, 'http') + '/metrics')).text();
  let total = 0;
  for (const line of text.split('\n')) if (line.startsWith('chat_peer_call_seconds_count')) total += Number(line.split(' ').at(-1));
  return total;
}

async function measure(build: string, root: string, run: number, opts: ReturnType<typeof options>): Promise<RunResult> {
  const target: Target = await startChatCluster({ nodes: opts.nodes, env: opts.env, repoRoot: root, inspect: opts.profile });
  try {
    await sleep(opts.settleS * 1000);
    const inspector = opts.profile && target.nodes[0].inspectPort ? await InspectorClient.connect(target.nodes[0].inspectPort) : undefined;
    await inspector?.startProfiling(1000);
    const callsBefore = await Promise.all(target.nodes.map((n) => peerCalls(n.url)));
    const sampler = new ProcSampler(target.nodes.map((n) => ({ name: n.name, pid: n.pid! })), 1000);
    const threads0 = target.nodes.map((n) => threadTicks(n.pid!));
    sampler.start();
    await sleep(opts.seconds * 1000);
    const usage = sampler.stop();
    const threads: Record<string, number> = {};
    target.nodes.forEach((n, i) => {
      for (const [name, ticks] of threadTicks(n.pid!)) threads[name] = (threads[name] ?? 0) + ticks - (threads0[i].get(name) ?? 0);
    });
    for (const name of Object.keys(threads)) threads[name] = Math.round((threads[name] / 100 / opts.seconds / target.nodes.length) * 1000) / 10;
    const callsAfter = await Promise.all(target.nodes.map((n) => peerCalls(n.url)));
    if (inspector) {
      const profile = (await inspector.stopProfiling()) as Parameters<typeof summariseProfile>[0];
      inspector.close();
      const file = resolve(REPO_ROOT, 'bench-results', 'profiles', `idle-${build}-${run}-${Date.now()}.cpuprofile`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(profile));
      console.log(formatProfileSummary(`node1 of ${build} (${file})`, summariseProfile(profile)));
    }
    return {
      build,
      run,
      cpu_percent_per_node: usage.map((u) => u.cpu_avg_percent),
      peer_calls_per_s_per_node: callsAfter.map((c, i) => Math.round(((c - callsBefore[i]) / opts.seconds) * 10) / 10),
      other_processes_cpu_percent: sampler.otherCpuPercent,
      threads_percent_per_node: threads,
    };
  } finally {
    await target.stop();
  }
}

function options(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string', default: '3' },
      settle: { type: 'string', default: '10' },
      seconds: { type: 'string', default: '40' },
      runs: { type: 'string', default: '3' },
      against: { type: 'string' },
      'node-env': { type: 'string', multiple: true },
      profile: { type: 'boolean' },
      output: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const env: Record<string, string> = {};
  for (const kv of values['node-env'] ?? []) {
    const eq = kv.indexOf('=');
    if (eq < 1) throw new Error(`--node-env wants K=V, got "${kv}"`);
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return {
    nodes: Number(values.nodes),
    settleS: Number(values.settle),
    seconds: Number(values.seconds),
    runs: Number(values.runs),
    against: values.against ? resolve(values.against) : undefined,
    env,
    profile: values.profile ?? false,
    output: values.output,
  };
}

const range = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return `${sorted[0]}-${sorted.at(-1)} (median ${median(sorted)})`;
};

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2));
  const builds: [string, string][] = [['this', REPO_ROOT], ...(opts.against ? [['against', opts.against] as [string, string]] : [])];
  console.log(`idle ${opts.nodes}-node cluster: settle ${opts.settleS} s, window ${opts.seconds} s, ${opts.runs} run(s) per build${opts.against ? `, alternating with ${opts.against}` : ''}`);
  const results: RunResult[] = [];
  for (let run = 1; run <= opts.runs; run++) {
    for (const [build, root] of builds) {
      const r = await measure(build, root, run, opts);
      results.push(r);
      console.log(`  [${build} run ${run}] % of a core per node: ${r.cpu_percent_per_node.join(', ')}; peer calls/s per node: ${r.peer_calls_per_s_per_node.join(', ')}; other processes ${r.other_processes_cpu_percent}%`);
      console.log(`      by thread (% of a core, mean per node): ${Object.entries(r.threads_percent_per_node).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    }
  }
  for (const [build, root] of builds) {
    const mine = results.filter((r) => r.build === build);
    console.log(`${build} (${root}): % of a core per node ${range(mine.flatMap((r) => r.cpu_percent_per_node))}; peer calls/s per node ${range(mine.flatMap((r) => r.peer_calls_per_s_per_node))}`);
  }
  const out = resolve(opts.output ?? join(REPO_ROOT, 'bench-results', `idle-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}.json`));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ options: opts, results }, null, 2));
  console.log(`JSON: ${out}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`bench:idle failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
