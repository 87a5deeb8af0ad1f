import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Clock } from '../../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { ChatError, hostUnavailable } from '../../../common/errors/chat-error';
import { STORE_UNAVAILABLE_MESSAGE } from '../../../common/store/store-write-health';
import { CHAT_STORE, ChatStore } from '../../../common/store/chat-store';
import { NodeDisk } from '../../peers/node-disk';
import { PeerDirectory, type PeerStatusListener } from '../../peers/peer-directory';
import type { CoreConfig, Leadership, Proposal, ProposeResult } from '../consensus/core-types';
import type { Entry } from '../consensus/log-entry';
import { RejoinStatus } from '../consensus/rejoin-status';
import { RoomLogCore } from '../consensus/room-log-core';
import type { RoomMessage } from '../consensus/room-messages';
import { Deadlines } from './deadlines';
import { LoadedRoom } from './loaded-room';
import { LogWriter, type LeadershipChange } from './log-writer';
import { RoomLogOutbox } from './room-log-outbox';
import { parseWireBatch, type RoomDeletedNotice } from './room-log-wire';
import { LogApplier } from './log-applier';
import { SqlStableLog } from './sql-stable-log';

/** Told when a room's host or epoch changes as this node sees it (`previousHost`: the last host known before, null if none). */
export interface LeadershipListener {
  onLeadership(roomId: string, now: Leadership, was: Leadership, previousHost: { node: string; epoch: number } | null): void;
}

/** An entry committed where the host wrote it; `duplicate`: a retry found the entry of the first attempt. */
export interface Committed {
  entry: Entry;
  duplicate: boolean;
}

/** Ticks per FAILOVER_TIMEOUT: an election starts within a tick of the detector's verdict (the lowest live node first). */
const TICKS_PER_TIMEOUT = 10;

/**
 * Every room's replicated log on this node: one consensus core per room (loaded when first
 * needed), fed by peers' messages, clients' proposals, one node-wide tick and the failure
 * detector; what the cores want written goes to disk in one transaction per turn (LogWriter),
 * then their messages go out. Quiet rooms are not ticked, so thousands of rooms cost nothing
 * while idle; a lost host is noticed per node (the failover probe), not per room.
 */
@Injectable()
export class RoomLogs implements PeerStatusListener, OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  static readonly TICK_NAME = 'room-log-ticks';
  private readonly logger = new Logger(RoomLogs.name);
  private readonly rooms = new Map<string, LoadedRoom>();
  /** Rooms whose core is not quiet: the only ones ticked. */
  private readonly active = new Set<string>();
  private readonly listeners: LeadershipListener[] = [];
  private readonly deadlines: Deadlines;
  private readonly rejoin: RejoinStatus;
  private readonly tickMs: number;
  /** Rejoining ended in this run (it never starts again before a restart). */
  private rejoinEnded = false;

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    @Inject(CHAT_STORE) private readonly store: ChatStore,
    private readonly clock: Clock,
    private readonly peers: PeerDirectory,
    private readonly disk: NodeDisk,
    private readonly outbox: RoomLogOutbox,
    private readonly writer: LogWriter,
    private readonly applier: LogApplier,
    private readonly scheduler: SchedulerRegistry,
  ) {
    this.deadlines = new Deadlines(() => clock.now());
    this.rejoin = new RejoinStatus(disk.identity.fresh, disk.diskId, peers.nodeIds);
    this.tickMs = Math.max(20, Math.round((config.failoverTimeoutMs || 2000) / TICKS_PER_TIMEOUT));
    this.writer.onRoomWritten((room, leadership) => this.written(room, leadership));
    this.writer.onRoomGone((roomId, why) => this.unload(roomId, why === 'not-stored' ? 'not-stored' : 'host-lost'));
  }

  onModuleInit(): void {
    this.peers.subscribe(this);
    this.outbox.onReply((from, json) => this.receiveReplies(from, json));
  }

  onApplicationBootstrap(): void {
    // rooms this node hosted before it stopped: it asks for them back at once (load() campaigns; a majority must agree)
    for (const roomId of this.store.logs.roomsHostedBy(this.config.nodeId)) this.load(roomId);
    this.scheduler.addInterval(RoomLogs.TICK_NAME, setInterval(() => this.tick(), this.tickMs));
  }

  onModuleDestroy(): void {
    if (this.scheduler.doesExist('interval', RoomLogs.TICK_NAME)) this.scheduler.deleteInterval(RoomLogs.TICK_NAME);
    this.deadlines.close();
  }

  subscribe(listener: LeadershipListener): void {
    this.listeners.push(listener);
  }

  // --- what the rest of the node asks ------------------------------------------------------------

  /** The room's host as this node knows it (null: none right now, an election is under way). */
  hostOf(roomId: string): { node: string; epoch: number } | null {
    const room = this.rooms.get(roomId);
    if (room) return room.host();
    const state = this.store.logs.state(roomId);
    return state?.hostNode ? { node: state.hostNode, epoch: state.hostEpoch } : null;
  }

  /** This node hosts the room now (and still hears a majority). */
  hosts(roomId: string): boolean {
    const room = this.load(roomId);
    return room !== null && room.core.state.role === 'leader';
  }

  /** Rooms this node hosts now. */
  hostedRooms(): string[] {
    return [...this.rooms.values()].filter((r) => r.core.state.role === 'leader').map((r) => r.roomId);
  }

  /** Rooms loaded here without a host right now (an election is under way). */
  leaderless(): number {
    let n = 0;
    for (const r of this.rooms.values()) if (r.core.state.leader === null) n++;
    return n;
  }

  /** A new room, hosted here from its first entry (epoch 1, no election needed); resolves once a majority stored it. */
  found(roomId: string, first: Proposal): Promise<Committed> {
    if (this.store.writesFailing) return Promise.reject(new ChatError('STORE_UNAVAILABLE', STORE_UNAVAILABLE_MESSAGE));
    this.store.logs.saveState({ roomId, epoch: 0, vote: null, commit: 0, applied: 0, learner: false, hostNode: null, hostEpoch: 0 });
    const room = this.load(roomId)!;
    const result = room.core.found(first);
    this.touch(roomId);
    return this.waitFor(room, result);
  }

  /** Appends to the room's log here (this node must host it); resolves once the entry committed where it was written. */
  propose(roomId: string, proposal: Proposal): Promise<Committed> {
    if (this.store.writesFailing) return Promise.reject(new ChatError('STORE_UNAVAILABLE', STORE_UNAVAILABLE_MESSAGE));
    const room = this.load(roomId);
    if (!room) return Promise.reject(new ChatError('ROOM_NOT_FOUND', 'Room not found'));
    const result = room.core.propose(proposal);
    this.touch(roomId);
    return this.waitFor(room, result);
  }

  private waitFor(room: LoadedRoom, r: ProposeResult): Promise<Committed> {
    if (!r.ok) {
      const moved = r.leader && r.leader !== this.config.nodeId ? { adminNode: r.leader, hostEpoch: r.epoch } : undefined;
      const why = r.reason === 'no-majority' ? 'The room\'s host does not hear a majority of nodes' : moved ? `Room is hosted by ${r.leader} now` : 'The room has no host right now (an election is under way)';
      return Promise.reject(hostUnavailable(`${why}; retry shortly`, moved));
    }
    if (r.duplicate && r.index <= room.applied) {
      // a retry of an entry already committed and applied here: answered at once with it
      const entry = this.store.logs.entry(room.roomId, r.index);
      if (entry && entry.epoch === r.epoch) return Promise.resolve({ entry, duplicate: true });
    }
    return new Promise<Committed>((resolve, reject) => {
      let open = true;
      const cancel = this.deadlines.add(this.clock.now() + this.config.quorumTimeoutMs, () => {
        if (!open) return;
        open = false;
        reject(hostUnavailable('Not confirmed by a majority of nodes in time; it may still be stored: retry with the same client_message_id'));
      });
      room.waits.wait(r.index, r.epoch, (outcome) => {
        if (!open) return;
        open = false;
        cancel();
        if (outcome.committed) return resolve({ entry: outcome.entry, duplicate: r.duplicate });
        if (outcome.reason === 'not-stored') return reject(new ChatError('STORE_UNAVAILABLE', STORE_UNAVAILABLE_MESSAGE));
        const host = room.host();
        const moved = host && host.node !== this.config.nodeId ? { adminNode: host.node, hostEpoch: host.epoch } : undefined;
        reject(hostUnavailable(outcome.reason === 'replaced' ? 'Another host replaced this change before a majority stored it; retry' : 'This node stopped hosting the room before a majority confirmed the change; retry', moved));
      });
    });
  }

  /** A peer lists a room this node has no log of: while rejoining, it is learned now, as a learner. */
  know(roomId: string): void {
    if (!this.disk.identity.rejoining || this.store.logs.state(roomId) || this.store.getTombstone(roomId)) return;
    this.store.logs.saveState({ roomId, epoch: 0, vote: null, commit: 0, applied: 0, learner: true, hostNode: null, hostEpoch: 0 });
  }

  /** Caught up with every peer's list of rooms while rejoining: rooms learned from now on are new ones (voters at once). */
  rejoined(): void {
    if (!this.disk.identity.rejoining) return;
    this.disk.identity.rejoining = false;
    this.rejoinEnded = true;
    this.store.logs.setRejoining(false);
    this.logger.log('Rejoined: every room the peers know is here (as a learner until its host promotes this node)');
  }

  // --- peers -----------------------------------------------------------------------------------

  /** A peer's batch of room log messages; answers, once this node's answers are on disk, with its messages for that peer. */
  async receive(from: string, json: string): Promise<string> {
    const batch = parseWireBatch(json, from, this.config.nodeId);
    if (this.store.writesFailing) return '[]'; // nothing can be stored: the sender sends again
    this.logger.debug(`room_log from ${from}: ${batch.length} message(s): ${summary(batch.map(([, m]) => m))}`);
    for (const [roomId, m] of batch) this.deliver(roomId, m);
    await this.writer.flushSoon();
    return this.outbox.takeFor(from);
  }

  private receiveReplies(from: string, json: string): void {
    try {
      const batch = parseWireBatch(json, from, this.config.nodeId);
      this.logger.debug(`room_log reply from ${from}: ${batch.length} message(s): ${summary(batch.map(([, m]) => m))}`);
      for (const [roomId, m] of batch) this.deliver(roomId, m);
    } catch (e) {
      this.logger.warn(`Ignored a malformed reply from ${from}: ${(e as Error).message}`);
    }
  }

  private deliver(roomId: string, m: RoomMessage | RoomDeletedNotice): void {
    if (m.type === 'roomDeleted') return this.deletedElsewhere(roomId, m);
    const room = this.load(roomId) ?? this.create(roomId, m);
    if (room) {
      room.core.step(m);
      return this.touch(roomId);
    }
    const tombstone = this.store.getTombstone(roomId);
    if (tombstone) this.outbox.send([roomId, { type: 'roomDeleted', from: this.config.nodeId, to: m.from, epoch: 0, room_name: tombstone.roomName, transaction_id: tombstone.transactionId }]);
  }

  /** A peer holds the room's tombstone: its deletion was committed, this copy goes too. */
  private deletedElsewhere(roomId: string, notice: RoomDeletedNotice): void {
    if (this.store.getTombstone(roomId)) return;
    this.unload(roomId);
    this.store.transaction(() => this.applier.applyTombstone(roomId, notice.room_name, notice.transaction_id, notice.from, this.clock.iso()));
    this.logger.log(`Room ${roomId}: ${notice.from} holds its tombstone (its deletion was committed while this node missed it); deleted here too`);
  }

  /** A room deleted elsewhere, known from a peer's catch-up page: its core and log go with it. */
  applyTombstone(roomId: string, roomName: string, transactionId: string | null, from: string): void {
    this.unload(roomId);
    this.store.transaction(() => this.applier.applyTombstone(roomId, roomName, transactionId, from, this.clock.iso()));
  }

  /** A room this node has not heard of: created when a host or candidate writes to it (as a learner while the node rejoins). */
  private create(roomId: string, m: RoomMessage): LoadedRoom | null {
    if (m.type !== 'append' && m.type !== 'vote' && m.type !== 'preVote') return null;
    if (this.store.getTombstone(roomId) || !this.rejoin.decided) return null;
    const learner = this.disk.identity.rejoining;
    this.store.logs.saveState({ roomId, epoch: 0, vote: null, commit: 0, applied: 0, learner, hostNode: null, hostEpoch: 0 });
    return this.load(roomId);
  }

  // --- the failure detector --------------------------------------------------------------------

  onPeerSuspected(node: string): void {
    if (this.config.failoverTimeoutMs === 0) return;
    for (const roomId of this.store.logs.roomsHostedBy(node)) this.load(roomId);
    this.forEachRoom((room) => room.core.peerDown(node));
  }

  onPeerAnswering(node: string): void {
    this.notePeerMemory(node);
    this.forEachRoom((room) => room.core.peerUp(node));
  }

  onPeerReachable(node: string): void {
    this.notePeerMemory(node);
    this.forEachRoom((room) => room.core.peerUp(node));
  }

  /** A restarted peer hosts nothing any more and may have lost what it had not stored. */
  onPeerRestarted(node: string): void {
    this.notePeerMemory(node);
    for (const roomId of this.store.logs.roomsHostedBy(node)) this.load(roomId);
    this.forEachRoom((room) => room.core.peerRestarted(node));
  }

  private notePeerMemory(node: string): void {
    const memory = this.disk.memoryOf(node);
    if (memory === undefined) return;
    const wasDecided = this.rejoin.decided;
    this.rejoin.heard(node, memory && memory.disk === this.disk.diskId && memory.replaced ? memory.replaced : (memory?.disk ?? null));
    if (this.rejoin.rejoining && !this.disk.identity.rejoining && !this.rejoinEnded) {
      this.store.logs.setRejoining(true);
      this.disk.identity.rejoining = true;
      this.logger.warn('This node\'s data directory is new, but its peers knew it with another: it rejoins every room as a learner (it votes and counts once each room\'s host has caught it up)');
    } else if (!wasDecided && this.rejoin.decided) {
      this.logger.log('This node\'s data directory is new to the cluster: it takes part in every room from the start');
    }
  }

  private forEachRoom(fn: (room: LoadedRoom) => void): void {
    for (const room of this.rooms.values()) {
      fn(room);
      this.touch(room.roomId);
    }
  }

  // --- cores -----------------------------------------------------------------------------------

  private load(roomId: string): LoadedRoom | null {
    const loaded = this.rooms.get(roomId);
    if (loaded) return loaded;
    const state = this.store.logs.state(roomId);
    if (!state) return null;
    // the host last known is followed only if it is the host of this node's epoch (it may have voted for a newer one since)
    const host = state.hostEpoch === state.epoch ? state.hostNode : null;
    const core = new RoomLogCore(this.coreConfig(), new SqlStableLog(this.store.logs, roomId), state, state.applied, host);
    for (const peer of this.peers.nodeIds) if (this.config.failoverTimeoutMs > 0 && this.peers.isSuspected(peer)) core.peerDown(peer);
    const room = new LoadedRoom(roomId, core, state, this.config.nodeId);
    this.rooms.set(roomId, room);
    if (room.ownedBefore) core.campaign(); // it hosted the room before it stopped (or before a failed write): it asks for it back
    this.touch(roomId);
    return room;
  }

  private unload(roomId: string, why: 'host-lost' | 'not-stored' = 'host-lost'): void {
    this.rooms.get(roomId)?.waits.hostLost(why);
    this.rooms.delete(roomId);
    this.active.delete(roomId);
  }

  private coreConfig(): CoreConfig {
    return {
      self: this.config.nodeId,
      disk: this.disk.diskId,
      voters: [this.config.nodeId, ...this.peers.nodeIds],
      electionTicks: TICKS_PER_TIMEOUT,
      resendTicks: Math.max(2, TICKS_PER_TIMEOUT / 2),
      maxAppendEntries: 256,
      maxAppendBytes: 96 * 1024,
      maxInflight: 4,
      entryBytes,
      random: Math.random,
      failover: this.config.failoverTimeoutMs > 0,
    };
  }

  /** The room has work for the writer, or may: queue it for this turn's write. */
  private touch(roomId: string): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    if (room.core.hasReady()) this.writer.queue(room);
    if (room.core.quiet) this.active.delete(roomId);
    else this.active.add(roomId);
  }

  /** After the writer stored a room's Ready and sent its messages. */
  private written(room: LoadedRoom, change: LeadershipChange | null): void {
    if (change) for (const l of this.listeners) l.onLeadership(room.roomId, change.now, change.was, change.previousHost);
    this.touch(room.roomId);
  }

  private tick(): void {
    if (this.store.writesFailing) return; // an election or an append now would only fail to be stored
    for (const roomId of [...this.active]) {
      const room = this.rooms.get(roomId);
      if (!room) continue;
      room.core.tick();
      // with failover off nobody campaigns on their own; a host that restarted keeps asking for its rooms back
      if (this.config.failoverTimeoutMs === 0 && room.ownedBefore && room.core.state.leader === null) room.core.campaign();
      this.touch(roomId);
    }
  }
}

/** "append x3, voteResult x1": what a batch holds, for debug logs. */
function summary(messages: readonly (RoomMessage | RoomDeletedNotice)[]): string {
  const counts = new Map<string, number>();
  for (const m of messages) {
    const key = m.type === 'appendResult' ? `appendResult(${m.ok ? 'ok' : 'refused'})` : m.type;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${k} x${n}`).join(', ');
}

/** About the size of an entry on the wire, for append budgets (computed once per entry, without serialising it). */
const sizes = new WeakMap<Entry, number>();
function entryBytes(e: Entry): number {
  let n = sizes.get(e);
  if (n === undefined) sizes.set(e, (n = 96 + (e.clientKey?.length ?? 0) + approxJsonBytes(e.data)));
  return n;
}

/** Roughly what JSON.stringify(value) takes in XML: strings by their length (a fifth more for escapes), the rest by shape. */
function approxJsonBytes(value: unknown): number {
  if (typeof value === 'string') return Math.ceil(value.length * 1.2) + 2;
  if (value === null || typeof value !== 'object') return 12;
  let n = 2;
  if (Array.isArray(value)) for (const v of value) n += approxJsonBytes(v) + 1;
  else for (const [k, v] of Object.entries(value)) n += k.length + 4 + approxJsonBytes(v);
  return n;
}
