import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { Clock } from '../../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import type { MessageRecord, RoomRecord } from '../../../common/store/chat-records';
import { CHAT_STORE, ChatStore } from '../../../common/store/chat-store';
import { ClientRegistry } from '../../members/client-registry';
import { PeerDirectory } from '../../peers/peer-directory';
import type { MessageWire, ReplicationEvent, RoomWire } from '../../../common/protocol/peer-wire';
import { BurstWarning } from '../../../common/logging/burst-warning';
import { PeerEventRefused, RoomHostAuthority } from './room-host-authority';
import { StaleEpochRefused } from '../../../common/protocol/stale-epoch';
import { XmlRpcTransportError } from '../../../common/xmlrpc';
import { epochOfEvent } from '../../../common/protocol/peer-wire';
import { LogReconciler } from './log-reconciler';
import { HostChanges } from './host-changes';
import { fromMessageWire, fromRoomWire, toChatMessage } from '../../../common/protocol/record-mappers';
import { SequenceWaiters } from './sequence-waiters';
import type { MemberEvent } from '../../../common/protocol/client-wire';

const FETCH_PAGE = 500;
/** How long a sender's node waits for its own message to arrive by replication before fetching it. */
const ARRIVAL_GRACE_MS = 300;


/**
 * This node's copy of rooms hosted elsewhere. Applies the hosts' replication events in order,
 * fills gaps by fetching from the host, and delivers to local sockets in sequence order
 * (PeerCatchUp pulls whatever it missed from a peer that comes back).
 */
@Injectable()
export class ReplicaService implements OnModuleDestroy {
  private readonly logger = new Logger(ReplicaService.name);
  /** Events from one source are applied strictly in arrival order. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly waiters = new SequenceWaiters();
  private readonly gapFetches = new Map<string, Promise<void>>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly refusals: BurstWarning;

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    @Inject(CHAT_STORE) private readonly store: ChatStore,
    private readonly clock: Clock,
    private readonly clients: ClientRegistry,
    private readonly peers: PeerDirectory,
    private readonly authority: RoomHostAuthority,
    private readonly reconciler: LogReconciler,
    private readonly changes: HostChanges,
  ) {
    this.refusals = new BurstWarning(this.logger, () => clock.monotonic());
  }

  onModuleDestroy(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  /**
   * Queues a batch from `fromNode`; resolves when it has been applied. A failure reaches the
   * caller (as a fault), so the sender's outbox sends the batch again instead of dropping it;
   * re-applying is harmless (messages already stored count as duplicates).
   */
  receive(fromNode: string, events: ReplicationEvent[]): Promise<void> {
    // only configured peers get a chain: invented ids cannot grow this map
    if (!this.peers.has(fromNode)) return Promise.reject(new PeerEventRefused(`node ${fromNode.slice(0, 64)} is not in PEER_NODES`));
    const previous = this.chains.get(fromNode) ?? Promise.resolve();
    const run = previous.then(() => {
      // checked when its turn comes, so rooms introduced by earlier batches are known
      const refusal = this.authority.batchRefusal(fromNode, events);
      if (refusal instanceof StaleEpochRefused) throw refusal;
      if (refusal) throw new PeerEventRefused(`${refusal} (the whole batch of ${events.length} event(s) from ${fromNode} was not applied)`);
      return this.applyAll(fromNode, events);
    });
    this.chains.set(fromNode, run.catch(() => undefined));
    return run.catch((e: Error) => {
      if (e instanceof PeerEventRefused || e instanceof StaleEpochRefused) {
        this.refusals.note(`Refused replication from ${fromNode}: ${e.faultString}`);
        throw e;
      }
      // a peer that did not answer a gap fetch is a fault of the cluster, not of this node: the host sends the batch again
      if (e instanceof XmlRpcTransportError) this.logger.warn(`Applying replication from ${fromNode} waits: ${e.message}`);
      else this.logger.error(`Applying replication from ${fromNode} failed: ${e.message}`);
      throw new RpcException(`replication batch not applied: ${e.message}`);
    });
  }

  /**
   * Applies a batch in order. Runs of events that need no fetching are applied in one SQLite
   * transaction; a message after a gap waits for the missing range from its host first.
   */
  private async applyAll(fromNode: string, events: ReplicationEvent[]): Promise<void> {
    let next = 0;
    while (next < events.length) {
      next = this.store.transaction(() => {
        let i = next;
        while (i < events.length && this.applyWithoutFetching(fromNode, events[i])) i++;
        return i;
      });
      if (next < events.length) {
        const event = events[next++] as Extract<ReplicationEvent, { kind: 'message' }>;
        await this.applyMessage(fromMessageWire(event.message), epochOfEvent(event));
      }
    }
  }

  /** Applies one event; false (nothing done) for a message that follows a gap. */
  private applyWithoutFetching(fromNode: string, event: ReplicationEvent): boolean {
    switch (event.kind) {
      case 'room':
        this.applyRoomMeta(event.room);
        return true;
      case 'message': {
        const message = fromMessageWire(event.message);
        // a room this node does not know has no verified host: nothing stored, nothing delivered
        const room = this.store.getRoom(message.roomId);
        if (!room) return true;
        if (this.reconciler.needsAlignment(room)) return false; // a new host's first message: align the copy first
        const result = this.store.applyReplicaMessage(message);
        if (result === 'gap') return false;
        if (result === 'applied') this.delivered(message);
        return true;
      }
      case 'member':
        this.applyMember(event.event_type, event.event, event.node_id);
        return true;
      case 'deleted':
        this.applyDeleted(event.room_id, event.room_name, event.transaction_id, fromNode);
        return true;
      default:
        return true; // an event kind from a newer node: skipped, not fatal
    }
  }

  /** Stores and delivers one message from its host, fetching anything missing before it first. */
  async applyMessage(message: MessageRecord, epoch = 1): Promise<void> {
    let room = this.store.getRoom(message.roomId);
    if (!room) {
      // A room we do not know (e.g. a reference node's): nothing to store, but its members here still get it.
      this.clients.deliverMessage(toChatMessage(message));
      return;
    }
    if (epoch < room.hostEpoch) return; // from a host since replaced (the batch passed before the new one was known)
    await this.alignWithHost(room.roomId);
    room = this.store.getRoom(message.roomId);
    if (!room) return;
    let result = this.store.applyReplicaMessage(message);
    if (result === 'gap') {
      await this.fetchMissing(room.roomId, room.hostNode, message.sequenceNumber - 1);
      result = this.store.applyReplicaMessage(message);
    }
    if (result === 'applied') this.delivered(message);
  }

  /**
   * A new host's log: this copy keeps only what that log holds. What is left is on a majority
   * (this node and the new host), so local sockets get what they have not seen of it (an old
   * host's messages whose majority it had not heard of before it stepped down).
   */
  private async alignWithHost(roomId: string): Promise<void> {
    const room = this.store.getRoom(roomId);
    if (!room || !this.reconciler.needsAlignment(room)) return;
    await this.reconciler.alignWithHost(roomId);
    this.deliverUnseen(roomId, this.store.getRoom(roomId)?.lastSequence ?? 0);
  }

  /** Sends local sockets the room's messages up to `upTo` that they have not had (each socket's cursor skips the rest). */
  deliverUnseen(roomId: string, upTo: number): void {
    let after = this.clients.lowestCursor(roomId);
    while (after !== null && after < upTo) {
      const page = this.store.messagesAfter(roomId, after, Math.min(FETCH_PAGE, upTo - after));
      if (page.length === 0) return;
      for (const m of page) this.clients.deliverMessage(toChatMessage(m));
      after = page.at(-1)!.sequenceNumber;
    }
  }

  private delivered(message: MessageRecord): void {
    this.clients.deliverMessage(toChatMessage(message));
    this.waiters.reached(message.roomId, message.sequenceNumber, this.clock.monotonic());
    this.reconciler.advanceLogEpoch(message.roomId);
  }

  private applyMember(type: 'member_joined' | 'member_left', event: MemberEvent, nodeId: string): void {
    const { room_id: roomId, username } = event;
    if (!this.store.getRoom(roomId)) return;
    if (type === 'member_joined') this.store.addMember(roomId, username, nodeId, this.clock.iso());
    else this.store.removeMember(roomId, username);
    this.clients.broadcast(roomId, type, event, username);
  }

  /** A room deleted by its host: drop the replica, tell local members, remember the tombstone. */
  applyDeleted(roomId: string, roomName: string, transactionId: string | null, fromHost?: string): void {
    const room = this.store.getRoom(roomId);
    if (!room && this.store.getTombstone(roomId)) return;
    const name = room?.roomName ?? roomName;
    this.store.deleteRoom({ roomId, roomName: name, hostNode: room?.hostNode ?? fromHost ?? 'unknown', deletedAt: this.clock.iso(), transactionId });
    this.clients.broadcast(roomId, 'room_deleted', {
      room_id: roomId,
      room_name: name,
      message: `Room '${name}' has been deleted`,
      ...(transactionId ? { transaction_id: transactionId } : {}),
    });
    this.clients.unregisterRoom(roomId);
  }

  /**
   * Resolves once this node holds the room's messages up to `sequence`. If replication stalls, the
   * gap is fetched from the host (one call per room, not per waiting sender); rejects if that fails.
   */
  async waitForSequence(roomId: string, sequence: number): Promise<void> {
    const room = this.store.getRoom(roomId);
    if (!room || room.lastSequence >= sequence) return;
    this.sweeper ??= setInterval(() => this.fetchStalled(), ARRIVAL_GRACE_MS / 3);
    if (!(await this.waiters.wait(roomId, sequence, this.clock.monotonic()))) {
      throw new Error(`messages up to ${sequence} of room ${roomId} could not be fetched from ${room.hostNode}`);
    }
  }

  private fetchStalled(): void {
    if (this.waiters.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
      return;
    }
    for (const { roomId, upTo } of this.waiters.stalled(this.clock.monotonic(), ARRIVAL_GRACE_MS)) {
      const room = this.store.getRoom(roomId);
      if (!room) {
        this.waiters.release(roomId);
        continue;
      }
      if (this.gapFetches.has(roomId)) continue;
      const fetch = this.fetchMissing(roomId, room.hostNode, upTo)
        .then(() => this.waiters.reached(roomId, this.store.getRoom(roomId)?.lastSequence ?? 0, this.clock.monotonic()))
        .catch((e: Error) => {
          this.logger.warn(`Fetching room ${roomId} from ${room.hostNode} failed: ${e.message}`);
          this.waiters.release(roomId);
        })
        .finally(() => this.gapFetches.delete(roomId));
      this.gapFetches.set(roomId, fetch);
    }
  }

  /**
   * Fetches messages after our last one up to `upTo` (or to the source's end) and applies them in
   * order. The source is the room's host; `anyCopy` lets a failover candidate copy from the peer
   * with the most complete copy instead.
   */
  async fetchMissing(roomId: string, hostNode: string, upTo = Number.MAX_SAFE_INTEGER, anyCopy = false): Promise<void> {
    if (!anyCopy) await this.alignWithHost(roomId);
    for (;;) {
      const room = this.store.getRoom(roomId);
      // only the room's host supplies its messages (never this node for a room hosted here)
      if (!room || room.lastSequence >= upTo || (!anyCopy && this.authority.refusal(roomId, hostNode) !== null)) return;
      const page = await this.peers.call(hostNode, 'get_messages', [roomId, room.lastSequence, null, FETCH_PAGE]);
      if (!page.success || page.messages.length === 0) return;
      for (const wire of page.messages) {
        const message = fromMessageWire(wire as MessageWire);
        if (this.store.applyReplicaMessage(message) === 'applied') this.delivered(message);
      }
      // pages can be cut short by the host's reply budget: go on until its last sequence, while we make progress
      const reached = this.store.getRoom(roomId)?.lastSequence ?? 0;
      if (reached >= page.last_sequence || reached <= room.lastSequence) return;
    }
  }

  /** Host's room metadata (a newer epoch: the room moved); a deletion that was pending here and is over on the host was cancelled. */
  applyRoomMeta(wire: RoomWire): void {
    if (this.store.getTombstone(wire.room_id)) return;
    const known = this.store.getRoom(wire.room_id);
    if (known && Number(wire.host_epoch) >= known.hostEpoch) this.changes.follow(wire.room_id, String(wire.host_node), Number(wire.host_epoch), Number(wire.epoch_start) || 1);
    const before = this.store.getRoom(wire.room_id);
    const after = fromRoomWire(wire);
    this.store.upsertRoomMeta(after);
    if (before && before.state !== 'ACTIVE' && after.state === 'ACTIVE' && before.deletionTxn) {
      this.clients.broadcast(wire.room_id, 'delete_room_cancelled', { room_id: wire.room_id, transaction_id: before.deletionTxn });
    }
  }

  /** Rooms hosted by `nodeId` that have sockets on this node. */
  roomsWithLocalMembers(nodeId: string): RoomRecord[] {
    return this.store.listRooms(nodeId).filter((r) => this.clients.hasRoom(r.roomId));
  }
}
