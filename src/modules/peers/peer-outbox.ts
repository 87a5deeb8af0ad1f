import type { ReplicationEvent } from './peer-wire';

const MAX_BATCH = 256;
const MAX_QUEUED = 50_000;

/**
 * Ordered delivery of replication events to one peer: one call in flight at a time, later events
 * batched into the next call, retried with backoff while the peer is not known to be failed.
 * When the peer is failed (or the queue overflows) the queue is dropped and `onDropped` fires:
 * the peer then catches up by pulling from us instead.
 */
export class PeerOutbox {
  private queue: ReplicationEvent[] = [];
  private running = false;
  private closed = false;

  constructor(
    private readonly sendBatch: (batch: ReplicationEvent[]) => Promise<void>,
    private readonly peerIsFailed: () => boolean,
    private readonly onDropped: () => void,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  push(event: ReplicationEvent): void {
    if (this.closed) return;
    if (this.peerIsFailed() || this.queue.length >= MAX_QUEUED) return this.drop();
    this.queue.push(event);
    if (!this.running) void this.run();
  }

  close(): void {
    this.closed = true;
    this.queue = [];
  }

  private drop(): void {
    this.queue = [];
    this.onDropped();
  }

  private async run(): Promise<void> {
    this.running = true;
    let backoff = 50;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const queue = this.queue;
        const batch = queue.slice(0, MAX_BATCH);
        try {
          await this.sendBatch(batch);
          // a drop while the call was in flight replaced the queue: events queued since then stay
          if (this.queue === queue) queue.splice(0, batch.length);
          backoff = 50;
        } catch {
          if (this.peerIsFailed()) {
            this.drop();
            break;
          }
          await this.sleep(backoff);
          backoff = Math.min(backoff * 2, 2000);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
