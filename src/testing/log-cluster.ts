/**
 * Several nodes' replication layers in one process, for unit specs: each node is its own Nest
 * module with the real RoomLogs, RoomLogPeers, LogWriter, LogApplier and RoomLogOutbox (real
 * consensus cores) on an in-memory store, and a PeerDirectory fake whose room_log_json calls are
 * delivered, as JSON, to the other node's RoomLogPeers. Nothing here decides anything: a spec that
 * passes here passes because the cores and their adapters did the work.
 */
import type { Provider, Type } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Test, type TestingModule } from '@nestjs/testing';
import { Clock } from '../common/clock/clock';
import { loadConfig } from '../common/config/load-config';
import { NODE_CONFIG, type NodeConfig } from '../common/config/node-config';
import type { ForwardItem } from '../common/protocol/peer-wire';
import { ChatStore } from '../common/store/chat-store';
import { storeProviders } from '../common/store/store.module';
import { ClientRegistry } from '../modules/members/client-registry';
import { NodeDisk } from '../modules/peers/node-disk';
import { PeerDirectory, type PeerStatusListener } from '../modules/peers/peer-directory';
import { UnknownPeerError } from '../modules/peers/unknown-peer-error';
import { LogApplier } from '../modules/rooms/replication/log-applier';
import { RoomVisibility } from '../modules/rooms/replication/room-visibility';
import { LogWriter } from '../modules/rooms/replication/log-writer';
import { RoomLogOutbox } from '../modules/rooms/replication/room-log-outbox';
import { RoomLogPeers } from '../modules/rooms/replication/room-log-peers';
import { RoomLogs } from '../modules/rooms/replication/room-logs.service';
import { flushPromises } from './deferred';
import { FakeClock, FakeSocket } from './fakes';
import { PeerNetwork } from './peer-network';

/** PeerDirectory as the rooms' services use it: the peer list, the failure detector's verdicts, listeners and calls. */
export class FakePeerDirectory {
  readonly listeners: PeerStatusListener[] = [];
  readonly suspected = new Set<string>();
  readonly failed = new Set<string>();
  /** Calls other than room_log_json, in order. */
  readonly calls: { nodeId: string; method: string; params: unknown[] }[] = [];
  /** How peers answer those calls (by default they do not). */
  answer: (nodeId: string, method: string, params: unknown[]) => Promise<unknown> = async () => {
    throw new Error('no answer');
  };

  constructor(
    readonly self: string,
    readonly nodeIds: string[],
    private readonly network: PeerNetwork,
  ) {}

  has(nodeId: string): boolean {
    return this.nodeIds.includes(nodeId);
  }
  isFailed(nodeId: string): boolean {
    return this.failed.has(nodeId);
  }
  isSuspected(nodeId: string): boolean {
    return this.suspected.has(nodeId);
  }
  get majority(): number {
    return Math.floor((this.nodeIds.length + 1) / 2) + 1;
  }
  /** A peer's room log message arrived: as PeerDirectory does, it ends a suspicion. */
  heardFrom(node: string): void {
    if (this.suspected.has(node)) this.answering(node);
  }
  livePeers(): string[] {
    return this.nodeIds.filter((n) => !this.suspected.has(n) && !this.failed.has(n));
  }
  otherViews(): { peer: string; view: string }[] {
    return [];
  }
  /** Each peer's boot id as its heartbeats report it (none until a spec sets one). */
  readonly boots = new Map<string, string>();
  health(node: string): { bootId: string | null } | undefined {
    return this.has(node) ? { bootId: this.boots.get(node) ?? null } : undefined;
  }
  subscribe(listener: PeerStatusListener): void {
    this.listeners.push(listener);
  }

  call(nodeId: string, method: string, params: unknown[]): Promise<unknown> {
    if (!this.has(nodeId)) return Promise.reject(new UnknownPeerError(nodeId));
    this.calls.push({ nodeId, method, params });
    return this.answer(nodeId, method, params);
  }
  /** This node's disk, once its module is built (room_log_json names it). */
  disk: NodeDisk | null = null;
  roomLog(nodeId: string, batchJson: string): Promise<string> {
    if (!this.has(nodeId)) return Promise.reject(new UnknownPeerError(nodeId));
    return this.network.roomLog(this.self, nodeId, batchJson, this.disk?.diskId);
  }
  forwardMessage(nodeId: string, item: ForwardItem): Promise<unknown> {
    return this.call(nodeId, 'forward_message', [item.room_id, item.username, item.content, this.self, item.client_message_id, item.host_epoch]);
  }

  /** The failure detector's verdicts, told to every listener as PeerDirectory tells them. */
  suspect(node: string): void {
    this.suspected.add(node);
    for (const l of this.listeners) l.onPeerSuspected?.(node);
  }
  answering(node: string): void {
    this.suspected.delete(node);
    for (const l of this.listeners) l.onPeerAnswering?.(node);
  }
  reachable(node: string): void {
    this.failed.delete(node);
    for (const l of this.listeners) l.onPeerReachable?.(node);
  }
  restarted(node: string): void {
    this.suspected.delete(node);
    for (const l of this.listeners) l.onPeerRestarted?.(node);
  }
}

export interface LogNodeOptions {
  /** Environment for loadConfig beyond NODE_ID and PEER_NODES. */
  env?: Record<string, string>;
  /** Services to build on top of the replication layer (RoomHostService, ...). */
  providers?: Provider[];
  /** The node's disk (a restart keeps it; a wipe does not). */
  store?: ChatStore;
}

/** One node of a LogCluster. */
export class LogNode {
  private constructor(
    readonly nodeId: string,
    readonly moduleRef: TestingModule,
    readonly store: ChatStore,
    readonly clock: FakeClock,
    readonly peers: FakePeerDirectory,
    readonly config: NodeConfig,
  ) {}

  static async start(nodeId: string, all: readonly string[], network: PeerNetwork, opts: LogNodeOptions = {}): Promise<LogNode> {
    const others = all.filter((n) => n !== nodeId);
    const store = opts.store ?? ChatStore.inMemory();
    const clock = new FakeClock();
    const peers = new FakePeerDirectory(nodeId, others, network);
    const config = loadConfig({ NODE_ID: nodeId, ...(others.length > 0 ? { PEER_NODES: others.map((n) => `${n}:http://127.0.0.1:1`).join(',') } : {}), ...opts.env });
    const moduleRef = await Test.createTestingModule({
      providers: [
        RoomLogs,
        RoomLogPeers,
        LogWriter,
        LogApplier,
        RoomLogOutbox,
        RoomVisibility,
        NodeDisk,
        ClientRegistry,
        SchedulerRegistry,
        { provide: NODE_CONFIG, useValue: config },
        ...storeProviders(store),
        { provide: Clock, useValue: clock },
        { provide: PeerDirectory, useValue: peers },
        ...(opts.providers ?? []),
      ],
    }).compile();
    peers.disk = moduleRef.get(NodeDisk);
    network.attach(nodeId, moduleRef.get(RoomLogPeers), peers.disk!);
    await moduleRef.init();
    return new LogNode(nodeId, moduleRef, store, clock, peers, config);
  }

  get<T>(type: Type<T>): T {
    return this.moduleRef.get(type);
  }
  get logs(): RoomLogs {
    return this.get(RoomLogs);
  }
  get disk(): NodeDisk {
    return this.get(NodeDisk);
  }
  get clients(): ClientRegistry {
    return this.get(ClientRegistry);
  }

  /** A socket on this node in the room as `username` (as after a join here), shown everything up to `cursor`. */
  member(roomId: string, username: string, cursor = 0): FakeSocket {
    const socket = new FakeSocket();
    const conn = this.clients.connect(socket.asWebSocket());
    this.clients.register(conn, roomId, username, cursor);
    conn.username = username;
    return socket;
  }
}

/** A cluster of LogNodes on one PeerNetwork, introduced to each other as their first heartbeats would. */
export class LogCluster {
  readonly network = new PeerNetwork();
  private readonly nodes = new Map<string, LogNode>();
  private readonly stopped = new Set<string>();

  private constructor(
    readonly ids: readonly string[],
    private readonly opts: LogNodeOptions,
  ) {}

  /** `unheard`: nodes that have not heard any peer's heartbeat yet (call heartbeats() for them). */
  static async start(ids: readonly string[], opts: LogNodeOptions = {}, unheard: readonly string[] = []): Promise<LogCluster> {
    const cluster = new LogCluster(ids, opts);
    for (const id of ids) cluster.nodes.set(id, await LogNode.start(id, ids, cluster.network, opts));
    for (const id of ids) if (!unheard.includes(id)) cluster.heartbeats(id);
    return cluster;
  }

  node(id: string): LogNode {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  /**
   * `id` hears every other node's heartbeat answer: its disk, and what it remembers of `id`'s
   * (PeerDirectory.identify). Each other node has heard `id`'s disk first (from its own probe of
   * `id`): a fresh disk counts only answers that name a disk (RejoinStatus.heard).
   */
  heartbeats(id: string): void {
    const node = this.node(id);
    if (this.network.cut.has(id)) return; // unreachable both ways
    for (const other of this.nodes.values()) {
      if (other === node || this.network.cut.has(other.nodeId)) continue;
      other.disk.heard(id, node.disk.diskId, undefined);
      node.disk.heard(other.nodeId, other.disk.diskId, other.disk.memory()[id] ?? null);
      node.peers.reachable(other.nodeId);
    }
  }

  /** Stops a node (its disk is kept for restart()). */
  async stop(id: string): Promise<void> {
    const node = this.node(id);
    this.network.detach(id);
    this.stopped.add(id);
    await node.moduleRef.close();
  }

  /** Starts a node again (on its old disk, or an empty one); the others hear it restarted, and it hears them unless `unheard`. */
  async restart(id: string, { wipe = false, unheard = false } = {}): Promise<LogNode> {
    const old = this.node(id);
    if (!this.stopped.has(id)) await this.stop(id);
    this.stopped.delete(id);
    if (wipe) old.store.close();
    const node = await LogNode.start(id, this.ids, this.network, { ...this.opts, store: wipe ? undefined : old.store });
    this.nodes.set(id, node);
    for (const other of this.nodes.values()) if (other !== node) other.peers.restarted(id);
    for (const other of this.nodes.values()) if (other !== node || !unheard) this.heartbeats(other.nodeId);
    return node;
  }

  /**
   * Lets every call and write in progress finish: quiet once no batch is on its way and no node has
   * one queued for a reachable peer (a queue backing off after failed calls waits for the timers).
   */
  async settle(): Promise<void> {
    for (let round = 0, quiet = 0; quiet < 3; round++) {
      if (round > 20_000) throw new Error('the cluster did not settle'); // rounds, not time: specs may fake the clock
      await flushPromises();
      quiet = this.network.inFlight === 0 && this.queuedForReachable() === 0 ? quiet + 1 : 0;
    }
  }

  /** Moves every node's clock and the (fake) timers by `ms`, in steps, settling after each (needs jest.useFakeTimers). */
  async advance(ms: number, step = 20): Promise<void> {
    for (let t = 0; t < ms; t += step) {
      for (const node of this.nodes.values()) node.clock.advance(step);
      jest.advanceTimersByTime(step);
      await this.settle();
    }
  }

  async close(): Promise<void> {
    for (const id of this.nodes.keys()) if (!this.stopped.has(id)) await this.stop(id);
    for (let i = 0; i < 5; i++) await flushPromises(); // writes already queued finish before the disks close
    for (const node of this.nodes.values()) node.store.close();
  }

  private queuedForReachable(): number {
    let n = 0;
    for (const node of this.nodes.values()) {
      if (!this.network.reachable(node.nodeId)) continue;
      for (const b of node.get(RoomLogOutbox).backlog()) if (this.network.reachable(b.peer) && b.failures === 0) n += b.pending;
    }
    return n;
  }
}
