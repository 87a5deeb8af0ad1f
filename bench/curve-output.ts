// The cost curves' results as files: the SVG charts (one per dimension) and a Markdown table,
// both made from the JSON document alone, so charts can be redrawn from a saved run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HistoryPoint } from './curve-history';
import type { TrafficPoint } from './curve-points';
import { renderChart, type Chart, type Panel, type Series } from './svg-chart';

/** A traffic dimension: the parameter's values, each measured on chat and (where one exists) on the ceiling. */
export interface TrafficCurve {
  parameter: string;
  points: { x: number; chat: TrafficPoint; raw?: TrafficPoint }[];
}

export interface RoomsPoint {
  rooms: number; // idle rooms on the cluster (all hosted by node1, every node holds a replica)
  create_rooms_per_sec: number;
  idle_cpu_percent_per_node: number[]; // no clients, no traffic
  idle_rss_mb_per_node: number[];
  traffic: TrafficPoint; // 10 more rooms with traffic beside them
}

export interface CurvesResult {
  started_at: string;
  finished_at: string;
  wall_seconds: number;
  quick: boolean;
  seed: number;
  server_revision: string | null;
  machine: { cpus: number; loadavg_1m_before: number; loadavg_1m_after: number };
  members?: TrafficCurve;
  message_size?: TrafficCurve;
  nodes?: TrafficCurve;
  rooms?: RoomsPoint[];
  history?: HistoryPoint[];
}

const CHAT = 'chat cluster';
const RAW = 'raw ws ceiling';

function trafficPanels(curve: TrafficCurve): Panel[] {
  const series = (pick: (p: TrafficPoint) => number): Series[] => {
    const out: Series[] = [{ name: CHAT, points: curve.points.map((p) => ({ x: p.x, y: pick(p.chat) })) }];
    const raw = curve.points.filter((p) => p.raw);
    if (raw.length > 0) out.push({ name: RAW, points: raw.map((p) => ({ x: p.x, y: pick(p.raw!) })) });
    return out;
  };
  return [
    { title: 'server CPU per delivery', yLabel: 'µs', series: series((p) => p.cpu_us_per_delivery) },
    { title: 'server CPU per message', yLabel: 'µs', series: series((p) => p.cpu_us_per_message) },
    { title: 'end-to-end p99', yLabel: 'ms', series: series((p) => p.e2e_p99_ms) },
    { title: 'RSS, all server processes', yLabel: 'MB', series: series((p) => p.rss_mb_total) },
  ];
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export function chartsFor(result: CurvesResult): Record<string, Chart> {
  const charts: Record<string, Chart> = {};
  if (result.members) charts['members-per-room'] = { title: 'Members per room (1 room, 3 nodes, 20 msgs/s)', xLabel: 'members', panels: trafficPanels(result.members) };
  if (result.message_size) charts['message-size'] = { title: 'Message size (1 room, 3 nodes, 20 msgs/s)', xLabel: 'content characters', panels: trafficPanels(result.message_size) };
  if (result.nodes) charts['nodes'] = { title: 'Nodes in the cluster (1 room, 20 msgs/s)', xLabel: 'nodes', panels: trafficPanels(result.nodes) };
  if (result.rooms) {
    const pts = result.rooms;
    const line = (name: string, pick: (p: RoomsPoint) => number): Series => ({ name, points: pts.map((p) => ({ x: p.rooms, y: pick(p) })) });
    charts['rooms-per-node'] = {
      title: 'Idle rooms per node (3 nodes; traffic in 10 more rooms)',
      xLabel: 'idle rooms',
      panels: [
        { title: 'idle CPU, all nodes (no traffic)', yLabel: '% of a core', series: [line(CHAT, (p) => sum(p.idle_cpu_percent_per_node))] },
        { title: 'idle RSS, all nodes', yLabel: 'MB', series: [line(CHAT, (p) => sum(p.idle_rss_mb_per_node))] },
        { title: 'server CPU per delivery', yLabel: 'µs', series: [line(CHAT, (p) => p.traffic.cpu_us_per_delivery)] },
        { title: 'end-to-end p99', yLabel: 'ms', series: [line(CHAT, (p) => p.traffic.e2e_p99_ms)] },
      ],
    };
  }
  if (result.history) {
    const pts = result.history;
    const both = (pick: (p: HistoryPoint, kind: 'whole' | 'paged') => number): Series[] => [
      { name: 'join replays the whole room', points: pts.map((p) => ({ x: p.history, y: pick(p, 'whole') })) },
      { name: 'join asks for the last 100', points: pts.map((p) => ({ x: p.history, y: pick(p, 'paged') })) },
    ];
    charts['history-on-join'] = {
      title: 'History already in the room when a member joins (3 nodes)',
      xLabel: 'messages in the room',
      panels: [
        { title: 'time to the last replayed message', yLabel: 'ms', series: both((p, k) => p[k].ms_to_last_replayed_p50) },
        { title: 'server CPU per join, above idle', yLabel: 'ms', series: both((p, k) => p[k].server_cpu_ms_per_join_above_idle) },
        { title: 'messages replayed per join', yLabel: 'messages', series: both((p, k) => p[k].replayed_per_join) },
      ],
    };
  }
  return charts;
}

export function writeCharts(result: CurvesResult, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(chartsFor(result)).map(([name, chart]) => {
    const file = join(dir, `${name}.svg`);
    writeFileSync(file, renderChart(chart));
    return file;
  });
}

/** The figures as Markdown tables (for docs/performance.md and the console). */
export function markdownTables(result: CurvesResult): string {
  const out: string[] = [];
  const traffic = (title: string, curve: TrafficCurve | undefined) => {
    if (!curve) return;
    out.push(
      `| ${title} | µs CPU / delivery (ceiling) | above idle | idle CPU % | µs CPU / message (ceiling) | p50 / p99 ms (ceiling p99) | RSS MB, all nodes (ceiling) | lost |`,
      '|---|---|---|---|---|---|---|---|',
    );
    for (const { x, chat, raw } of curve.points) {
      out.push(
        `| ${x} | ${chat.cpu_us_per_delivery}${raw ? ` (${raw.cpu_us_per_delivery})` : ''} | ${chat.cpu_us_per_delivery_above_idle} | ${chat.idle_cpu_percent} | ${chat.cpu_us_per_message}${raw ? ` (${raw.cpu_us_per_message})` : ''} | ${chat.e2e_p50_ms} / ${chat.e2e_p99_ms}${raw ? ` (${raw.e2e_p99_ms})` : ''} | ${chat.rss_mb_total}${raw ? ` (${raw.rss_mb_total})` : ''} | ${chat.lost} |`,
      );
    }
    out.push('');
  };
  traffic('members', result.members);
  traffic('content characters', result.message_size);
  traffic('nodes', result.nodes);
  if (result.rooms) {
    out.push('| idle rooms | created/s | idle CPU % per node | idle RSS MB per node | with traffic: µs CPU / delivery | p99 ms |', '|---|---|---|---|---|---|');
    for (const p of result.rooms) {
      out.push(`| ${p.rooms} | ${p.create_rooms_per_sec} | ${p.idle_cpu_percent_per_node.join(' / ')} | ${p.idle_rss_mb_per_node.join(' / ')} | ${p.traffic.cpu_us_per_delivery} | ${p.traffic.e2e_p99_ms} |`);
    }
    out.push('');
  }
  if (result.history) {
    out.push('| messages in room | join | replayed | KB | join_room_success p50 ms | last replayed p50 (max) ms | server CPU ms per join (above idle) | oldest page after it, ms |', '|---|---|---|---|---|---|---|---|');
    for (const p of result.history) {
      for (const j of [p.whole, p.paged]) {
        const label = j.kind === 'whole' ? 'whole room' : `last ${j.history_limit}`;
        out.push(`| ${p.history} | ${label} | ${j.replayed_per_join} | ${j.kb_per_join} | ${j.ms_to_success_p50} | ${j.ms_to_last_replayed_p50} (${j.ms_to_last_replayed_max}) | ${j.server_cpu_ms_per_join} (${j.server_cpu_ms_per_join_above_idle}) | ${j.oldest_page_ms_p50 ?? ''} |`);
      }
    }
    out.push('');
  }
  return out.join('\n');
}
