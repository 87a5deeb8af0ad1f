// One point of a cost curve: a fresh target (chat cluster or raw ceiling), real clients, a paced
// send phase, and what it cost the server processes: CPU per delivery, end-to-end p99, RSS.
import { startChatCluster, startRawServer, type Target } from './cluster';
import { LoadSession } from './load';
import { idleCpuPercent } from './curve-probes';
import { ProcSampler } from './proc';

/** Seconds the connected, joined clients sit quiet before the phase: the cluster's background CPU. */
const IDLE_SECONDS = 3;

export interface TrafficLoad {
  nodes: number; // chat cluster size (the ceiling is always one process)
  clients: number; // members, spread round-robin over the nodes
  rooms: number; // client i joins room i % rooms
  senders: number; // the first N clients send
  ratePerSender: number; // messages/s each
  messagesPerSender: number;
  contentSize: number; // characters of content per message
}

export interface TrafficPoint {
  target: 'chat' | 'raw';
  load: TrafficLoad;
  messages_acked: number;
  deliveries: number;
  lost: number;
  drained: boolean;
  server_cpu_seconds: number; // every node process, summed
  cpu_us_per_delivery: number;
  cpu_us_per_message: number;
  idle_cpu_percent: number; // every node process, summed, with the clients connected and quiet (100 = one core)
  cpu_us_per_delivery_above_idle: number; // the same less what the nodes use with nothing to do
  e2e_p50_ms: number;
  e2e_p99_ms: number;
  rss_mb_total: number; // every node process at the end of the phase, summed
  rss_mb_max_node: number;
  join_ms_p50: number;
  other_processes_cpu_percent: number; // what else ran on the machine meanwhile
  before_load?: Record<string, unknown>; // what the caller measured on the quiet target first
}

/** Runs before any client connects (e.g. fills the cluster with idle rooms and measures it quiet). */
export type BeforeLoad = (target: Target, pids: number[]) => Promise<Record<string, unknown>>;

/** Starts `kind`, connects the clients, joins them, sends, measures, stops everything again. */
export async function measureTraffic(kind: 'chat' | 'raw', load: TrafficLoad, beforeLoad?: BeforeLoad): Promise<TrafficPoint> {
  const target = kind === 'chat' ? await startChatCluster({ nodes: load.nodes }) : await startRawServer();
  const procs = target.nodes.filter((n) => n.pid).map((n) => ({ name: n.name, pid: n.pid! }));
  const session = new LoadSession({
    urls: target.nodes.map((n) => n.url),
    clients: load.clients,
    rooms: load.rooms,
    assign: 'mod',
    connectConcurrency: 100,
    joinConcurrency: 50,
    timeoutMs: 60000,
  });
  try {
    const before = beforeLoad ? await beforeLoad(target, procs.map((p) => p.pid)) : undefined;
    await session.connect();
    await session.createRooms();
    await session.join();
    await session.settle();
    const idle = (await idleCpuPercent(procs.map((p) => p.pid), IDLE_SECONDS)).reduce((a, b) => a + b, 0);
    const sampler = new ProcSampler(procs);
    const t0 = performance.now();
    sampler.start();
    const phase = await session.runPhase({
      messages: load.messagesPerSender,
      rate: load.ratePerSender,
      window: 0,
      senders: load.senders,
      contentSize: load.contentSize,
      drainMs: 3000,
    });
    const usage = sampler.stop();
    const wallSeconds = (performance.now() - t0) / 1000;
    const cpu = usage.reduce((s, u) => s + u.cpu_seconds, 0);
    const busy = Math.max(0, cpu - (idle / 100) * wallSeconds);
    const delivered = phase.deliveries.delivered;
    return {
      target: kind,
      load,
      messages_acked: phase.messages_acked,
      deliveries: delivered,
      lost: phase.deliveries.lost,
      drained: phase.drained,
      server_cpu_seconds: round(cpu, 2),
      cpu_us_per_delivery: delivered ? round((cpu / delivered) * 1e6, 1) : NaN,
      cpu_us_per_message: phase.messages_acked ? round((cpu / phase.messages_acked) * 1e6, 0) : NaN,
      idle_cpu_percent: round(idle, 1),
      cpu_us_per_delivery_above_idle: delivered ? round((busy / delivered) * 1e6, 1) : NaN,
      e2e_p50_ms: phase.e2e_latency.median_latency_ms,
      e2e_p99_ms: phase.e2e_latency.p99_latency_ms,
      rss_mb_total: round(usage.reduce((s, u) => s + u.rss_end_mb, 0), 1),
      rss_mb_max_node: Math.max(...usage.map((u) => u.rss_end_mb)),
      join_ms_p50: session.joinStats().median_latency_ms,
      other_processes_cpu_percent: sampler.otherCpuPercent,
      before_load: before,
    };
  } finally {
    await session.close().catch(() => {});
    await target.stop();
  }
}

/** One line for the console as each point finishes. */
export function describePoint(label: string, p: TrafficPoint): string {
  return (
    `  ${label.padEnd(26)} [${p.target}] ${p.deliveries} deliveries (${p.messages_acked} msgs), ` +
    `${p.cpu_us_per_delivery} µs CPU/delivery (${p.cpu_us_per_delivery_above_idle} above idle ${p.idle_cpu_percent}%), ${p.cpu_us_per_message} µs CPU/msg, p50 ${p.e2e_p50_ms} p99 ${p.e2e_p99_ms} ms, ` +
    `RSS ${p.rss_mb_total} MB (max node ${p.rss_mb_max_node}), lost ${p.lost}${p.drained ? '' : ' NOT DRAINED'}, other CPU ${p.other_processes_cpu_percent}%`
  );
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
