import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Clock } from '../../../common/clock/clock';
import { PEER_BATCH_BYTES, PEER_REPLY_BYTES, xmlTextBytes } from '../../../common/xmlrpc';
import { PeerDirectory } from '../../peers/peer-directory';
import type { WireItem } from './room-log-wire';

/** Messages queued for one peer beyond which the oldest are dropped (Raft sends again what matters). */
const MAX_QUEUED = 20_000;

interface Queued {
  json: string;
  bytes: number;
  at: number;
}

/** One peer's queue: one call in flight, later messages batched into the next. */
interface Lane {
  queue: Queued[];
  running: boolean;
  /** Calls from the peer being answered now: what is queued meanwhile rides their replies. */
  answering: number;
  failures: number;
  lastError: string | null;
}

/** What /health, /metrics and /status show of one peer's queue. */
export interface ReplicationBacklog {
  peer: string;
  pending: number;
  oldestPendingMs: number | null;
  /** The peer has not taken `failures` calls in a row (3 or more: failing). */
  failing: boolean;
  failures: number;
  lastError: string | null;
}

/**
 * The rooms' log messages on their way to each peer (`room_log_json`): one call in flight per
 * peer, everything queued meanwhile batched into the next call within the peer's body limit. A
 * failed call is not retried: the cores send again what was lost (a host resends unanswered
 * appends, a candidate asks again). A peer's reply carries its messages for this node.
 */
@Injectable()
export class RoomLogOutbox implements OnModuleDestroy {
  private readonly logger = new Logger(RoomLogOutbox.name);
  private readonly lanes = new Map<string, Lane>();
  private replies: (from: string, json: string) => void = () => undefined;
  private closed = false;

  constructor(
    private readonly peers: PeerDirectory,
    private readonly clock: Clock,
  ) {
    for (const peer of peers.nodeIds) this.lanes.set(peer, { queue: [], running: false, answering: 0, failures: 0, lastError: null });
  }

  onModuleDestroy(): void {
    this.closed = true;
  }

  /** Where a peer's reply (its messages for this node, as JSON) goes. */
  onReply(handler: (from: string, json: string) => void): void {
    this.replies = handler;
  }

  send(item: WireItem): void {
    const lane = this.lanes.get(item[1].to);
    if (!lane || this.closed) return;
    const json = JSON.stringify(item);
    lane.queue.push({ json, bytes: xmlTextBytes(json) + 1, at: this.clock.monotonic() });
    if (lane.queue.length > MAX_QUEUED) lane.queue.splice(0, lane.queue.length - MAX_QUEUED);
    if (!lane.running && lane.answering === 0) void this.run(item[1].to, lane);
  }

  /**
   * `peer` called: until the returned function is called (its reply is taken), what is queued for
   * it waits to ride that reply (takeFor) rather than go in a call of its own. A follower's answers
   * to the host's appends then cost no call.
   */
  answering(peer: string): () => void {
    const lane = this.lanes.get(peer);
    if (!lane) return () => undefined;
    lane.answering++;
    return () => {
      lane.answering--;
      if (lane.answering === 0 && lane.queue.length > 0 && !lane.running && !this.closed) void this.run(peer, lane);
    };
  }

  /** Takes what is queued for `peer` (up to the reply budget) to answer its call with, as a JSON array. */
  takeFor(peer: string): string {
    const lane = this.lanes.get(peer);
    return lane ? `[${this.take(lane, PEER_REPLY_BYTES).join(',')}]` : '[]';
  }

  backlog(): ReplicationBacklog[] {
    const now = this.clock.monotonic();
    return [...this.lanes].map(([peer, l]) => ({
      peer,
      pending: l.queue.length,
      oldestPendingMs: l.queue.length > 0 ? Math.max(0, now - l.queue[0].at) : null,
      failing: l.failures >= 3,
      failures: l.failures,
      lastError: l.lastError,
    }));
  }

  pending(): number {
    let n = 0;
    for (const l of this.lanes.values()) n += l.queue.length;
    return n;
  }

  private take(lane: Lane, budget: number): string[] {
    let bytes = 0;
    let n = 0;
    while (n < lane.queue.length && (n === 0 || bytes + lane.queue[n].bytes <= budget)) bytes += lane.queue[n++].bytes;
    return lane.queue.splice(0, n).map((q) => q.json);
  }

  private async run(peer: string, lane: Lane): Promise<void> {
    lane.running = true;
    let backoff = 25;
    try {
      while (lane.queue.length > 0 && !this.closed) {
        const batch = this.take(lane, PEER_BATCH_BYTES);
        try {
          const reply = await this.peers.roomLog(peer, `[${batch.join(',')}]`);
          if (lane.failures >= 3) this.logger.log(`Room log messages flow to ${peer} again after ${lane.failures} failed call(s)`);
          lane.failures = 0;
          lane.lastError = null;
          backoff = 25;
          if (typeof reply === 'string' && reply !== '[]') this.replies(peer, reply);
        } catch (e) {
          lane.failures++;
          lane.lastError = (e as Error).message;
          if (lane.failures === 3) this.logger.warn(`Room log messages to ${peer} fail: ${lane.lastError} (they are sent again once it answers)`);
          await new Promise((r) => setTimeout(r, backoff));
          backoff = Math.min(backoff * 2, 1000);
        }
      }
    } finally {
      lane.running = false;
    }
  }
}
