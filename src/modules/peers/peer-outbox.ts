import { epochOfEvent, type ReplicationEvent } from '../../common/protocol/peer-wire';
import type { QuorumAck } from './quorum-ack';

/** A replication event encoded once for every peer: its JSON and what that weighs in XML. */
export interface EncodedEvent {
  event: ReplicationEvent;
  json: string;
  bytes: number;
  /** Told when this peer has stored the event, or will not get it (set for changes that wait for a majority). */
  quorum?: QuorumAck;
  /** The room the event belongs to, so a host that steps down can take its room's events back. */
  roomId?: string;
}

interface Queued extends EncodedEvent {
  queuedAt: number;
}

/** What an operator needs to see of one outbox (PeerDirectory.replicationBacklog, /health). */
export interface OutboxBacklog {
  pending: number;
  oldestPendingMs: number | null;
  /** The peer has refused or not answered `failures` calls in a row. */
  failing: boolean;
  failures: number;
  lastError: string | null;
}

export interface OutboxOptions {
  maxBatchEvents?: number;
  maxBatchBytes?: number;
  maxQueued?: number;
  /** Calls failed in a row before the outbox counts as failing. */
  failingAfter?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Called once when the outbox starts failing and once when it recovers. */
  onFailing?: (backlog: OutboxBacklog) => void;
  onRecovered?: (failures: number) => void;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The outbox callbacks that log, once each, when replication to `peer` gets stuck and when it flows again. */
export const loggedFailures = (logger: { warn(m: string): void; log(m: string): void }, peer: string): Pick<OutboxOptions, 'onFailing' | 'onRecovered'> => ({
  onFailing: (b) =>
    logger.warn(`Replication to ${peer} is stuck: ${b.failures} calls in a row refused or unanswered, ${b.pending} event(s) pending, oldest ${Math.round((b.oldestPendingMs ?? 0) / 1000)} s; last error: ${b.lastError}`),
  onRecovered: (failures) => logger.log(`Replication to ${peer} flows again after ${failures} failed call(s)`),
});

/**
 * Ordered delivery of replication events to one peer: one call in flight at a time, later events
 * batched into the next call (bounded by count and by encoded bytes, so a batch always fits the
 * peer's body limit), retried with backoff while the peer is not known to be failed. A failed
 * call is retried with half as many events, down to one, so a batch the peer refuses as too big
 * is split instead of retried forever. When the peer is failed (or the queue overflows) the
 * queue is dropped and `onDropped` fires: the peer then catches up by pulling from us instead.
 */
export class PeerOutbox {
  private queue: Queued[] = [];
  private running = false;
  private closed = false;
  private failures = 0;
  private lastError: string | null = null;
  private readonly maxBatchEvents: number;
  private readonly maxBatchBytes: number;
  private readonly maxQueued: number;
  private readonly failingAfter: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly sendBatch: (batch: EncodedEvent[]) => Promise<void>,
    private readonly peerIsFailed: () => boolean,
    private readonly onDropped: () => void,
    private readonly options: OutboxOptions = {},
  ) {
    this.maxBatchEvents = options.maxBatchEvents ?? 256;
    this.maxBatchBytes = options.maxBatchBytes ?? 256 * 1024;
    this.maxQueued = options.maxQueued ?? 50_000;
    this.failingAfter = options.failingAfter ?? 3;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? realSleep;
  }

  get pending(): number {
    return this.queue.length;
  }

  backlog(): OutboxBacklog {
    return {
      pending: this.queue.length,
      oldestPendingMs: this.queue.length > 0 ? Math.max(0, this.now() - this.queue[0].queuedAt) : null,
      failing: this.failures >= this.failingAfter,
      failures: this.failures,
      lastError: this.lastError,
    };
  }

  push(event: EncodedEvent): void {
    if (this.closed) return event.quorum?.lose('replication closed');
    if (this.peerIsFailed() || this.queue.length >= this.maxQueued) {
      event.quorum?.lose('peer failed or its queue is full');
      return this.drop();
    }
    this.queue.push({ ...event, queuedAt: this.now() });
    if (!this.running) void this.run();
  }

  close(): void {
    this.closed = true;
    this.loseAll(this.queue, 'replication closed');
    this.queue = [];
  }

  /** Takes back the queued events of `roomId` made before `belowEpoch` (all of them by default): a newer host epoch refuses them. */
  discardRoom(roomId: string, belowEpoch = Number.MAX_SAFE_INTEGER): void {
    const stale = (e: Queued) => e.roomId === roomId && epochOfEvent(e.event) < belowEpoch;
    if (!this.queue.some(stale)) return;
    this.loseAll(this.queue.filter(stale), 'a newer host epoch exists');
    this.queue = this.queue.filter((e) => !stale(e));
  }

  private loseAll(events: Queued[], reason: string): void {
    for (const e of events) e.quorum?.lose(reason);
  }

  private drop(): void {
    this.loseAll(this.queue, 'peer failed');
    this.queue = [];
    this.recovered();
    this.onDropped();
  }

  /** The head of the queue, at most `maxEvents` events and `maxBatchBytes` (always at least one). */
  private nextBatch(maxEvents: number): Queued[] {
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && n < maxEvents) {
      bytes += this.queue[n].bytes + 1;
      if (n > 0 && bytes > this.maxBatchBytes) break;
      n++;
    }
    return this.queue.slice(0, n);
  }

  private async run(): Promise<void> {
    this.running = true;
    let backoff = 50;
    let maxEvents = this.maxBatchEvents;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const queue = this.queue;
        const batch = this.nextBatch(maxEvents);
        try {
          await this.sendBatch(batch);
          for (const e of batch) e.quorum?.ack();
          // a drop or discard while the call was in flight replaced the queue: what it holds now stays, less what was sent
          if (this.queue === queue) queue.splice(0, batch.length);
          else this.queue = this.queue.filter((e) => !batch.includes(e));
          backoff = 50;
          maxEvents = Math.min(this.maxBatchEvents, maxEvents * 2);
          this.recovered();
        } catch (e) {
          if (this.peerIsFailed()) {
            this.drop();
            break;
          }
          this.failed(e);
          maxEvents = Math.max(1, Math.floor(batch.length / 2));
          await this.sleep(backoff);
          backoff = Math.min(backoff * 2, 2000);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private failed(e: unknown): void {
    this.failures++;
    this.lastError = (e as Error)?.message ?? String(e);
    if (this.failures === this.failingAfter) this.options.onFailing?.(this.backlog());
  }

  private recovered(): void {
    if (this.failures >= this.failingAfter) this.options.onRecovered?.(this.failures);
    this.failures = 0;
    this.lastError = null;
  }
}
