import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { RoomLogRepository } from '../../../common/store/room-log.repository';
import { StoreTransactions } from '../../../common/store/store-transactions';
import { TombstoneRepository } from '../../../common/store/tombstone.repository';
import { NodeDisk } from '../../peers/node-disk';
import { PeerDirectory, type PeerStatusListener } from '../../peers/peer-directory';
import { RejoinStatus } from '../consensus/rejoin-status';
import type { RoomMessage } from '../consensus/room-messages';
import { LogApplier } from './log-applier';
import { LogWriter } from './log-writer';
import { RoomLogOutbox } from './room-log-outbox';
import { parseWireBatch, type RoomDeletedNotice } from './room-log-wire';
import { ROOM_DELETED, type RoomDeletedData } from './room-entries';
import { RoomLogs } from './room-logs.service';

/**
 * What peers tell the rooms' logs: their batches of room log messages (room_log_json, and the
 * replies to ours), what the failure detector says of them, and whether this node's disk is new
 * to a cluster that knew it with another (then every room it learns starts as a learner). A node
 * holding a room's tombstone answers for it, so a node that missed a deletion's commit deletes
 * its copy instead of asking for votes forever.
 */
@Injectable()
export class RoomLogPeers implements PeerStatusListener, OnModuleInit {
  private readonly logger = new Logger(RoomLogPeers.name);
  private readonly rejoin: RejoinStatus;
  /** Rejoining ended in this run (it never starts again before a restart). */
  private rejoinEnded = false;

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly transactions: StoreTransactions,
    private readonly tombstones: TombstoneRepository,
    private readonly storedLogs: RoomLogRepository,
    private readonly clock: Clock,
    private readonly peers: PeerDirectory,
    private readonly disk: NodeDisk,
    private readonly logs: RoomLogs,
    private readonly outbox: RoomLogOutbox,
    private readonly writer: LogWriter,
    private readonly applier: LogApplier,
  ) {
    this.rejoin = new RejoinStatus(disk.identity.fresh, disk.diskId, peers.nodeIds);
  }

  onModuleInit(): void {
    this.peers.subscribe(this);
    this.outbox.onReply((from, json) => this.receiveReplies(from, json));
  }

  // --- room log messages -----------------------------------------------------------------------

  /** A peer's batch; answered, once this node's answers are on disk, with its messages for that peer. */
  async receive(from: string, json: string): Promise<string> {
    const batch = parseWireBatch(json, from, this.config.nodeId);
    this.peers.heardFrom(from);
    if (this.transactions.writesFailing) return '[]'; // nothing can be stored: the sender sends again
    if (Logger.isLevelEnabled('debug')) this.logger.debug(`room_log from ${from}: ${batch.length} message(s): ${summary(batch.map(([, m]) => m))}`);
    const answered = this.outbox.answering(from);
    try {
      for (const [roomId, m] of batch) this.deliver(roomId, m);
      await this.writer.flushSoon();
      return this.outbox.takeFor(from);
    } finally {
      answered();
    }
  }

  private receiveReplies(from: string, json: string): void {
    try {
      const batch = parseWireBatch(json, from, this.config.nodeId);
      this.peers.heardFrom(from);
      if (Logger.isLevelEnabled('debug')) this.logger.debug(`room_log reply from ${from}: ${batch.length} message(s): ${summary(batch.map(([, m]) => m))}`);
      for (const [roomId, m] of batch) this.deliver(roomId, m);
    } catch (e) {
      this.logger.warn(`Ignored a malformed reply from ${from}: ${(e as Error).message}`);
    }
  }

  private deliver(roomId: string, m: RoomMessage | RoomDeletedNotice): void {
    if (m.type === 'roomDeleted') return this.deletedElsewhere(roomId, m);
    const room = this.logs.load(roomId) ?? this.create(roomId, m);
    if (room) {
      room.core.step(m);
      return this.logs.touch(roomId);
    }
    const tombstone = this.tombstones.getTombstone(roomId);
    if (tombstone) this.outbox.send([roomId, { type: 'roomDeleted', from: this.config.nodeId, to: m.from, epoch: 0, room_name: tombstone.roomName, transaction_id: tombstone.transactionId }]);
  }

  /** A room this node has not heard of: created when a host or candidate writes to it (as a learner while the node rejoins). */
  private create(roomId: string, m: RoomMessage) {
    if (m.type !== 'append' && m.type !== 'vote' && m.type !== 'preVote') return null;
    if (this.tombstones.getTombstone(roomId) || !this.rejoin.decided) return null;
    return this.logs.create(roomId, this.disk.identity.rejoining);
  }

  /**
   * A peer holds the room's tombstone: its deletion was committed. If this node's log holds that
   * deletion (it missed only its commit), it commits and applies it like any entry (its members
   * hear the same events as everyone's); otherwise its copy goes by the tombstone.
   */
  private deletedElsewhere(roomId: string, notice: RoomDeletedNotice): void {
    if (this.tombstones.getTombstone(roomId)) return;
    const room = this.logs.load(roomId);
    const deletion = this.storedLogs.entriesOfKind(roomId, ROOM_DELETED).find((e) => (e.data as RoomDeletedData).transaction_id === notice.transaction_id);
    if (room && deletion) {
      room.core.commitKnown({ index: deletion.index, epoch: deletion.epoch });
      return this.logs.touch(roomId);
    }
    this.applyTombstone(roomId, notice.room_name, notice.transaction_id, notice.from);
    this.logger.log(`Room ${roomId}: ${notice.from} holds its tombstone (its deletion was committed while this node missed it); deleted here too`);
  }

  /** A room deleted elsewhere (a tombstone from a peer): its core, log and data go, the tombstone stays. */
  applyTombstone(roomId: string, roomName: string, transactionId: string | null, from: string): void {
    this.logs.unload(roomId);
    this.transactions.run(() => this.applier.applyTombstone(roomId, roomName, transactionId, from, this.clock.iso()));
  }

  // --- rejoining with a new disk ---------------------------------------------------------------

  /** This node came back with a new disk and has not learned every room yet (or does not know yet whether it must). */
  get learning(): boolean {
    return this.disk.identity.rejoining || !this.rejoin.decided;
  }

  /** A peer lists a room this node has no log of: while rejoining, it is learned now, as a learner. */
  know(roomId: string): void {
    if (!this.disk.identity.rejoining || this.storedLogs.state(roomId) || this.tombstones.getTombstone(roomId)) return;
    this.storedLogs.saveState({ roomId, epoch: 0, vote: null, commit: 0, applied: 0, learner: true, hostNode: null, hostEpoch: 0 });
  }

  /** Caught up with every peer's list of rooms while rejoining: rooms learned from now on are new ones (voters at once). */
  rejoined(): void {
    if (!this.disk.identity.rejoining) return;
    this.disk.identity.rejoining = false;
    this.rejoinEnded = true;
    this.storedLogs.setRejoining(false);
    this.logger.log('Rejoined: every room the peers know is here (as a learner until its host promotes this node)');
  }

  private notePeerMemory(node: string): void {
    const memory = this.disk.memoryOf(node);
    if (memory === undefined) return;
    const wasDecided = this.rejoin.decided;
    // a peer that saw this disk replace another one remembers the old one as replaced
    this.rejoin.heard(node, memory && memory.disk === this.disk.diskId && memory.replaced ? memory.replaced : (memory?.disk ?? null));
    if (this.rejoin.rejoining && !this.disk.identity.rejoining && !this.rejoinEnded) {
      this.storedLogs.setRejoining(true);
      this.disk.identity.rejoining = true;
      this.logger.warn('This node\'s data directory is new, but its peers knew it with another: it rejoins every room as a learner (it votes and counts once each room\'s host has caught it up)');
    } else if (!wasDecided && this.rejoin.decided) {
      this.logger.log('This node\'s data directory is new to the cluster: it takes part in every room from the start');
    }
    // kept, after the rejoining flag: a restart before this asks its peers again, one after it does not
    if (!wasDecided && this.rejoin.decided) this.storedLogs.setDecided();
  }

  // --- the failure detector --------------------------------------------------------------------

  onPeerSuspected(node: string): void {
    this.warnIfNoMajority();
    if (this.config.failoverTimeoutMs === 0) return;
    for (const roomId of this.storedLogs.roomsHostedBy(node)) this.logs.load(roomId);
    this.logs.forEach((room) => room.core.peerDown(node));
  }

  /** A fresh disk decides whether it rejoins as soon as peers answer (a probe does; no event needed). */
  onPeerIdentified(node: string): void {
    if (!this.rejoin.decided || this.disk.identity.rejoining) this.notePeerMemory(node);
  }

  onPeerAnswering(node: string): void {
    this.noMajorityLogged = false;
    this.notePeerMemory(node);
    this.logs.forEach((room) => room.core.peerUp(node));
  }

  onPeerReachable(node: string): void {
    this.notePeerMemory(node);
    this.logs.forEach((room) => room.core.peerUp(node));
  }

  private noMajorityLogged = false;

  /** Once per loss: without a majority nothing commits, and operators should know why sends are refused. */
  private warnIfNoMajority(): void {
    const live = 1 + this.peers.livePeers().length;
    if (live >= this.peers.majority || this.noMajorityLogged) return;
    this.noMajorityLogged = true;
    this.logger.warn(`Only ${live} of ${this.peers.nodeIds.length + 1} nodes answer (a majority is ${this.peers.majority}): nothing can be acknowledged, and no room can move, until more return`);
  }

  /** A restarted peer hosts nothing any more and may have lost what it had not stored. */
  onPeerRestarted(node: string): void {
    this.notePeerMemory(node);
    for (const roomId of this.storedLogs.roomsHostedBy(node)) this.logs.load(roomId);
    this.logs.forEach((room) => room.core.peerRestarted(node));
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
