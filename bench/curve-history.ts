// The history curve: one room on a real cluster filled to each length in turn, and after each
// fill new members join it, some asking for the whole room (the default replay, capped by
// HISTORY_REPLAY_LIMIT) and some for the last 100 messages (what the web client asks for).
import { startChatCluster } from './cluster';
import { cpuSeconds, idleCpuPercent, timeJoin, type JoinTiming } from './curve-probes';
import { LoadSession, sleep } from './load';
import { readProc } from './proc';
import { latencyStats } from './stats';

/** The join a web client makes: the last page only, older pages on demand. */
export const PAGED_JOIN_LIMIT = 100;

export interface HistoryPlan {
  lengths: number[]; // messages in the room, ascending
  fillers: number; // members that write the history (unpaced)
  joinsEach: number; // joins per kind and length
}

export interface JoinCost {
  kind: 'whole' | 'paged';
  history_limit: number | null;
  joins: number;
  replayed_per_join: number;
  kb_per_join: number;
  ms_to_last_replayed_p50: number;
  ms_to_last_replayed_max: number;
  ms_to_success_p50: number;
  server_cpu_ms_per_join: number; // every node's CPU during the joins, divided by the joins
  server_cpu_ms_per_join_above_idle: number; // the same less what the nodes use meanwhile with nothing to do
  oldest_page_ms_p50: number | null; // paged joins: get_history for messages 1-50 after the join
}

export interface HistoryPoint {
  history: number;
  fill_msgs_per_sec: number;
  rss_mb_total: number;
  rss_mb_host: number;
  whole: JoinCost;
  paged: JoinCost;
}

export async function measureHistory(plan: HistoryPlan, log: (s: string) => void): Promise<HistoryPoint[]> {
  const target = await startChatCluster({ nodes: 3 });
  const host = target.nodes[0];
  const pids = target.nodes.map((n) => n.pid!);
  // The writers all sit on the room's host: the fill measures nothing, it only has to be quick.
  const session = new LoadSession({ urls: [host.url], clients: plan.fillers, rooms: 1, assign: 'mod', connectConcurrency: 10, joinConcurrency: 10, timeoutMs: 60000 });
  const points: HistoryPoint[] = [];
  let joiner = 0;
  try {
    await session.connect();
    await session.createRooms();
    await session.join();
    await session.settle();
    const roomId = session.rooms[0].id;
    let stored = 0;
    for (const length of plan.lengths) {
      const perFiller = Math.ceil((length - stored) / plan.fillers);
      const t0 = performance.now();
      const fill = await session.runPhase({ messages: perFiller, rate: 0, window: 50, senders: 0, contentSize: 100, drainMs: 5000 });
      stored += fill.messages_acked;
      const fillRate = Math.round(fill.messages_acked / ((performance.now() - t0) / 1000));
      log(`  history: room holds ${stored} messages (filled at ${fillRate} msgs/s, lost ${fill.deliveries.lost}); joining...`);
      await sleep(1000); // let the followers' applies and the WAL checkpoint finish before timing joins
      const idle = (await idleCpuPercent(pids, 2)).reduce((a, b) => a + b, 0) / 100; // cores, all nodes
      const joinAs = async (kind: 'whole' | 'paged'): Promise<JoinCost> => {
        const limit = kind === 'paged' ? PAGED_JOIN_LIMIT : undefined;
        const timings: JoinTiming[] = [];
        const cpu0 = cpuSeconds(pids);
        const t0 = performance.now();
        for (let i = 0; i < plan.joinsEach; i++) timings.push(await timeJoin(host.url, roomId, `late_joiner_${joiner++}`, limit, kind === 'paged'));
        const cpu = cpuSeconds(pids) - cpu0;
        const busy = Math.max(0, cpu - idle * ((performance.now() - t0) / 1000));
        const done = latencyStats(timings.map((t) => t.ms_to_last_replayed));
        return {
          kind,
          history_limit: limit ?? null,
          joins: timings.length,
          replayed_per_join: Math.round(timings.reduce((s, t) => s + t.replayed, 0) / timings.length),
          kb_per_join: Math.round(timings.reduce((s, t) => s + t.bytes, 0) / timings.length / 102.4) / 10,
          ms_to_last_replayed_p50: done.median_latency_ms,
          ms_to_last_replayed_max: done.max_latency_ms,
          ms_to_success_p50: latencyStats(timings.map((t) => t.ms_to_success)).median_latency_ms,
          server_cpu_ms_per_join: Math.round((cpu / timings.length) * 10000) / 10,
          server_cpu_ms_per_join_above_idle: Math.round((busy / timings.length) * 10000) / 10,
          oldest_page_ms_p50: kind === 'paged' ? latencyStats(timings.map((t) => t.page_ms ?? 0)).median_latency_ms : null,
        };
      };
      const whole = await joinAs('whole');
      const paged = await joinAs('paged');
      const rss = pids.map((pid) => (readProc(pid)?.rssKb ?? 0) / 1024);
      const point: HistoryPoint = {
        history: stored,
        fill_msgs_per_sec: fillRate,
        rss_mb_total: Math.round(rss.reduce((a, b) => a + b, 0) * 10) / 10,
        rss_mb_host: Math.round(rss[0] * 10) / 10,
        whole,
        paged,
      };
      points.push(point);
      for (const j of [whole, paged]) {
        log(
          `  history ${String(stored).padStart(6)} join ${j.kind.padEnd(5)}: ${j.replayed_per_join} replayed (${j.kb_per_join} KB), ` +
            `success p50 ${j.ms_to_success_p50} ms, last replayed p50 ${j.ms_to_last_replayed_p50} ms (max ${j.ms_to_last_replayed_max}), ${j.server_cpu_ms_per_join} ms server CPU per join (${j.server_cpu_ms_per_join_above_idle} above idle)` +
            (j.oldest_page_ms_p50 !== null ? `; then the oldest page (get_history) p50 ${j.oldest_page_ms_p50} ms` : ''),
        );
      }
    }
    return points;
  } finally {
    await session.close().catch(() => {});
    await target.stop();
  }
}
