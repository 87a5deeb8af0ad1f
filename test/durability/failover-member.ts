import type { NodeProcess } from '../../src/cluster/node-process';
import { TestClient, type Frame } from '../support/test-client';
import { eventually, sleep } from '../support/cluster';
import type { AckLedger, AckRecord, StoredMessage } from './failover-ledger';

export interface MemberOptions {
  /** A send (or join) is given up after this long in total (retries included). */
  deadlineMs?: number;
  /** One attempt without a reply this long: the connection is dropped and the request retried (maybe elsewhere). */
  attemptTimeoutMs?: number;
  /** Longest pause between two retries (a reply's retry_after_ms is honoured up to this). */
  maxBackoffMs?: number;
  /**
   * No reply this long: the same send goes again on the same connection (as an impatient app
   * does), until attemptTimeoutMs of silence gives the connection up. 0 (the default): never.
   */
  resendAfterMs?: number;
}

/** A send or join reply that says "try again" (host dead, switch in progress, no majority). */
export const isRetryable = (data: Record<string, any>): boolean => data.retryable === true || data.error_code === 'ADMIN_NODE_UNAVAILABLE';

type Reply = Frame | 'closed' | 'timeout';

/** The first frame `client` receives that `match` takes, 'closed' if the connection ends first, 'timeout'. */
function awaitFrame(client: TestClient, match: (f: Frame) => boolean, timeoutMs: number): Promise<Reply> {
  if (client.closeCode !== null) return Promise.resolve('closed');
  return new Promise((resolve) => {
    const onMessage = (raw: Buffer) => {
      const frame = JSON.parse(raw.toString()) as Frame;
      if (match(frame)) done(frame);
    };
    const onClose = () => done('closed');
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    const done = (r: Reply) => {
      clearTimeout(timer);
      client.ws.off('message', onMessage);
      client.ws.off('close', onClose);
      resolve(r);
    };
    client.ws.on('message', onMessage);
    client.ws.on('close', onClose);
  });
}

/**
 * A careful chat user for fault tests: one request in flight on its connection; a send is retried
 * with the SAME client_message_id on a retryable error, a timeout or a lost connection until it is
 * acknowledged; a lost or silent node is left for the next running one, and every room is joined
 * again there with since_sequence = what the ledger says this user was shown (no gap, no repeat).
 */
export class FailoverMember {
  client!: TestClient;
  /** The node the current connection is on. */
  node!: NodeProcess;
  readonly rooms = new Set<string>();
  /** How many times this member moved to a new connection. */
  reconnects = 0;
  /** Attempts that got no reply within attemptTimeoutMs on an open connection (a silent drop, or a paused node). */
  timeouts = 0;
  /** Sends repeated on the same connection after resendAfterMs without a reply. */
  resends = 0;
  /** Each room's latest join_room_success. */
  readonly joined = new Map<string, Frame>();
  private sent = 0;
  private closed = false;
  private readonly options: Required<MemberOptions>;

  private constructor(
    private readonly ledger: AckLedger,
    readonly username: string,
    /** Every node of the cluster, in the order to try them after the current one. */
    private readonly nodes: NodeProcess[],
    options: MemberOptions,
  ) {
    this.options = { deadlineMs: 20000, attemptTimeoutMs: 5000, maxBackoffMs: 500, resendAfterMs: 0, ...options };
  }

  /** Connects `username` to `home` (one of `nodes`); the ledger watches it under its username. */
  static async connect(ledger: AckLedger, username: string, nodes: NodeProcess[], home: NodeProcess, options: MemberOptions = {}): Promise<FailoverMember> {
    const member = new FailoverMember(ledger, username, nodes, options);
    await member.open(home);
    return member;
  }

  /** Joins `room` (retrying while the room's host is switching); resumes after what was already shown. */
  async join(room: string): Promise<Frame> {
    this.rooms.add(room);
    const deadline = Date.now() + this.options.deadlineMs;
    const reply = await this.joinHere(room, deadline);
    if (reply !== 'lost') {
      this.joined.set(room, reply);
      return reply;
    }
    await this.reconnect(deadline); // joins every room again, this one included
    return this.joined.get(room)!;
  }

  /**
   * Sends one message and resolves with its ack, retrying (same client_message_id) until acked or
   * the deadline; throws on a non-retryable error or at the deadline.
   */
  async send(room: string, content: string, cmid = `${this.username}-${++this.sent}`): Promise<AckRecord> {
    const deadline = Date.now() + this.options.deadlineMs;
    const { resendAfterMs, attemptTimeoutMs } = this.options;
    let silentSince = Date.now();
    for (;;) {
      if (this.closed) throw new Error(`${this.username}: closed with ${cmid} not acknowledged`);
      this.client.send('send_message', { room_id: room, username: this.username, content, client_message_id: cmid });
      const reply = await awaitFrame(
        this.client,
        (f) => (f.type === 'message_sent' && f.data.client_message_id === cmid) || (f.type === 'message_error' && f.data.room_id === room),
        resendAfterMs > 0 ? Math.min(resendAfterMs, attemptTimeoutMs) : attemptTimeoutMs,
      );
      if (typeof reply !== 'string' && reply.type === 'message_sent') return this.ledger.ackOf(room, cmid)!;
      if (typeof reply !== 'string' && !isRetryable(reply.data)) throw new Error(`${this.username}: send ${cmid} to ${room} refused: ${JSON.stringify(reply.data)}`);
      if (Date.now() > deadline) throw new Error(`${this.username}: ${cmid} not acknowledged within ${this.options.deadlineMs} ms (last: ${describeReply(reply)})`);
      if (reply === 'timeout' && Date.now() - silentSince < attemptTimeoutMs) {
        this.resends++; // the earlier attempts are still in flight: whichever answers first counts
        continue;
      }
      if (reply === 'timeout') this.timeouts++;
      if (typeof reply === 'string') await this.reconnect(deadline);
      else await this.backoff(reply);
      silentSince = Date.now();
    }
  }

  /**
   * edit_message (with `content`) or delete_message (without) of one of this member's messages,
   * retried (the same request) until answered with success; throws on a non-retryable error or at the deadline.
   */
  change(room: string, messageId: string, content?: string): Promise<Frame> {
    const [type, ok] = content === undefined ? ['delete_message', 'delete_message_success'] : ['edit_message', 'edit_message_success'];
    const data = { room_id: room, username: this.username, message_id: messageId, ...(content === undefined ? {} : { content }) };
    return this.request(type, data, ok, (d) => d.message_id === messageId);
  }

  /**
   * A request of this member's answered by `ok` or the generic error frame naming it (edit_message,
   * mark_read, ban_member, invite_user, ...): sent again as the same request, on a survivor if need
   * be, until `ok` arrives; throws on a non-retryable error or at the deadline. `same` picks this
   * request's answer and error (e.g. by message_id or member).
   */
  async request(type: string, data: Record<string, unknown>, ok: string, same: (d: Record<string, any>) => boolean = () => true): Promise<Frame> {
    const deadline = Date.now() + this.options.deadlineMs;
    const what = `${type} ${JSON.stringify(data)}`;
    for (;;) {
      if (this.closed) throw new Error(`${this.username}: closed with ${what} not answered`);
      this.client.send(type, data);
      const reply = await awaitFrame(this.client, (f) => (f.type === ok || (f.type === 'error' && f.data.request === type)) && f.data.room_id === data.room_id && same(f.data), this.options.attemptTimeoutMs);
      if (typeof reply !== 'string' && reply.type === ok) return reply;
      if (typeof reply !== 'string' && !isRetryable(reply.data)) throw new Error(`${this.username}: ${what} refused: ${JSON.stringify(reply.data)}`);
      if (Date.now() > deadline) throw new Error(`${this.username}: ${what} not answered within ${this.options.deadlineMs} ms (last: ${describeReply(reply)})`);
      if (reply === 'timeout') this.timeouts++;
      if (typeof reply !== 'string') await this.backoff(reply);
      else await this.reconnect(deadline);
    }
  }

  /** Sends `count` messages one after the other (each after the previous ack); resolves with their acks. */
  async burst(room: string, count: number, prefix = this.username): Promise<AckRecord[]> {
    const acks: AckRecord[] = [];
    for (let i = 0; i < count; i++) acks.push(await this.send(room, `${prefix} #${i} to ${room}`, `${prefix}-${room.slice(0, 8)}-${i}`));
    return acks;
  }

  /** Moves to a new connection: the current node if it still answers, else the next running one; rooms are re-joined. */
  async reconnect(deadline = Date.now() + this.options.deadlineMs): Promise<void> {
    this.client.ws.terminate();
    const start = this.nodes.indexOf(this.node);
    for (;;) {
      const order = this.nodes.map((_, i) => this.nodes[(start + i) % this.nodes.length]).filter((n) => n.running);
      for (const node of order) {
        if (await this.rejoinOn(node, deadline)) {
          this.reconnects++;
          return;
        }
      }
      if (Date.now() > deadline || this.closed) throw new Error(`${this.username}: no running node took the connection and its joins`);
      await sleep(200);
    }
  }

  /** Closes the connection; a send or reconnect still under way gives up. */
  close(): Promise<number> {
    this.closed = true;
    return this.client.close();
  }

  private async open(node: NodeProcess): Promise<void> {
    const client = await TestClient.connect(node.url, { handshakeTimeout: 2000 });
    this.ledger.watch(client, this.username);
    this.client = client;
    this.node = node;
  }

  /** Opens a connection to `node` and joins every room there; false if the connection fails on the way. */
  private async rejoinOn(node: NodeProcess, deadline: number): Promise<boolean> {
    try {
      await this.open(node);
    } catch {
      return false; // refused, or accepted but never answered (a paused node)
    }
    for (const room of this.rooms) {
      const reply = await this.joinHere(room, deadline);
      if (reply === 'lost') {
        this.client.ws.terminate();
        return false;
      }
      this.joined.set(room, reply);
    }
    return true;
  }

  /** Joins on the current connection, retrying retryable refusals; 'lost' if the connection fails or goes silent. */
  private async joinHere(room: string, deadline: number): Promise<Frame | 'lost'> {
    for (;;) {
      const reply = await this.joinOnce(room);
      if (reply === 'timeout') this.timeouts++;
      if (typeof reply === 'string') return 'lost';
      if (reply.type === 'join_room_success') return reply;
      if (!isRetryable(reply.data)) throw new Error(`${this.username} cannot join ${room}: ${JSON.stringify(reply.data)}`);
      if (Date.now() > deadline) throw new Error(`${this.username}: join ${room} still refused after ${this.options.deadlineMs} ms: ${JSON.stringify(reply.data)}`);
      await this.backoff(reply);
    }
  }

  private joinOnce(room: string): Promise<Reply> {
    const shown = this.ledger.shownTo(this.username, room).length > 0;
    this.client.send('join_room', { room_id: room, username: this.username, ...(shown ? { since_sequence: this.ledger.resumePoint(this.username, room) } : {}) });
    return awaitFrame(this.client, (f) => (f.type === 'join_room_success' || f.type === 'join_room_error') && f.data.room_id === room, this.options.attemptTimeoutMs);
  }

  /** Waits as a retryable refusal asks (retry_after_ms), at most maxBackoffMs. */
  private backoff(reply: Frame): Promise<unknown> {
    return sleep(Math.min(Number(reply.data.retry_after_ms ?? 100), this.options.maxBackoffMs));
  }
}

const describeReply = (r: Reply) => (typeof r === 'string' ? r : `${r.type} ${JSON.stringify(r.data)}`);

/** Every message of a room through get_history pages (after_sequence) on `node`, by a throwaway member. */
export async function historyVia(node: NodeProcess, roomId: string, timeoutMs = 15000): Promise<StoredMessage[]> {
  const client = await TestClient.connect(node.url, { handshakeTimeout: 2000 });
  client.ws.on('error', () => undefined);
  try {
    const username = `history-probe-${Math.random().toString(36).slice(2, 8)}`;
    await eventually(async () => {
      const r = await client.request('join_room', { room_id: roomId, username, history_limit: 0 }, 'join_room_success', 'join_room_error');
      if (r.type === 'join_room_error' && !isRetryable(r.data)) throw new Error(`history probe cannot join ${roomId}: ${JSON.stringify(r.data)}`);
      return r.type === 'join_room_success';
    }, timeoutMs, 200);
    const out: StoredMessage[] = [];
    for (;;) {
      const page = await client.request('get_history', { room_id: roomId, after_sequence: out.length, limit: 200 }, 'history', 'history_error');
      if (page.type !== 'history') throw new Error(`get_history ${roomId} on ${node.spec.nodeId}: ${JSON.stringify(page.data)}`);
      const msgs = (page.data.messages as Record<string, any>[]).map((m) => ({ sequence_number: m.sequence_number, message_id: m.message_id, content: m.content, client_message_id: null, ...(m.edited_at ? { edited_at: m.edited_at } : {}), ...(m.deleted_at ? { deleted_at: m.deleted_at } : {}) }));
      out.push(...msgs);
      if (!page.data.has_more || msgs.length === 0) return out;
    }
  } finally {
    await client.close();
  }
}
