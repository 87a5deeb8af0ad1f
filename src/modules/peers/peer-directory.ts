import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Clock } from '../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { PEER_BATCH_BYTES, type XmlRpcClient, XmlRpcFault, XmlRpcFaultCode, xmlTextBytes } from '../../common/xmlrpc';
import { peerClients } from './peer-clients';
import { PeerHealth, type PeerTransition } from './peer-health';
import { CallCoalescer } from './call-coalescer';
import { loggedFailures, PeerOutbox, type EncodedEvent, type OutboxBacklog } from './peer-outbox';
import { QuorumAck, QuorumWaits } from './quorum-ack';
import { parseStaleEpoch } from '../../common/protocol/stale-epoch';
import type { PeerStatusListener } from './peer-status-listener';
import { PeerSuspicion } from './peer-suspicion';
import { UnknownPeerError } from './unknown-peer-error';
import { forwardItemBytes, JsonBatchFallback } from './json-batch-fallback';
import { roomOfEvent, type ForwardItem, type PeerMethod, type PeerParams, type PeerResult, type ReplicationEvent } from '../../common/protocol/peer-wire';

export type { PeerStatusListener };

/** Told how long each peer call took (answered, faulted or timed out). */
export type PeerCallObserver = (peer: string, method: string, seconds: number) => void;

/** One peer's replication backlog, as /health and /metrics show it. */
export interface ReplicationBacklog extends OutboxBacklog {
  peer: string;
}


interface Peer {
  nodeId: string;
  /** Heartbeats have their own connection, so data traffic queued to a busy peer never delays them. */
  heartbeats: XmlRpcClient;
  forwards: CallCoalescer<ForwardItem, PeerResult<'forward_message'>>;
  url: string;
  client: XmlRpcClient;
  health: PeerHealth;
  outbox: PeerOutbox;
  /** Set when the outbox dropped events: the peer is asked to pull from us once it answers. */
  needsSync: boolean;
  /** The peer answered a JSON batch method with "unknown method" (an earlier version). */
  batches: JsonBatchFallback;
  /** The failover probe's own connection: a busy heartbeat or data connection must not delay it. */
  probes: XmlRpcClient;
  suspicion: PeerSuspicion;
  /** Aborted when the peer becomes suspected: calls waiting on a dead peer end at once, not at their timeout. */
  calls: AbortController;
}

/**
 * The configured peers: a typed XML-RPC client, a health record and a replication outbox each.
 * Every outgoing peer call goes through `call`, which always has a timeout.
 */
@Injectable()
export class PeerDirectory implements BeforeApplicationShutdown, OnModuleDestroy {
  private readonly logger = new Logger(PeerDirectory.name);
  private readonly peers = new Map<string, Peer>();
  private readonly listeners: PeerStatusListener[] = [];
  private callObserver: PeerCallObserver | null = null;
  private readonly quorumWaits: QuorumWaits;
  private stopping = false;

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly clock: Clock,
  ) {
    this.quorumWaits = new QuorumWaits(() => clock.monotonic());
    for (const { nodeId, url } of config.peers) {
      const { client, heartbeats, probes } = peerClients(config, nodeId, url, clock);
      const health = new PeerHealth(nodeId, config.maxHeartbeatFailures);
      const forwards = new CallCoalescer<ForwardItem, PeerResult<'forward_message'>>(
        (items) =>
          items.length === 1
            ? this.call(nodeId, 'forward_message', [items[0].room_id, items[0].username, items[0].content, config.nodeId, items[0].client_message_id]).then((r) => [r])
            : this.forwardBatch(peer, items),
        { sizeOf: forwardItemBytes, maxBytes: PEER_BATCH_BYTES },
      );
      const peer: Peer = { nodeId, url, client, heartbeats, probes, health, forwards, needsSync: false, batches: new JsonBatchFallback(nodeId, this.logger), suspicion: new PeerSuspicion(clock.monotonic()), calls: new AbortController(), outbox: undefined as unknown as PeerOutbox };
      peer.outbox = new PeerOutbox(
        (batch) => this.sendReplication(peer, batch),
        () => health.isFailed,
        () => {
          if (!peer.needsSync) this.logger.warn(`Replication to ${nodeId} dropped; it will catch up when it answers`);
          peer.needsSync = true;
        },
        { maxBatchBytes: PEER_BATCH_BYTES, now: () => clock.monotonic(), ...loggedFailures(this.logger, nodeId) },
      );
      this.peers.set(nodeId, peer);
    }
  }

  /** Shutting down: the store may close before the last heartbeat answers, so listeners hear nothing more. */
  beforeApplicationShutdown(): void {
    this.stopping = true;
  }

  onModuleDestroy(): void {
    this.quorumWaits.close();
    for (const peer of this.peers.values()) {
      peer.outbox.close();
      peer.client.close();
      peer.heartbeats.close();
      peer.probes.close();
    }
  }

  /** Nodes that make a majority of the cluster (this node and its peers): 1 alone, 2 of 2 or 3. */
  get majority(): number {
    return Math.floor((this.peers.size + 1) / 2) + 1;
  }

  /** Whether the failover probe has not heard from the peer for FAILOVER_TIMEOUT. */
  isSuspected(nodeId: string): boolean {
    return this.peers.get(nodeId)?.suspicion.suspected ?? false;
  }

  /** Peers neither failed nor suspected. */
  livePeers(): string[] {
    return [...this.peers.values()].filter((p) => !p.suspicion.suspected && !p.health.isFailed).map((p) => p.nodeId);
  }

  /** One probe on the peer's own connection; an answer counts, a miss is judged by checkSilence(). */
  async probe(nodeId: string, timeoutMs: number): Promise<void> {
    const peer = this.peers.get(nodeId);
    if (!peer) return;
    await this.timed(nodeId, 'heartbeat', peer.probes.call('heartbeat', [], timeoutMs));
    this.answered(peer);
  }

  /** Marks peers silent for longer than `timeoutMs` as suspected (and tells listeners, once). */
  checkSilence(timeoutMs: number): void {
    for (const peer of this.peers.values()) {
      const silentMs = peer.suspicion.silentFor(this.clock.monotonic(), timeoutMs);
      if (silentMs === null) continue;
      peer.calls.abort();
      peer.calls = new AbortController();
      this.logger.warn(`Peer ${peer.nodeId} has not answered for ${(silentMs / 1000).toFixed(1)} s: suspected down (FAILOVER_TIMEOUT)`);
      this.emit((l) => l.onPeerSuspected?.(peer.nodeId));
    }
  }

  private answered(peer: Peer): void {
    if (!peer.suspicion.answered(this.clock.monotonic())) return;
    this.logger.log(`Peer ${peer.nodeId} answers again`);
    this.emit((l) => l.onPeerAnswering?.(peer.nodeId));
  }

  get nodeIds(): string[] {
    return [...this.peers.keys()];
  }

  has(nodeId: string): boolean {
    return this.peers.has(nodeId);
  }

  health(nodeId: string): PeerHealth | undefined {
    return this.peers.get(nodeId)?.health;
  }

  allHealth(): PeerHealth[] {
    return [...this.peers.values()].map((p) => p.health);
  }

  isFailed(nodeId: string): boolean {
    return this.peers.get(nodeId)?.health.isFailed ?? false;
  }

  subscribe(listener: PeerStatusListener): void {
    this.listeners.push(listener);
  }

  /** One typed call to a peer; rejects on timeout, transport error or fault. */
  call<M extends PeerMethod>(nodeId: string, method: M, params: PeerParams<M>, timeoutMs?: number): Promise<PeerResult<M>> {
    const peer = this.peers.get(nodeId);
    if (!peer) return Promise.reject(new UnknownPeerError(nodeId));
    return this.timed(nodeId, method, peer.client.call<PeerResult<M>>(method, params as unknown[], timeoutMs ?? this.config.peerCallTimeoutMs, peer.calls.signal));
  }

  observeCalls(observer: PeerCallObserver): void {
    this.callObserver = observer;
  }

  private timed<T>(nodeId: string, method: string, call: Promise<T>): Promise<T> {
    const observe = this.callObserver;
    if (!observe) return call;
    const started = this.clock.monotonic();
    const done = () => observe(nodeId, method, (this.clock.monotonic() - started) / 1000);
    call.then(done, done);
    return call;
  }

  /**
   * Forwards a client's message to its room's host. Concurrent forwards to one host share calls
   * (forward_messages), in order.
   */
  forwardMessage(nodeId: string, item: ForwardItem): Promise<PeerResult<'forward_message'>> {
    const peer = this.peers.get(nodeId);
    if (!peer) return Promise.reject(new UnknownPeerError(nodeId));
    return peer.forwards.submit(item);
  }

  /** One heartbeat() on the peer's dedicated connection. */
  heartbeat(nodeId: string, timeoutMs: number): Promise<PeerResult<'heartbeat'>> {
    const peer = this.peers.get(nodeId);
    if (!peer) return Promise.reject(new UnknownPeerError(nodeId));
    return this.timed(nodeId, 'heartbeat', peer.heartbeats.call<PeerResult<'heartbeat'>>('heartbeat', [], timeoutMs));
  }

  /** Several forwards in one call, as JSON (the coalescer checks there is one result per item). */
  private forwardBatch(peer: Peer, items: ForwardItem[]): Promise<PeerResult<'forward_message'>[]> {
    return peer.batches.run(
      async () => JSON.parse(await this.call(peer.nodeId, 'forward_messages_json', [this.config.nodeId, JSON.stringify(items)])) as PeerResult<'forward_message'>[],
      () => this.call(peer.nodeId, 'forward_messages', [this.config.nodeId, items]),
    );
  }

  /** One replication batch as JSON (`replicate_events_json`), from the events' JSON encoded once for all peers. */
  private async sendReplication(peer: Peer, batch: EncodedEvent[]): Promise<void> {
    try {
      await peer.batches.run(
        () => this.call(peer.nodeId, 'replicate_events_json', [this.config.nodeId, `[${batch.map((e) => e.json).join(',')}]`]),
        () => this.call(peer.nodeId, 'replicate_events', [this.config.nodeId, batch.map((e) => e.event)]),
      );
    } catch (e) {
      // a newer host has the room: the listener steps this node down, which takes its events out of the queue
      const current = parseStaleEpoch(e);
      if (current) this.emit((l) => l.onStaleEpoch?.(current, peer.nodeId));
      throw e;
    }
  }

  /**
   * Queues an event for every peer, in order. Resolves once a majority of the cluster (this node
   * counts) has it on disk; rejects with NoQuorumError when that cannot happen within
   * `quorumTimeoutMs`. Alone, this node is its own majority.
   */
  replicate(event: ReplicationEvent): Promise<void> {
    const quorum = this.quorumWaits.track(new QuorumAck(this.majority - 1, this.peers.size, this.clock.monotonic() + this.config.quorumTimeoutMs));
    if (this.peers.size === 0) return quorum.promise;
    const json = JSON.stringify(event);
    const encoded: EncodedEvent = { event, json, bytes: xmlTextBytes(json), quorum, roomId: roomOfEvent(event) };
    for (const peer of this.peers.values()) peer.outbox.push(encoded);
    return quorum.promise;
  }

  /** Takes back the queued events of a room made before `belowEpoch` (default: all; this node no longer hosts it). */
  discardRoom(roomId: string, belowEpoch?: number): void {
    for (const peer of this.peers.values()) peer.outbox.discardRoom(roomId, belowEpoch);
  }

  /** Per peer: events waiting, the age of the oldest, and whether the peer keeps refusing them. */
  replicationBacklog(): ReplicationBacklog[] {
    return [...this.peers.values()].map((p) => ({ peer: p.nodeId, ...p.outbox.backlog() }));
  }

  pendingReplication(): number {
    let n = 0;
    for (const peer of this.peers.values()) n += peer.outbox.pending;
    return n;
  }

  /** Feeds a heartbeat outcome into the peer's health and tells listeners about transitions. */
  recordHeartbeat(nodeId: string, ok: boolean, bootId?: string, clientUrl?: string): void {
    const peer = this.peers.get(nodeId);
    if (!peer) return;
    if (ok) this.answered(peer);
    const transitions: PeerTransition[] = ok ? peer.health.success(this.clock.now(), bootId, clientUrl) : [peer.health.failure()];
    for (const t of transitions) {
      if (t === 'failed') {
        this.logger.warn(`Peer ${nodeId} marked FAILED after ${peer.health.consecutiveFailures} missed heartbeats`);
        this.emit((l) => l.onPeerFailed?.(nodeId));
      } else if (t === 'restarted') {
        this.logger.warn(`Peer ${nodeId} restarted (new boot id)`);
        peer.batches.retryJson(); // it may have been upgraded (a rolling update)
        this.emit((l) => l.onPeerRestarted?.(nodeId));
      } else if (t === 'reachable') {
        this.logger.log(`Peer ${nodeId} is reachable`);
        this.emit((l) => l.onPeerReachable?.(nodeId));
      }
    }
    if (ok && peer.needsSync) {
      peer.needsSync = false;
      this.call(nodeId, 'request_sync', [this.config.nodeId]).catch(() => (peer.needsSync = true));
    }
  }

  private emit(fn: (l: PeerStatusListener) => void): void {
    if (this.stopping) return;
    for (const l of this.listeners) {
      try {
        fn(l);
      } catch (e) {
        this.logger.error(`Peer status listener failed: ${(e as Error).message}`);
      }
    }
  }
}
