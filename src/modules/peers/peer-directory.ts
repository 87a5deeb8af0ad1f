import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Clock } from '../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { XmlRpcFault, XmlRpcFaultCode } from '../../common/xmlrpc';
import type { PeerHealth, PeerTransition } from './peer-health';
import { peerLink, type PeerLink } from './peer-link';
import type { PeerStatusListener } from './peer-status-listener';
import { UnknownPeerError } from './unknown-peer-error';
import { NodeDisk } from './node-disk';
import type { ForwardItem, PeerMethod, PeerParams, PeerResult } from '../../common/protocol/peer-wire';

export type { PeerStatusListener };

/** Told how long each peer call took (answered, faulted or timed out). */
export type PeerCallObserver = (peer: string, method: string, seconds: number) => void;

/**
 * The configured peers: a typed XML-RPC client, a health record and a replication outbox each.
 * Every outgoing peer call goes through `call`, which always has a timeout.
 */
@Injectable()
export class PeerDirectory implements BeforeApplicationShutdown, OnModuleDestroy {
  private readonly logger = new Logger(PeerDirectory.name);
  private readonly peers = new Map<string, PeerLink>();
  private readonly listeners: PeerStatusListener[] = [];
  private callObserver: PeerCallObserver | null = null;
  private stopping = false;

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly clock: Clock,
    private readonly disk: NodeDisk,
  ) {
    for (const { nodeId, url } of config.peers) {
      const peer = peerLink(config, nodeId, url, clock, this.logger, (link, items) =>
        items.length === 1
          ? this.call(nodeId, 'forward_message', [items[0].room_id, items[0].username, items[0].content, config.nodeId, items[0].client_message_id]).then((r) => [r])
          : this.forwardBatch(link, items),
      );
      this.peers.set(nodeId, peer);
    }
  }

  /** Shutting down: the store may close before the last heartbeat answers, so listeners hear nothing more. */
  beforeApplicationShutdown(): void {
    this.stopping = true;
  }

  onModuleDestroy(): void {
    for (const peer of this.peers.values()) {
      peer.client.close();
      peer.pulse.close();
    }
  }

  /** Nodes that make a majority of the cluster (this node and its peers): 1 alone, 2 of 2 or 3. */
  get majority(): number {
    return Math.floor((this.peers.size + 1) / 2) + 1;
  }

  /** Whether the failover probe has not heard from the peer for FAILOVER_TIMEOUT (or it belongs to another cluster view). */
  isSuspected(nodeId: string): boolean {
    const peer = this.peers.get(nodeId);
    return (peer?.suspicion.suspected ?? false) || peer?.otherView != null;
  }

  /** Peers neither failed nor suspected. */
  livePeers(): string[] {
    return [...this.peers.values()].filter((p) => !p.suspicion.suspected && !p.health.isFailed && p.otherView === null).map((p) => p.nodeId);
  }

  /** Peers whose node list differs from this node's (never counted; /health names them). */
  otherViews(): { peer: string; view: string }[] {
    return [...this.peers.values()].filter((p) => p.otherView !== null).map((p) => ({ peer: p.nodeId, view: p.otherView! }));
  }

  /** One failover probe (a heartbeat() on the liveness connection); an answer counts, a miss is judged by checkSilence(). */
  async probe(nodeId: string, timeoutMs: number): Promise<void> {
    const peer = this.peers.get(nodeId);
    if (!peer) return;
    const beat = await this.heartbeat(nodeId, timeoutMs);
    if (this.identify(peer, beat)) this.answered(peer);
  }

  /**
   * What a heartbeat answer says of the peer beyond being alive: a new boot (it restarted: its
   * rooms need a host again), a new disk, or another cluster view. False when it must not count.
   */
  private identify(peer: PeerLink, beat: PeerResult<'heartbeat'> | undefined): boolean {
    if (typeof beat !== 'object' || beat === null) return true;
    const view = typeof beat.cluster_view === 'string' ? beat.cluster_view : null;
    if (view !== null && view !== this.disk.clusterView) {
      if (peer.otherView !== view) {
        this.logger.error(`Peer ${peer.nodeId} is configured with another list of nodes (view ${view}, ours ${this.disk.clusterView}): it is not counted towards any majority until PEER_NODES agree`);
        peer.otherView = view;
        this.emit((l) => l.onPeerSuspected?.(peer.nodeId));
      }
      return false;
    }
    if (peer.otherView !== null) {
      peer.otherView = null;
      this.logger.log(`Peer ${peer.nodeId} now has the same list of nodes as this node`);
    }
    const memory = beat.disks && typeof beat.disks === 'object' ? beat.disks[this.config.nodeId] : undefined;
    this.disk.heard(peer.nodeId, typeof beat.disk_id === 'string' ? beat.disk_id : undefined, beat.disks ? (memory ?? null) : undefined);
    if (beat.disks) this.emit((l) => l.onPeerIdentified?.(peer.nodeId));
    if (typeof beat.boot_id === 'string' && peer.health.noteBoot(beat.boot_id)) {
      this.logger.warn(`Peer ${peer.nodeId} restarted (new boot id)`);
      peer.batches.retryCurrent(); // it may have been upgraded (a rolling update)
      peer.disks.retryCurrent();
      this.emit((l) => l.onPeerRestarted?.(peer.nodeId));
    }
    return true;
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

  /**
   * A configured peer's call or reply arrived (a room's log message, a signed heartbeat): it is alive, whatever the
   * probes say. A probe may fail where calls still flow (a one-way block); a follower that kept
   * hearing its host's appends while suspecting it, and took a room first from them, never
   * campaigned once the host did die (its core had started out following a host reported down).
   */
  heardFrom(nodeId: string): void {
    const peer = this.peers.get(nodeId);
    if (!peer || peer.otherView !== null) return; // a peer with another list of nodes is never counted
    peer.heardAt = this.clock.monotonic();
    this.answered(peer);
  }

  /** When heardFrom() last heard the peer (monotonic ms; -Infinity before any). */
  lastHeardFrom(nodeId: string): number {
    return this.peers.get(nodeId)?.heardAt ?? Number.NEGATIVE_INFINITY;
  }

  /** When the peer becomes suspected if it stays silent (monotonic ms); null when it already is, or is unknown. */
  silenceDeadline(nodeId: string, timeoutMs: number): number | null {
    return this.peers.get(nodeId)?.suspicion.deadline(timeoutMs) ?? null;
  }

  /** This node stood still for `ms` (PeerPulse woke that late): no peer is silent for that time. */
  forgiveStall(ms: number): void {
    const now = this.clock.monotonic();
    for (const peer of this.peers.values()) peer.suspicion.forgive(ms, now);
  }

  private answered(peer: PeerLink): void {
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

  /** One heartbeat() on the peer's liveness connection. */
  heartbeat(nodeId: string, timeoutMs: number): Promise<PeerResult<'heartbeat'>> {
    const peer = this.peers.get(nodeId);
    if (!peer) return Promise.reject(new UnknownPeerError(nodeId));
    const beat = (params: PeerParams<'heartbeat'>) => peer.pulse.call<PeerResult<'heartbeat'>>('heartbeat', params, timeoutMs);
    return this.timed(nodeId, 'heartbeat', peer.disks.run(() => beat([this.config.nodeId, this.disk.diskId]), () => beat([])));
  }

  /**
   * One batch of rooms' log messages (room_log_json), naming this node's disk: a peer refuses what
   * a replaced disk sent. The reply is the peer's messages for this node; it is dropped (as if lost)
   * when a heartbeat named another disk of the peer while the call was out: the answer may come
   * from the disk that was replaced (written before it died, read after this node heard the new
   * one), and what that disk said, its new disk has forgotten.
   */
  async roomLog(nodeId: string, batchJson: string): Promise<PeerResult<'room_log_json'>> {
    const peer = this.peers.get(nodeId);
    if (!peer) throw new UnknownPeerError(nodeId);
    const diskAtCall = this.disk.rememberedOf(nodeId)?.disk;
    const reply = await peer.disks.run(
      () => this.call(nodeId, 'room_log_json', [this.config.nodeId, batchJson, this.disk.diskId]),
      () => this.call(nodeId, 'room_log_json', [this.config.nodeId, batchJson]),
    );
    return this.disk.rememberedOf(nodeId)?.disk === diskAtCall ? reply : '[]';
  }

  /** Several forwards in one call, as JSON (the coalescer checks there is one result per item). */
  private forwardBatch(peer: PeerLink, items: ForwardItem[]): Promise<PeerResult<'forward_message'>[]> {
    return peer.batches.run(
      async () => JSON.parse(await this.call(peer.nodeId, 'forward_messages_json', [this.config.nodeId, JSON.stringify(items)])) as PeerResult<'forward_message'>[],
      () => this.call(peer.nodeId, 'forward_messages', [this.config.nodeId, items]),
    );
  }

  /** Feeds a heartbeat outcome into the peer's health and tells listeners about transitions. */
  recordHeartbeat(nodeId: string, ok: boolean, beat?: PeerResult<'heartbeat'>): void {
    const peer = this.peers.get(nodeId);
    if (!peer) return;
    if (ok && !this.identify(peer, beat)) ok = false;
    if (ok) this.answered(peer);
    const text = (v: unknown) => (typeof v === 'string' ? v : undefined); // a reference peer sends neither
    const transitions: PeerTransition[] = ok ? peer.health.success(this.clock.now(), text(beat?.boot_id), text(beat?.client_url)) : [peer.health.failure()];
    for (const t of transitions) {
      if (t === 'failed') {
        this.logger.warn(`Peer ${nodeId} marked FAILED after ${peer.health.consecutiveFailures} missed heartbeats`);
        this.emit((l) => l.onPeerFailed?.(nodeId));
      } else if (t === 'reachable') {
        this.logger.log(`Peer ${nodeId} is reachable`);
        this.emit((l) => l.onPeerReachable?.(nodeId));
      }
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
