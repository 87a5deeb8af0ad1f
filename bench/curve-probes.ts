// What the cost curves need beyond bench/load.ts: many rooms made quickly, a quiet cluster's CPU,
// and one late joiner timed until the history its join replays has arrived.
import WebSocket from 'ws';
import { sleep } from './load';
import { readProc } from './proc';

const CLK_TCK = 100; // as in bench/proc.ts

type Frame = { type: string; data: any };

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 << 20 });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/**
 * Creates `count` rooms on the node at `url` over `connections` sockets, each one request at a
 * time: creates that arrive in the same event-loop turn share one commit on the node, so a few
 * parallel sockets make 10000 rooms in seconds instead of minutes. Returns rooms per second.
 */
export async function createRooms(url: string, count: number, connections: number, tag: string): Promise<number> {
  const sockets = await Promise.all(Array.from({ length: Math.min(connections, count) }, () => open(url)));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    sockets.map(
      (ws, i) =>
        new Promise<void>((resolve, reject) => {
          const ask = () => {
            if (next >= count) return resolve();
            const n = next++;
            ws.send(JSON.stringify({ type: 'create_room', data: { room_name: `idle_${tag}_${n}`, creator_id: `creator_${tag}_${i}`, description: 'idle room' } }));
          };
          ws.on('message', (raw) => {
            const frame = JSON.parse(raw.toString()) as Frame;
            if (frame.type !== 'room_created') return;
            if (!frame.data?.room_id) return reject(new Error(`create_room failed: ${JSON.stringify(frame.data)}`));
            ask();
          });
          ask();
        }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  for (const ws of sockets) ws.close();
  return count / seconds;
}

/** CPU the processes use while nothing is asked of them: percent of one core each, over `seconds`. */
export async function idleCpuPercent(pids: number[], seconds: number): Promise<number[]> {
  const before = pids.map((pid) => readProc(pid));
  await sleep(seconds * 1000);
  const after = pids.map((pid) => readProc(pid));
  return pids.map((_, i) => {
    const a = before[i];
    const b = after[i];
    if (!a || !b) return NaN;
    return Math.round(((b.cpuTicks - a.cpuTicks) / CLK_TCK / ((b.at - a.at) / 1000)) * 1000) / 10;
  });
}

/** Sum of the processes' CPU seconds so far. */
export function cpuSeconds(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (readProc(pid)?.cpuTicks ?? 0) / CLK_TCK, 0);
}

export interface JoinTiming {
  ms_to_success: number; // join_room -> join_room_success
  ms_to_last_replayed: number; // join_room -> the last replayed new_message
  replayed: number; // new_message frames received for the room
  bytes: number; // bytes of those frames
  page_ms?: number; // then get_history for the room's oldest page: request -> `history`
}

/** The oldest page a member can ask for: what scrolling all the way back costs. */
const OLDEST_PAGE = { before_sequence: 51, limit: 50 };

/**
 * One new member joins `roomId` on `url` on a fresh connection; with `historyLimit` the join asks
 * only for the last N messages (what the web client does, paging older ones on demand), without
 * it the node replays the whole room up to HISTORY_REPLAY_LIMIT. Timed until the replay reached
 * the `last_sequence` the join announced; with `thenOldestPage`, the member then asks for the room's
 * first 50 messages (get_history) and that page is timed too.
 */
export async function timeJoin(url: string, roomId: string, username: string, historyLimit?: number, thenOldestPage = false, timeoutMs = 120000): Promise<JoinTiming> {
  const ws = await open(url);
  const t0 = performance.now();
  try {
    return await new Promise<JoinTiming>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`join of ${roomId}: replay not complete within ${timeoutMs} ms`)), timeoutMs);
      let success = 0;
      let last = -1;
      let replayed = 0;
      let bytes = 0;
      let timing: JoinTiming | undefined;
      let pageAsked = 0;
      const finish = () => {
        if (timing) return;
        timing = { ms_to_success: round(success - t0), ms_to_last_replayed: round(performance.now() - t0), replayed, bytes };
        if (!thenOldestPage) {
          clearTimeout(timer);
          return resolve(timing);
        }
        pageAsked = performance.now();
        ws.send(JSON.stringify({ type: 'get_history', data: { room_id: roomId, ...OLDEST_PAGE } }));
      };
      ws.on('message', (raw: Buffer) => {
        const text = raw.toString();
        if (text.startsWith('{"type":"new_message"')) {
          replayed++;
          bytes += raw.length;
          if (last >= 0 && Number(/"sequence_number":(\d+)/.exec(text)?.[1]) >= last) finish();
          return;
        }
        const frame = JSON.parse(text) as Frame;
        if (frame.type === 'history' || frame.type === 'history_error') {
          clearTimeout(timer);
          if (frame.type === 'history_error') return reject(new Error(`history_error: ${JSON.stringify(frame.data)}`));
          return resolve({ ...timing!, page_ms: round(performance.now() - pageAsked) });
        }
        if (frame.type === 'join_room_error') return reject(new Error(`join_room_error: ${JSON.stringify(frame.data)}`));
        if (frame.type !== 'join_room_success') return;
        success = performance.now();
        last = Number(frame.data.last_sequence ?? 0);
        if (last === 0 || historyLimit === 0) finish();
      });
      const data: Record<string, unknown> = { room_id: roomId, username };
      if (historyLimit !== undefined) data.history_limit = historyLimit;
      ws.send(JSON.stringify({ type: 'join_room', data }));
    });
  } finally {
    ws.terminate();
  }
}

const round = (x: number) => Math.round(x * 10) / 10;
