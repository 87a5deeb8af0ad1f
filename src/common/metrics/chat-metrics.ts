import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { OTHER_REASON, REJECTION_REASONS, rejectionReason } from '../errors/rejection-reasons';

/** Buckets of chat_message_ack_seconds: a local send takes well under 1 ms, a forwarded one a few ms. */
const ACK_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Buckets of chat_peer_call_seconds, up to the longest peer call timeout anyone sets. */
const PEER_CALL_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The node's Prometheus registry and the measurements taken on request paths. Counts kept on hot
 * paths are plain numbers read at scrape time; gauges that read state are registered by the
 * metrics module (collect callbacks), so a node without scrapes pays nothing for them.
 */
/**
 * How often the event-loop delay histogram (nodejs_eventloop_lag_*) samples. prom-client's default,
 * 10 ms, is a timer waking the node 100 times a second even when nothing happens: most of an idle
 * node's CPU. A stall still shows in full in the next sample; over a 15 s scrape interval 150 samples
 * keep the p99 meaningful.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

@Injectable()
export class ChatMetrics {
  readonly registry = new Registry();
  private readonly rejections = new Map<string, number>();
  private readonly ackSeconds: Histogram;
  private readonly peerCallSeconds: Histogram<'peer' | 'method'>;
  private readonly failovers: Counter;
  /** One child per peer and method, so a call's observation does not hash its labels again. */
  private readonly peerCallChildren = new Map<string, ReturnType<Histogram<'peer' | 'method'>['labels']>>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: '', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    const rejections = this.rejections;
    for (const reason of [...REJECTION_REASONS, OTHER_REASON]) rejections.set(reason, 0);
    new Counter({
      name: 'chat_rejected_total',
      help: 'Client requests refused with an error frame, by error code (unknown codes count as "other")',
      labelNames: ['reason'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [reason, n] of rejections) this.inc({ reason }, n);
      },
    });
    this.ackSeconds = new Histogram({
      name: 'chat_message_ack_seconds',
      help: 'Time from a send_message request arriving to its message_sent acknowledgement',
      buckets: ACK_BUCKETS,
      registers: [this.registry],
    });
    this.peerCallSeconds = new Histogram({
      name: 'chat_peer_call_seconds',
      help: 'Duration of XML-RPC calls to peers (heartbeats included), answered or failed',
      labelNames: ['peer', 'method'],
      buckets: PEER_CALL_BUCKETS,
      registers: [this.registry],
    });
    this.failovers = new Counter({
      name: 'chat_failovers_total',
      help: 'Rooms this node took over from a host that stopped answering (one per room moved here)',
      registers: [this.registry],
    });
  }

  /** One error frame went to a client (the ClientErrors reporter calls this for every one). */
  rejected(code: string | undefined): void {
    const reason = rejectionReason(code);
    this.rejections.set(reason, (this.rejections.get(reason) ?? 0) + 1);
  }

  rejectedCount(reason: string): number {
    return this.rejections.get(reason) ?? 0;
  }

  /** This node became the host of a room whose host stopped answering. */
  failedOver(): void {
    this.failovers.inc();
  }

  messageAcknowledged(seconds: number): void {
    this.ackSeconds.observe(seconds);
  }

  /** Peer ids come from PEER_NODES and methods from PeerMethodMap, so the label set is bounded. */
  peerCallDone(peer: string, method: string, seconds: number): void {
    const key = `${peer}\n${method}`;
    let child = this.peerCallChildren.get(key);
    if (!child) this.peerCallChildren.set(key, (child = this.peerCallSeconds.labels(peer, method)));
    child.observe(seconds);
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
