import { Inject, Injectable, Logger } from '@nestjs/common';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import type { ClaimAnswer } from '../../../common/protocol/peer-wire';
import type { RoomRecord } from '../../../common/store/chat-records';
import { CHAT_STORE, ChatStore } from '../../../common/store/chat-store';
import { ClientRegistry } from '../../members/client-registry';
import { PeerDirectory } from '../../peers/peer-directory';
import { RoomEventPublisher } from '../host/room-events.publisher';
import { RoomHostService } from '../host/room-host.service';
import { HostChanges } from '../replica/host-changes';
import { LogReconciler } from '../replica/log-reconciler';
import { ReplicaService } from '../replica/replica.service';
import { FailoverHistory } from './failover-history';

/** A copy of the room: whose, the epoch whose log it follows, and how far it goes. */
interface Copy {
  node: string;
  logEpoch: number;
  lastSequence: number;
}

const moreComplete = (a: Copy, b: Copy) => a.logEpoch > b.logEpoch || (a.logEpoch === b.logEpoch && a.lastSequence > b.lastSequence);

/**
 * The candidate's side of a failover, for one room: ask the live peers for the next epoch, and
 * with a majority's grants take the most complete copy among them (every acknowledged message is
 * on at least one node of any majority), then serve from the next sequence and announce it.
 * The same path re-confirms a room this node hosted before a restart.
 */
@Injectable()
export class RoomClaim {
  private readonly logger = new Logger(RoomClaim.name);

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    @Inject(CHAT_STORE) private readonly store: ChatStore,
    private readonly peers: PeerDirectory,
    private readonly host: RoomHostService,
    private readonly events: RoomEventPublisher,
    private readonly replica: ReplicaService,
    private readonly reconciler: LogReconciler,
    private readonly changes: HostChanges,
    private readonly clients: ClientRegistry,
    private readonly history: FailoverHistory,
  ) {}

  /** True when this node serves the room afterwards. */
  async claim(roomId: string): Promise<boolean> {
    const room = this.store.getRoom(roomId);
    if (!room) return false;
    const self = this.config.nodeId;
    const epoch = Math.max(room.hostEpoch, room.promisedEpoch) + 1;
    this.store.setEpochs(roomId, { ...room, promisedEpoch: epoch }); // our own vote
    const voters = this.peers.livePeers().filter((p) => p !== room.hostNode || room.hostNode === self);
    const timeout = Math.min(this.config.peerCallTimeoutMs, Math.max(500, this.config.failoverTimeoutMs));
    const answers = (await Promise.all(voters.map((p) => this.peers.call(p, 'claim_room', [roomId, epoch, self], timeout).catch(() => null)))).filter(
      (a): a is ClaimAnswer => a !== null && typeof a === 'object',
    );
    if (answers.some((a) => a.deleted)) {
      this.replica.applyDeleted(roomId, room.roomName, null);
      return false;
    }
    const grants = answers.filter((a) => a.granted);
    if (grants.length + 1 < this.peers.majority) {
      // nobody else promised it: our own vote is withdrawn, so it does not fence a host that is fine after all
      if (grants.length === 0) this.withdraw(roomId, epoch, room.promisedEpoch);
      return this.refused(room, epoch, answers);
    }

    const mine: Copy = { node: self, logEpoch: room.logEpoch, lastSequence: room.lastSequence };
    const best = grants.map((g): Copy => ({ node: g.node_id, logEpoch: Number(g.log_epoch), lastSequence: Number(g.last_sequence) })).reduce((a, b) => (moreComplete(b, a) ? b : a), mine);
    if (best.node !== self) {
      await this.reconciler.alignWith(roomId, best.node);
      await this.replica.fetchMissing(roomId, best.node, best.lastSequence, true);
    }
    const now = this.store.getRoom(roomId);
    if (!now || now.lastSequence < best.lastSequence || now.promisedEpoch !== epoch) {
      this.logger.warn(`Claim of room ${roomId} at epoch ${epoch} abandoned: ${!now ? 'the room is gone' : now.promisedEpoch !== epoch ? `epoch ${now.promisedEpoch} was promised meanwhile` : `could copy only up to ${now.lastSequence} of ${best.lastSequence} from ${best.node}`}`);
      return false;
    }
    // grantors whose copy follows the same log as ours hold a prefix of it: what enough of them hold is on a majority
    const held = grants.filter((g) => Number(g.log_epoch) === best.logEpoch).map((g) => Math.min(Number(g.last_sequence), now.lastSequence));
    const stored = held.sort((a, b) => b - a)[this.peers.majority - 2] ?? 0;
    this.become(now, epoch, stored);
    return true;
  }

  private become(room: RoomRecord, epoch: number, stored: number): void {
    const self = this.config.nodeId;
    const next = room.lastSequence + 1;
    const served: RoomRecord = { ...room, hostNode: self, hostEpoch: epoch, promisedEpoch: epoch, epochStart: next, logEpoch: epoch };
    this.store.setEpochs(room.roomId, served);
    this.host.startServing(room.roomId);
    const previous = room.hostNode;
    if (previous === self) {
      this.logger.log(`Room '${room.roomName}' (${room.roomId}) confirmed by a majority: this node hosts it at epoch ${epoch}, from sequence ${next}`);
    } else {
      this.logger.warn(`Room '${room.roomName}' (${room.roomId}) failed over from ${previous} (epoch ${room.hostEpoch}) to ${self} (epoch ${epoch}), continuing at sequence ${next}`);
      this.history.record({ room_id: room.roomId, room_name: room.roomName, from_node: previous, to_node: self, from_epoch: room.hostEpoch, to_epoch: epoch, first_sequence: next });
    }
    void this.events.roomChanged(served); // the announcement: replicas follow the new epoch
    // local members get what is on a majority now; the rest is replicated again and shown at its commit
    this.replica.deliverUnseen(room.roomId, stored);
    for (const m of this.store.messagesAfter(room.roomId, stored, room.lastSequence - stored)) void this.events.messageResent(m, epoch).catch(() => undefined);
    // a deletion this node decided before a restart is finished; one its old host left undecided is off
    if (room.state === 'COMMITTING' && previous === self) this.host.finishDeletion(served);
    else if (room.state !== 'ACTIVE') this.cancelDeletion(served);
    if (previous !== self) {
      this.host.removeMembersOf(previous, 'Node unreachable');
      this.clients.broadcast(room.roomId, 'room_host_changed', { room_id: room.roomId, admin_node: self, host_epoch: epoch });
    }
  }

  /** A deletion its old host left undecided: nobody was told it succeeded (that needs a majority), so it is off. */
  private cancelDeletion(room: RoomRecord): void {
    const txn = room.deletionTxn;
    this.store.setRoomState(room.roomId, 'ACTIVE', null);
    void this.events.roomChanged({ ...room, state: 'ACTIVE', deletionTxn: null });
    if (txn) this.clients.broadcast(room.roomId, 'delete_room_cancelled', { room_id: room.roomId, transaction_id: txn });
  }

  private withdraw(roomId: string, epoch: number, before: number): void {
    const now = this.store.getRoom(roomId);
    if (now && now.promisedEpoch === epoch) this.store.setEpochs(roomId, { ...now, promisedEpoch: Math.max(before, now.hostEpoch) });
  }

  /** No majority: a refusal may name a newer host this node has not heard of yet. */
  private refused(room: RoomRecord, epoch: number, answers: ClaimAnswer[]): false {
    for (const a of answers) {
      if (a.host_node && a.host_epoch > room.hostEpoch) this.changes.follow(room.roomId, a.host_node, a.host_epoch, room.epochStart);
    }
    const why = answers.filter((a) => !a.granted).map((a) => `${a.node_id}: ${a.reason ?? 'refused'}`);
    this.logger.debug(`Claim of room ${room.roomId} at epoch ${epoch}: no majority (${answers.filter((a) => a.granted).length + 1} of ${this.peers.majority} needed)${why.length ? `; ${why.join('; ')}` : ''}`);
    return false;
  }
}
