import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Clock } from '../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { PeerCallSigner, XmlRpcClient, XmlRpcFault, XmlRpcFaultCode } from '../../common/xmlrpc';
import { PeerHealth, type PeerTransition } from './peer-health';
import { CallCoalescer } from './call-coalescer';
import { PeerOutbox } from './peer-outbox';
import type { ForwardItem, PeerMethod, PeerParams, PeerResult, ReplicationEvent } from './peer-wire';

/** Reacts to peers going down, coming (back) up, or restarting with a new boot id. */
export interface PeerStatusListener {
  onPeerFailed?(nodeId: string): void;
  onPeerReachable?(nodeId: string): void;
  onPeerRestarted?(nodeId: string): void;
}

export class UnknownPeerError extends Error {
  constructor(nodeId: string) {
    super(`Node ${nodeId} is not in PEER_NODES`);
  }
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
  structsOnly: boolean;
}

/**
 * The configured peers: a typed XML-RPC client, a health record and a replication outbox each.
 * Every outgoing peer call goes through `call`, which always has a timeout.
 */
@Injectable()
export class PeerDirectory implements OnModuleDestroy {
  private readonly logger = new Logger(PeerDirectory.name);
  private readonly peers = new Map<string, Peer>();
  private readonly listeners: PeerStatusListener[] = [];

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly clock: Clock,
  ) {
    for (const { nodeId, url } of config.peers) {
      const signer = config.peerSecret ? new PeerCallSigner(config.peerSecret, config.nodeId, nodeId, () => clock.now()) : undefined;
      const client = new XmlRpcClient({ url, timeoutMs: config.peerCallTimeoutMs, signer });
      const health = new PeerHealth(nodeId, config.maxHeartbeatFailures);
      const forwards = new CallCoalescer<ForwardItem, PeerResult<'forward_message'>>((items) =>
        items.length === 1
          ? this.call(nodeId, 'forward_message', [items[0].room_id, items[0].username, items[0].content, config.nodeId, items[0].client_message_id]).then((r) => [r])
          : this.forwardBatch(peer, items),
      );
      // heartbeat() is open, so its calls stay unsigned (one HMAC less per round)
      const heartbeats = new XmlRpcClient({ url, timeoutMs: config.heartbeatTimeoutMs, maxSockets: 1 });
      const peer: Peer = { nodeId, url, client, heartbeats, health, forwards, needsSync: false, structsOnly: false, outbox: undefined as unknown as PeerOutbox };
      peer.outbox = new PeerOutbox(
        (batch) => this.sendReplication(peer, batch),
        () => health.isFailed,
        () => {
          if (!peer.needsSync) this.logger.warn(`Replication to ${nodeId} dropped; it will catch up when it answers`);
          peer.needsSync = true;
        },
      );
      this.peers.set(nodeId, peer);
    }
  }

  onModuleDestroy(): void {
    for (const peer of this.peers.values()) {
      peer.outbox.close();
      peer.client.close();
      peer.heartbeats.close();
    }
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
    return peer.client.call<PeerResult<M>>(method, params as unknown[], timeoutMs ?? this.config.peerCallTimeoutMs);
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
    return peer.heartbeats.call<PeerResult<'heartbeat'>>('heartbeat', [], timeoutMs);
  }

  /** Several forwards in one call, as JSON (the coalescer checks there is one result per item). */
  private forwardBatch(peer: Peer, items: ForwardItem[]): Promise<PeerResult<'forward_message'>[]> {
    return this.jsonOrStructs(
      peer,
      async () => JSON.parse(await this.call(peer.nodeId, 'forward_messages_json', [this.config.nodeId, JSON.stringify(items)])) as PeerResult<'forward_message'>[],
      () => this.call(peer.nodeId, 'forward_messages', [this.config.nodeId, items]),
    );
  }

  /** One replication batch as JSON (`replicate_events_json`). */
  private async sendReplication(peer: Peer, batch: ReplicationEvent[]): Promise<void> {
    await this.jsonOrStructs(
      peer,
      () => this.call(peer.nodeId, 'replicate_events_json', [this.config.nodeId, JSON.stringify(batch)]),
      () => this.call(peer.nodeId, 'replicate_events', [this.config.nodeId, batch]),
    );
  }

  /**
   * Batches travel as JSON inside XML-RPC (about ten times cheaper than structs). A peer of an
   * earlier version answers "unknown method": it gets the struct form until it restarts.
   */
  private async jsonOrStructs<T>(peer: Peer, json: () => Promise<T>, structs: () => Promise<T>): Promise<T> {
    if (!peer.structsOnly) {
      try {
        return await json();
      } catch (e) {
        if (!(e instanceof XmlRpcFault && e.code === XmlRpcFaultCode.MethodNotFound)) throw e;
        this.logger.warn(`Peer ${peer.nodeId} does not know the JSON batch methods (an earlier version); using XML-RPC structs with it`);
        peer.structsOnly = true;
      }
    }
    return structs();
  }

  /** Queues an event for every peer, in order. */
  replicate(event: ReplicationEvent): void {
    for (const peer of this.peers.values()) peer.outbox.push(event);
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
    const transitions: PeerTransition[] = ok ? peer.health.success(this.clock.now(), bootId, clientUrl) : [peer.health.failure()];
    for (const t of transitions) {
      if (t === 'failed') {
        this.logger.warn(`Peer ${nodeId} marked FAILED after ${peer.health.consecutiveFailures} missed heartbeats`);
        this.emit((l) => l.onPeerFailed?.(nodeId));
      } else if (t === 'restarted') {
        this.logger.warn(`Peer ${nodeId} restarted (new boot id)`);
        peer.structsOnly = false; // it may have been upgraded (a rolling update): try the JSON methods again
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
    for (const l of this.listeners) {
      try {
        fn(l);
      } catch (e) {
        this.logger.error(`Peer status listener failed: ${(e as Error).message}`);
      }
    }
  }
}
