import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Clock } from '../../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { ChatError, hostUnavailable } from '../../../common/errors/chat-error';
import { RoomLogRepository } from '../../../common/store/room-log.repository';
import { StoreTransactions } from '../../../common/store/store-transactions';
import { STORE_UNAVAILABLE_MESSAGE } from '../../../common/store/store-write-health';
import { NodeDisk } from '../../peers/node-disk';
import { PeerDirectory } from '../../peers/peer-directory';
import type { CoreConfig, Leadership, Proposal, ProposeResult } from '../consensus/core-types';
import type { Entry } from '../consensus/log-entry';
import { RoomLogCore } from '../consensus/room-log-core';
import { CatchUpWaits, catchingUpRefusal } from './catch-up-waits';
import { Deadlines } from './deadlines';
import { entryBytes } from './entry-bytes';
import { LoadedRoom } from './loaded-room';
import { LogWriter, type LeadershipChange } from './log-writer';
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
 * Every room's replicated log on this node: one consensus core per room, loaded when first
 * needed, fed by clients' proposals, one node-wide tick, and (through RoomLogPeers) peers'
 * messages and the failure detector. What the cores want written goes to disk in one transaction
 * per turn (LogWriter), then their messages go out. Quiet rooms are not ticked, so thousands of
 * rooms cost nothing while idle; a lost host is noticed per node, not per room.
 */
@Injectable()
export class RoomLogs implements OnApplicationBootstrap, OnModuleDestroy {
  static readonly TICK_NAME = 'room-log-ticks';
  private readonly rooms = new Map<string, LoadedRoom>();
  /** Rooms whose core is not quiet: the only ones ticked. */
  private readonly active = new Set<string>();
  private readonly listeners: LeadershipListener[] = [];
  private readonly deadlines: Deadlines;
  private readonly catchUp: CatchUpWaits;
  private readonly tickMs: number;
  /** The tick's interval runs only while some room is active (and after bootstrap): an idle node has no timer waking it. */
  private ticking = false;
  private started = false;

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly transactions: StoreTransactions,
    private readonly storedLogs: RoomLogRepository,
    private readonly clock: Clock,
    private readonly peers: PeerDirectory,
    private readonly disk: NodeDisk,
    private readonly writer: LogWriter,
    private readonly scheduler: SchedulerRegistry,
  ) {
    this.deadlines = new Deadlines(() => clock.monotonic());
    this.tickMs = Math.max(20, Math.round((config.failoverTimeoutMs || 2000) / TICKS_PER_TIMEOUT));
    this.catchUp = new CatchUpWaits(this.deadlines, () => clock.monotonic() + config.quorumTimeoutMs, (roomId) => this.catchingUp(roomId));
    this.writer.onRoomWritten((room, change) => this.written(room, change));
    this.writer.onRoomGone((roomId, why) => this.unload(roomId, why === 'not-stored' ? 'not-stored' : 'host-lost'));
  }

  onApplicationBootstrap(): void {
    // rooms this node hosted before it stopped: it asks for them back at once (load() campaigns; a majority must agree)
    this.started = true;
    for (const roomId of this.storedLogs.roomsHostedBy(this.config.nodeId)) this.load(roomId);
    this.tickWhileActive();
  }

  onModuleDestroy(): void {
    this.started = false;
    this.tickWhileActive();
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
    const state = this.storedLogs.state(roomId);
    return state?.hostNode ? { node: state.hostNode, epoch: state.hostEpoch } : null;
  }

  /** This node hosts the room now. */
  hosts(roomId: string): boolean {
    return this.load(roomId)?.core.state.role === 'leader';
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
    if (this.transactions.writesFailing) return Promise.reject(new ChatError('STORE_UNAVAILABLE', STORE_UNAVAILABLE_MESSAGE));
    const room = this.create(roomId, false);
    const result = room.core.found(first);
    this.touch(roomId);
    return this.waitFor(room, result);
  }

  /**
   * The one way a host serves a request that depends on the room's state: runs `request` (its
   * checks against what this node applied, then its proposal) once this node may answer from that
   * state. At once, in the caller's turn, unless this node hosts the room and has not caught up
   * (RoomLogCore.caughtUp: a new host that has not applied everything committed before its epoch);
   * then it waits until it has, or until it no longer hosts the room (the request's own checks
   * then refuse it, naming the new host), or is refused retryably after the quorum timeout.
   */
  serve<T>(roomId: string, request: () => Promise<T>): Promise<T> {
    return this.catchUp.serve(roomId, request);
  }

  /**
   * Appends to the room's log here (this node must host it, caught up: proposals come through
   * serve()); resolves once the entry committed where it was written.
   */
  propose(roomId: string, proposal: Proposal): Promise<Committed> {
    if (this.transactions.writesFailing) return Promise.reject(new ChatError('STORE_UNAVAILABLE', STORE_UNAVAILABLE_MESSAGE));
    const room = this.load(roomId);
    if (!room) return Promise.reject(new ChatError('ROOM_NOT_FOUND', 'Room not found'));
    if (this.catchingUp(roomId)) return Promise.reject(catchingUpRefusal()); // checked against a state that may lag: not proposed
    const result = room.core.propose(proposal);
    this.touch(roomId);
    return this.waitFor(room, result);
  }

  private catchingUp(roomId: string): boolean {
    const core = this.rooms.get(roomId)?.core;
    return core !== undefined && core.state.role === 'leader' && !core.caughtUp;
  }

  private waitFor(room: LoadedRoom, r: ProposeResult): Promise<Committed> {
    if (!r.ok) {
      const moved = r.leader && r.leader !== this.config.nodeId ? { adminNode: r.leader, hostEpoch: r.epoch } : undefined;
      const why = r.reason === 'no-majority' ? 'The room\'s host does not hear a majority of nodes' : moved ? `Room is hosted by ${r.leader} now` : 'The room has no host right now (an election is under way)';
      return Promise.reject(hostUnavailable(`${why}; retry shortly`, moved));
    }
    if (r.duplicate && r.index <= room.applied) {
      // a retry of an entry already committed and applied here: answered at once with it
      const entry = this.storedLogs.entry(room.roomId, r.index);
      if (entry && entry.epoch === r.epoch) return Promise.resolve({ entry, duplicate: true });
    }
    return new Promise<Committed>((resolve, reject) => {
      let open = true;
      const cancel = this.deadlines.add(this.clock.monotonic() + this.config.quorumTimeoutMs, () => {
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

  // --- cores (RoomLogPeers feeds them what peers and the failure detector say) -------------------

  /** The room's core, loaded from disk if needed; null for a room this node has no log of. */
  load(roomId: string): LoadedRoom | null {
    const loaded = this.rooms.get(roomId);
    if (loaded) return loaded;
    const state = this.storedLogs.state(roomId);
    if (!state) return null;
    // the host last known is followed only if it is the host of this node's epoch (it may have voted for a newer one since)
    const host = state.hostEpoch === state.epoch ? state.hostNode : null;
    const core = new RoomLogCore(this.coreConfig(), new SqlStableLog(this.storedLogs, roomId), state, state.applied, host);
    for (const peer of this.peers.nodeIds) if (this.config.failoverTimeoutMs > 0 && this.peers.isSuspected(peer)) core.peerDown(peer);
    const room = new LoadedRoom(roomId, core, state, this.config.nodeId);
    this.rooms.set(roomId, room);
    if (room.ownedBefore) core.campaign(); // it hosted the room before it stopped (or before a failed write): it asks for it back
    this.touch(roomId);
    return room;
  }

  /** A room new to this node, with an empty log: founded here, or first heard of from a peer (`learner` while this node rejoins). */
  create(roomId: string, learner: boolean): LoadedRoom {
    this.storedLogs.saveState({ roomId, epoch: 0, vote: null, commit: 0, applied: 0, learner, hostNode: null, hostEpoch: 0 });
    return this.load(roomId)!;
  }

  /** Runs `fn` on every loaded room, then lets each one's work go out. */
  forEach(fn: (room: LoadedRoom) => void): void {
    for (const room of this.rooms.values()) {
      fn(room);
      this.touch(room.roomId);
    }
  }

  /** The room has work for the writer, or may: queue it for this turn's write, and tick it while it is not quiet. */
  touch(roomId: string): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    if (room.core.hasReady()) this.writer.queue(room);
    if (room.core.quiet) this.active.delete(roomId);
    else this.active.add(roomId);
    this.tickWhileActive();
  }

  /** Starts the node-wide tick when a room turns active, stops it when the last one is quiet again. */
  private tickWhileActive(): void {
    const wanted = this.started && this.active.size > 0;
    if (wanted === this.ticking) return;
    this.ticking = wanted;
    if (wanted) this.scheduler.addInterval(RoomLogs.TICK_NAME, setInterval(() => this.tick(), this.tickMs));
    else if (this.scheduler.doesExist('interval', RoomLogs.TICK_NAME)) this.scheduler.deleteInterval(RoomLogs.TICK_NAME);
  }

  /**
   * Drops a room's core (deleted, or reloaded from disk after a failed write); its clients still
   * waiting are told. After a failed write, a client whose entry an earlier write had stored is not
   * told "nothing was saved": it waits on in the reloaded core, where its entry may still commit.
   */
  unload(roomId: string, why: 'host-lost' | 'not-stored' = 'host-lost'): void {
    const room = this.rooms.get(roomId);
    this.rooms.delete(roomId);
    this.active.delete(roomId);
    this.tickWhileActive();
    this.catchUp.check(roomId);
    if (!room) return;
    if (why === 'host-lost') return void room.waits.hostLost();
    const stored = room.waits.hostLost('not-stored', (index, epoch) => this.storedLogs.entry(roomId, index)?.epoch === epoch);
    if (stored.size === 0) return;
    const reloaded = this.load(roomId);
    if (reloaded) reloaded.waits.adopt(stored);
    else stored.hostLost();
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

  /** After the writer stored a room's Ready and sent its messages. */
  private written(room: LoadedRoom, change: LeadershipChange | null): void {
    if (change) for (const l of this.listeners) l.onLeadership(room.roomId, change.now, change.was, change.previousHost);
    this.touch(room.roomId);
    this.catchUp.check(room.roomId);
  }

  private tick(): void {
    if (this.transactions.writesFailing) return; // an election or an append now would only fail to be stored
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
