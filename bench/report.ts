// The result document (the reference's top-level keys plus delivery figures) and its text form.
import { cpus, loadavg } from 'node:os';
import type { PhaseResult } from './load';
import type { ProcUsage } from './proc';
import type { LatencyStats } from './stats';
import type { Scenario } from './scenarios';

export interface CeilingComparison {
  raw_deliveries_per_sec: number;
  raw_e2e_p50_ms: number;
  raw_e2e_p99_ms: number;
  fraction_of_ceiling: number; // chat deliveries/s divided by raw deliveries/s
}

export interface BenchReport {
  benchmark_config: Record<string, unknown>;
  summary: Record<string, unknown>;
  latency_stats: LatencyStats;
  per_client_metrics: PhaseResult['per_client'];
  delivery: Record<string, unknown>;
  ack_latency_stats: LatencyStats;
  connect_stats: LatencyStats;
  join_stats: LatencyStats;
  nodes: ProcUsage[];
  load_generator: PhaseResult['load_generator'];
  machine: { cpus: number; loadavg_1m_before: number; loadavg_1m_after: number; cpu_busy_percent: number; other_processes_cpu_percent: number };
  ceiling?: CeilingComparison;
  stages?: unknown[];
  profile?: unknown;
  memory?: unknown;
}

export function machineBefore(): number {
  return Math.round(loadavg()[0] * 100) / 100;
}

export function buildReport(args: {
  scenario: Scenario;
  target: string;
  urls: string[];
  phase: PhaseResult;
  wallSeconds: number;
  connect: LatencyStats;
  join: LatencyStats;
  clientsConnected: number;
  nodes: ProcUsage[];
  loadBefore: number;
  machineCpu: number;
  otherCpu: number;
}): BenchReport {
  const { scenario: sc, phase } = args;
  const received = phase.per_client.reduce((s, c) => s + c.messages_received, 0);
  const d = phase.deliveries;
  return {
    benchmark_config: {
      scenario: sc.name,
      description: sc.description,
      target: args.target,
      num_clients: sc.clients,
      messages_per_client: sc.messages,
      num_rooms: sc.rooms,
      room_assignment: sc.assign ?? 'mod',
      nodes: args.urls,
      rate_per_client: sc.rate,
      window: sc.window,
      senders: sc.senders || sc.clients,
      content_size: phase.config.contentSize,
      timestamp: new Date().toISOString(),
    },
    summary: {
      total_duration_seconds: round(args.wallSeconds),
      total_messages_sent: phase.messages_sent,
      total_messages_received: received,
      total_errors: phase.send_errors,
      overall_throughput_msg_per_sec: round(phase.messages_sent / (args.wallSeconds || 1)),
      clients_connected: args.clientsConnected,
      success_rate: phase.messages_sent ? round((phase.messages_sent - phase.send_errors) / phase.messages_sent, 6) : 0,
      // ours: what users feel
      deliveries_per_sec: phase.deliveries_per_sec,
      messages_per_sec: phase.messages_per_sec,
      offered_msg_per_sec: phase.offered_msg_per_sec,
      send_phase_seconds: phase.duration_s,
      deliveries_expected: d.expected,
      deliveries_delivered: d.delivered,
      lost: d.lost,
      duplicated: d.duplicated,
      out_of_order: d.out_of_order,
      drained: phase.drained,
    },
    latency_stats: phase.e2e_latency,
    per_client_metrics: phase.per_client,
    delivery: { ...d, messages_acked: phase.messages_acked, send_errors: phase.send_errors, send_duration_s: phase.send_duration_s },
    ack_latency_stats: phase.ack_latency,
    connect_stats: args.connect,
    join_stats: args.join,
    nodes: args.nodes,
    load_generator: phase.load_generator,
    machine: {
      cpus: cpus().length,
      loadavg_1m_before: args.loadBefore,
      loadavg_1m_after: machineBefore(),
      cpu_busy_percent: args.machineCpu,
      other_processes_cpu_percent: args.otherCpu,
    },
  };
}

export function formatReport(r: BenchReport): string {
  const c = r.benchmark_config;
  const s = r.summary;
  const l = r.latency_stats;
  const a = r.ack_latency_stats;
  const pace = c.rate_per_client ? `${c.rate_per_client} msg/s per client` : `unpaced (window ${c.window || 'unlimited'})`;
  const lines = [
    `== ${c.scenario} on ${c.target} (${(c.nodes as string[]).length} node(s)) ==`,
    `  ${c.num_clients} clients, ${c.senders} sending ${c.messages_per_client} msgs each, ${c.num_rooms} room(s), ${pace}`,
    `  deliveries/s ${s.deliveries_per_sec}   messages/s ${s.messages_per_sec}   delivered ${s.deliveries_delivered}/${s.deliveries_expected}` +
      `   lost ${s.lost}  dup ${s.duplicated}  out-of-order ${s.out_of_order}  send errors ${s.total_errors}${s.drained ? '' : '  (NOT DRAINED)'}`,
    `  end-to-end latency ms: p50 ${l.median_latency_ms}  p95 ${l.p95_latency_ms}  p99 ${l.p99_latency_ms}  max ${l.max_latency_ms}  (n=${l.samples})`,
    `  ack latency ms:        p50 ${a.median_latency_ms}  p99 ${a.p99_latency_ms}  max ${a.max_latency_ms}`,
    `  connect ms p50 ${r.connect_stats.median_latency_ms} max ${r.connect_stats.max_latency_ms}   join ms p50 ${r.join_stats.median_latency_ms} max ${r.join_stats.max_latency_ms}`,
  ];
  for (const n of r.nodes) {
    lines.push(`  ${n.name.padEnd(14)} rss ${n.rss_start_mb} -> peak ${n.rss_peak_mb} MB   cpu avg ${n.cpu_avg_percent}% peak ${n.cpu_peak_percent}%`);
  }
  lines.push(
    `  load generator cpu ${r.load_generator.cpu_percent}%, event-loop delay p99 ${r.load_generator.event_loop_delay_p99_ms} ms; machine load ${r.machine.loadavg_1m_before} -> ${r.machine.loadavg_1m_after}, other processes used ${r.machine.other_processes_cpu_percent}% CPU`,
  );
  if (r.ceiling) {
    lines.push(
      `  raw ws ceiling: ${r.ceiling.raw_deliveries_per_sec} deliveries/s (p50 ${r.ceiling.raw_e2e_p50_ms} ms, p99 ${r.ceiling.raw_e2e_p99_ms} ms) -> chat reaches ${(r.ceiling.fraction_of_ceiling * 100).toFixed(1)}% of the ceiling`,
    );
  }
  return lines.join('\n');
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;
