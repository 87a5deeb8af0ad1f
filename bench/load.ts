// The load generator: real WebSocket clients in this process, spread round-robin over the nodes.
// Phases: connect -> create rooms -> join -> send (one or more phases) -> close.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import {
  addCounts,
  decodeContent,
  encodeContent,
  latencyStats,
  MemberRoomLedger,
  SampleBuffer,
  zeroCounts,
  type DeliveryCounts,
  type LatencyStats,
} from './stats';

export interface SessionConfig {
  urls: string[];
  clients: number;
  rooms: number;
  /** `mod`: client i joins room i % rooms (the reference); `block`: clients fill room 0, then room 1, ... */
  assign: 'mod' | 'block';
  connectConcurrency: number;
  joinConcurrency: number;
  timeoutMs: number; // per request (connect, create, join)
}

export interface PhaseConfig {
  messages: number; // per sending client
  rate: number; // messages/s per sending client; 0 = unpaced
  window: number; // unpaced: most unacknowledged messages per client (0 = no limit)
  senders: number; // how many clients send (the first N); 0 = all
  contentSize: number; // pad content to this many characters
  drainMs: number; // stop waiting for deliveries after this long without progress
}

interface RoomState {
  index: number;
  id: string;
  name: string;
  creator: number;
  members: BenchClient[];
  lastSequence: number; // highest sequence number seen in the room so far
  acked: number[]; // sequence numbers acknowledged to senders in the current phase
}

interface ClientPhase {
  ledger: MemberRoomLedger;
  framesReceived: number;
  sent: number;
  acked: number;
  errors: number;
  inflight: number;
  sendTimes: number[]; // FIFO of send times: replies come back in request order
  ackLatency: SampleBuffer;
  e2eLatency?: SampleBuffer; // deliveries of this client's messages, at every member
  firstSend: number;
  lastSend: number;
  done?: () => void;
}

type Frame = { type: string; data: any };

interface NewMessage {
  roomId: string;
  sequence: number;
  meta?: { client: number; n: number; sentAtMs: number };
}

const NEW_MESSAGE_HEAD = /^\{\s*"type"\s*:\s*"new_message"/;
const ROOM_ID = /"room_id"\s*:\s*"([^"\\]+)"/;
const SEQUENCE = /"sequence_number"\s*:\s*(\d+)/;
const BENCH_CONTENT = /"content"\s*:\s*"bench\|(\d+)\|(\d+)\|([\d.]+)/;

/** Reads a `new_message` frame without building the object tree; undefined means "use JSON.parse". */
export function parseNewMessageFast(text: string): NewMessage | undefined {
  if (!NEW_MESSAGE_HEAD.test(text)) return undefined;
  const room = ROOM_ID.exec(text);
  const seq = SEQUENCE.exec(text);
  const content = BENCH_CONTENT.exec(text);
  if (!room || !seq || !content) return undefined;
  return {
    roomId: room[1],
    sequence: Number(seq[1]),
    meta: { client: Number(content[1]), n: Number(content[2]), sentAtMs: Number(content[3]) },
  };
}

class BenchClient {
  ws!: WebSocket;
  connectMs = 0;
  joinMs = 0;
  joinBase = 0;
  username: string;
  phase?: ClientPhase;
  transportErrors = 0;
  closed = false;
  private waiters: { types: string[]; resolve(f: Frame): void }[] = [];
  onNewMessage?: (client: BenchClient, msg: NewMessage, at: number) => void;

  constructor(
    readonly id: number,
    readonly url: string,
    readonly nodeIndex: number,
    readonly room: number,
    runTag: string,
  ) {
    this.username = `bench_user_${id}_${runTag}`;
  }

  connect(timeoutMs: number): Promise<void> {
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
      this.ws = ws;
      ws.once('open', () => {
        this.connectMs = performance.now() - t0;
        resolve();
      });
      ws.once('error', (err) => {
        this.transportErrors++;
        reject(err);
      });
      ws.on('close', () => (this.closed = true));
      ws.on('message', (raw) => this.onFrame(raw as Buffer));
    });
  }

  private onFrame(raw: Buffer): void {
    const at = performance.now();
    const text = raw.toString();
    const phase = this.phase;
    if (phase) phase.framesReceived++;
    // Fast path for the bulk of the traffic: the load generator must not be the bottleneck.
    const fast = parseNewMessageFast(text);
    if (fast) {
      this.onNewMessage?.(this, fast, at);
      return;
    }
    let frame: Frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame.type === 'new_message') {
      const d = frame.data ?? {};
      const meta = typeof d.content === 'string' ? decodeContent(d.content) : undefined;
      this.onNewMessage?.(this, { roomId: d.room_id, sequence: Number(d.sequence_number), meta }, at);
      return;
    }
    if (phase && (frame.type === 'message_sent' || frame.type === 'message_error')) {
      const sentAt = phase.sendTimes.shift();
      if (sentAt !== undefined) phase.ackLatency.push(at - sentAt);
      phase.inflight--;
      if (frame.type === 'message_sent') {
        phase.acked++;
        this.onAck?.(this, frame.data.sequence_number);
      } else {
        phase.errors++;
      }
      this.afterReply?.(this);
      return;
    }
    const i = this.waiters.findIndex((w) => w.types.includes(frame.type));
    if (i >= 0) this.waiters.splice(i, 1)[0].resolve(frame);
  }
  onAck?: (client: BenchClient, sequence: number) => void;
  afterReply?: (client: BenchClient) => void;

  request(type: string, data: object, replies: string[], timeoutMs: number): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${type}: no ${replies.join('/')} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        types: replies,
        resolve: (f: Frame) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      this.waiters.push(waiter);
      this.ws.send(JSON.stringify({ type, data }));
    });
  }
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(size, items.length)) }, worker));
}

export interface PhaseResult {
  config: PhaseConfig;
  started_at: string;
  send_duration_s: number; // first send to last send
  duration_s: number; // first send to last delivery (or end of drain)
  messages_sent: number;
  messages_acked: number;
  send_errors: number;
  deliveries: DeliveryCounts;
  deliveries_per_sec: number;
  messages_per_sec: number; // acknowledged messages / duration
  offered_msg_per_sec: number; // what the senders were configured to offer (0 = unpaced)
  e2e_latency: LatencyStats; // send -> new_message at each member
  ack_latency: LatencyStats; // send -> message_sent at the sender
  drained: boolean; // every acknowledged message reached every member before the drain timeout
  load_generator: { cpu_percent: number; event_loop_delay_p99_ms: number; event_loop_delay_max_ms: number };
  per_client: PerClientMetrics[];
}

export interface PerClientMetrics {
  client_id: number;
  node: string;
  room: number;
  messages_sent: number;
  messages_received: number; // every frame received during the phase (the reference's meaning)
  deliveries_received: number; // distinct new_message frames of the run
  errors: number;
  lost: number;
  duplicated: number;
  out_of_order: number;
  connect_ms: number;
  join_ms: number;
  duration_seconds: number;
  throughput_msg_per_sec: number;
  avg_latency_ms: number;
  min_latency_ms: number;
  max_latency_ms: number;
  median_latency_ms: number;
  p95_latency_ms: number;
  p99_latency_ms: number;
}

export class LoadSession {
  readonly clients: BenchClient[] = [];
  readonly rooms: RoomState[] = [];
  readonly runTag = `${Math.floor(Date.now() / 1000)}_${process.pid}`;
  connectFailures = 0;
  joinFailures = 0;
  private latencyAll?: SampleBuffer;

  constructor(readonly cfg: SessionConfig) {
    const n = cfg.urls.length;
    for (let i = 0; i < cfg.clients; i++) {
      const room = cfg.assign === 'block' ? Math.floor((i * cfg.rooms) / cfg.clients) : i % cfg.rooms;
      this.clients.push(new BenchClient(i, cfg.urls[i % n], i % n, room, this.runTag));
    }
    for (let r = 0; r < cfg.rooms; r++) {
      const members = this.clients.filter((c) => c.room === r);
      if (members.length === 0) throw new Error(`room ${r} has no clients: use at least as many clients as rooms`);
      this.rooms.push({ index: r, id: '', name: `benchmark_${this.runTag}_room_${r}`, creator: members[0].id, members, lastSequence: 0, acked: [] });
    }
    for (const c of this.clients) {
      c.onNewMessage = (client, data, at) => this.onNewMessage(client, data, at);
      c.onAck = (client, seq) => {
        const room = this.rooms[client.room];
        room.acked.push(seq);
        if (seq > room.lastSequence) room.lastSequence = seq;
      };
    }
  }

  async connect(): Promise<void> {
    await inBatches(this.clients, this.cfg.connectConcurrency, async (c) => {
      try {
        await c.connect(this.cfg.timeoutMs);
      } catch {
        this.connectFailures++;
      }
    });
    if (this.connectFailures > 0) throw new Error(`${this.connectFailures} of ${this.clients.length} clients failed to connect`);
  }

  async createRooms(): Promise<void> {
    for (const room of this.rooms) {
      const creator = this.clients[room.creator];
      const reply = await creator.request(
        'create_room',
        { room_name: room.name, creator_id: creator.username, description: 'benchmark room' },
        ['room_created'],
        this.cfg.timeoutMs,
      );
      if (!reply.data?.room_id) throw new Error(`create_room failed: ${JSON.stringify(reply.data)}`);
      room.id = reply.data.room_id;
    }
  }

  async join(): Promise<void> {
    await inBatches(this.clients, this.cfg.joinConcurrency, async (c) => {
      const room = this.rooms[c.room];
      const t0 = performance.now();
      try {
        const reply = await c.request('join_room', { room_id: room.id, username: c.username }, ['join_room_success', 'join_room_error'], this.cfg.timeoutMs);
        if (reply.type !== 'join_room_success') throw new Error(JSON.stringify(reply.data));
        c.joinMs = performance.now() - t0;
        c.joinBase = Number(reply.data.last_sequence ?? 0);
      } catch (err) {
        this.joinFailures++;
        if (this.joinFailures === 1) console.error(`join failed: ${(err as Error).message}`);
      }
    });
    if (this.joinFailures > 0) throw new Error(`${this.joinFailures} of ${this.clients.length} joins failed`);
  }

  /** Waits until no frame has arrived for `quietMs` (member_joined storms after big joins). */
  async settle(quietMs = 300, maxMs = 30000): Promise<void> {
    let last = performance.now();
    const bump = () => (last = performance.now());
    for (const c of this.clients) c.ws.on('message', bump);
    const start = performance.now();
    while (performance.now() - last < quietMs && performance.now() - start < maxMs) await sleep(50);
    for (const c of this.clients) c.ws.off('message', bump);
  }

  private onNewMessage(client: BenchClient, msg: NewMessage, at: number): void {
    const phase = client.phase;
    if (!phase) return;
    const room = this.rooms[client.room];
    if (msg.roomId !== room.id) return;
    const seq = msg.sequence;
    if (seq > room.lastSequence) room.lastSequence = seq;
    if (!phase.ledger.record(seq)) return;
    const meta = msg.meta;
    if (!meta) return;
    const latency = at - meta.sentAtMs;
    this.latencyAll!.push(latency);
    this.clients[meta.client]?.phase?.e2eLatency?.push(latency);
    this.progressAt = at;
    this.deliveredUnique++;
  }
  private progressAt = 0;
  private deliveredUnique = 0;

  async runPhase(pc: PhaseConfig): Promise<PhaseResult> {
    const senders = pc.senders > 0 ? this.clients.slice(0, pc.senders) : this.clients;
    const senderSet = new Set(senders);
    for (const room of this.rooms) room.acked = [];
    this.latencyAll = new SampleBuffer();
    this.deliveredUnique = 0;
    for (const c of this.clients) {
      const room = this.rooms[c.room];
      c.phase = {
        ledger: new MemberRoomLedger(Math.max(room.lastSequence, c.joinBase)),
        framesReceived: 0,
        sent: 0,
        acked: 0,
        errors: 0,
        inflight: 0,
        sendTimes: [],
        ackLatency: new SampleBuffer(),
        e2eLatency: senderSet.has(c) ? new SampleBuffer() : undefined,
        firstSend: 0,
        lastSend: 0,
      };
    }
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const cpu0 = process.cpuUsage();
    const startedAt = new Date().toISOString();
    const t0 = performance.now();
    this.progressAt = t0;

    const sendOne = (c: BenchClient) => {
      const phase = c.phase!;
      const now = performance.now();
      const content = encodeContent(c.id, phase.sent, now, pc.contentSize);
      phase.sendTimes.push(now);
      phase.inflight++;
      if (phase.sent === 0) phase.firstSend = now;
      phase.lastSend = now;
      phase.sent++;
      c.ws.send(`{"type":"send_message","data":{"room_id":${JSON.stringify(this.rooms[c.room].id)},"username":${JSON.stringify(c.username)},"content":${JSON.stringify(content)}}}`);
    };

    // Each sender resolves when it has sent everything; replies are collected by the frame handler.
    const senderDone = senders.map(
      (c) =>
        new Promise<void>((resolve) => {
          const phase = c.phase!;
          if (pc.messages === 0) return resolve();
          if (pc.rate > 0) {
            const interval = 1000 / pc.rate;
            const start = performance.now() + Math.random() * interval; // spread the senders' phases
            const tick = () => {
              if (c.closed) return resolve();
              sendOne(c);
              if (phase.sent >= pc.messages) return resolve();
              setTimeout(tick, Math.max(0, start + phase.sent * interval - performance.now()));
            };
            setTimeout(tick, Math.max(0, start - performance.now()));
          } else {
            const limit = pc.window > 0 ? pc.window : Infinity;
            const pump = () => {
              while (phase.sent < pc.messages && phase.inflight < limit && !c.closed) sendOne(c);
              if (phase.sent >= pc.messages || c.closed) {
                c.afterReply = undefined;
                resolve();
              }
            };
            c.afterReply = pump;
            pump();
          }
        }),
    );
    await Promise.all(senderDone);
    const sendEnd = performance.now();

    // Drain: until every acknowledged message reached every member and every request was
    // answered, or nothing happened for drainMs.
    const expectedDeliveries = () => this.rooms.reduce((sum, r) => sum + r.acked.length * r.members.length, 0);
    const outstanding = () => senders.reduce((sum, c) => sum + c.phase!.inflight, 0);
    let drained = false;
    let lastSeenProgress = this.deliveredUnique;
    let lastChange = performance.now();
    for (;;) {
      if (outstanding() === 0 && this.deliveredUnique >= expectedDeliveries()) {
        drained = true;
        break;
      }
      await sleep(5);
      const now = performance.now();
      const acks = senders.reduce((s, c) => s + c.phase!.acked + c.phase!.errors, 0);
      const progress = this.deliveredUnique + acks;
      if (progress !== lastSeenProgress) {
        lastSeenProgress = progress;
        lastChange = now;
      } else if (now - lastChange > pc.drainMs) break;
    }
    const end = drained ? Math.max(this.progressAt, sendEnd) : performance.now();
    loopDelay.disable();
    const cpu = process.cpuUsage(cpu0);
    const durationS = (end - t0) / 1000;

    let deliveries = zeroCounts();
    const perClient: PerClientMetrics[] = [];
    const ackAll = new SampleBuffer();
    for (const c of this.clients) {
      const phase = c.phase!;
      const counts = phase.ledger.account(this.rooms[c.room].acked);
      deliveries = addCounts(deliveries, counts);
      for (const x of phase.ackLatency.values()) ackAll.push(x);
      const lat = latencyStats(phase.e2eLatency?.values() ?? []);
      const sendS = phase.sent > 0 ? (phase.lastSend - phase.firstSend) / 1000 : 0;
      perClient.push({
        client_id: c.id,
        node: this.cfg.urls[c.nodeIndex],
        room: c.room,
        messages_sent: phase.sent,
        messages_received: phase.framesReceived,
        deliveries_received: counts.delivered,
        errors: phase.errors + c.transportErrors,
        lost: counts.lost,
        duplicated: counts.duplicated,
        out_of_order: counts.out_of_order,
        connect_ms: round(c.connectMs),
        join_ms: round(c.joinMs),
        duration_seconds: round(sendS),
        throughput_msg_per_sec: sendS > 0 ? round(phase.sent / sendS) : 0,
        avg_latency_ms: lat.avg_latency_ms,
        min_latency_ms: lat.min_latency_ms,
        max_latency_ms: lat.max_latency_ms,
        median_latency_ms: lat.median_latency_ms,
        p95_latency_ms: lat.p95_latency_ms,
        p99_latency_ms: lat.p99_latency_ms,
      });
    }
    const sent = senders.reduce((s, c) => s + c.phase!.sent, 0);
    const acked = senders.reduce((s, c) => s + c.phase!.acked, 0);
    const errors = senders.reduce((s, c) => s + c.phase!.errors, 0);
    const sendStart = Math.min(...senders.map((c) => c.phase!.firstSend || Infinity));
    const result: PhaseResult = {
      config: pc,
      started_at: startedAt,
      send_duration_s: round(Number.isFinite(sendStart) ? (sendEnd - sendStart) / 1000 : 0),
      duration_s: round(durationS),
      messages_sent: sent,
      messages_acked: acked,
      send_errors: errors,
      deliveries,
      deliveries_per_sec: durationS > 0 ? Math.round(deliveries.delivered / durationS) : 0,
      messages_per_sec: durationS > 0 ? round(acked / durationS) : 0,
      offered_msg_per_sec: pc.rate > 0 ? round(pc.rate * senders.length) : 0,
      e2e_latency: latencyStats(this.latencyAll.values()),
      ack_latency: latencyStats(ackAll.values()),
      drained,
      load_generator: {
        cpu_percent: round(((cpu.user + cpu.system) / 1000 / (end - t0)) * 100),
        event_loop_delay_p99_ms: round(loopDelay.percentile(99) / 1e6),
        event_loop_delay_max_ms: round(loopDelay.max / 1e6),
      },
      per_client: perClient,
    };
    for (const c of this.clients) c.phase = undefined;
    this.latencyAll = undefined;
    return result;
  }

  connectStats(): LatencyStats {
    return latencyStats(this.clients.map((c) => c.connectMs));
  }

  joinStats(): LatencyStats {
    return latencyStats(this.clients.map((c) => c.joinMs));
  }

  async close(): Promise<void> {
    await Promise.all(
      this.clients.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (!c.ws || c.ws.readyState === WebSocket.CLOSED) return resolve();
            const timer = setTimeout(() => {
              c.ws.terminate();
              resolve();
            }, 2000);
            c.ws.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            c.ws.close();
          }),
      ),
    );
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number) => Math.round(x * 1000) / 1000;
