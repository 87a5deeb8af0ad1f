import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { BurstWarning } from '../../../common/logging/burst-warning';
import { CHAT_STORE, ChatStore } from '../../../common/store/chat-store';
import { XmlRpcFault, XmlRpcFaultCode } from '../../../common/xmlrpc';
import { epochOfEvent, roomOfEvent, type ReplicationEvent } from '../../../common/protocol/peer-wire';
import { StaleEpochRefused } from '../../../common/protocol/stale-epoch';

/** A peer event this node will not apply: answered to the caller as a -32403 fault. */
export class PeerEventRefused extends XmlRpcFault {
  constructor(reason: string) {
    super(XmlRpcFaultCode.PeerNotAuthorised, `peer event refused: ${reason}. Only a room's host may change it.`);
  }
}

/**
 * Who may change a room from outside: only the node this node knows as its host, and never a
 * room hosted here. The one seam for "may this caller speak for this room" (host failover's
 * epoch rules belong here too).
 */
@Injectable()
export class RoomHostAuthority {
  private readonly logger = new Logger(RoomHostAuthority.name);
  private readonly refusals: BurstWarning;

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    @Inject(CHAT_STORE) private readonly store: ChatStore,
    clock: Clock,
  ) {
    this.refusals = new BurstWarning(this.logger, () => clock.monotonic());
  }

  /** The room's host as this node knows it (its replica, else its tombstone); undefined for a room never seen. */
  knownHost(roomId: string): string | undefined {
    const host = this.store.getRoom(roomId)?.hostNode ?? this.store.getTombstone(roomId)?.hostNode;
    return host === 'unknown' ? undefined : host;
  }

  /** Whether this node is the room's host: no peer may change such a room, nor ask it to take part in its deletion. */
  hostsHere(room: { hostNode: string }): boolean {
    return room.hostNode === this.config.nodeId;
  }

  /**
   * Why `sender` may not change a room whose host is `host`, or null if it may. A null sender
   * (unsigned calls, no PEER_SECRET) is unknown: only the "not hosted here" rule applies then.
   */
  refusal(roomId: string, sender: string | null, host = this.knownHost(roomId)): string | null {
    if (host !== undefined && this.hostsHere({ hostNode: host })) return `room ${roomId} is hosted by this node (${host})`;
    if (host !== undefined && sender !== null && sender !== host) return `room ${roomId} is hosted by ${host}, not by ${sender}`;
    return null;
  }

  /** StaleEpochRefused when `epoch` is older than what this node promised for the room (null: the caller names none). */
  staleEpoch(roomId: string, epoch: number | null, sender: string | null = null): StaleEpochRefused | null {
    if (epoch === null) return null;
    const room = this.store.getRoom(roomId);
    if (!room) {
      // deleted by a later host while the caller still acted as the old one: it is told to follow that host
      const tombstone = this.store.getTombstone(roomId);
      if (!tombstone || sender === null || tombstone.hostNode === sender || tombstone.hostNode === 'unknown') return null;
      return new StaleEpochRefused({ roomId, hostNode: tombstone.hostNode, hostEpoch: epoch + 1, promisedEpoch: epoch + 1 }, epoch);
    }
    if (epoch >= room.promisedEpoch) return null;
    return new StaleEpochRefused({ roomId, hostNode: room.hostNode, hostEpoch: room.hostEpoch, promisedEpoch: room.promisedEpoch }, epoch);
  }

  /** Throws PeerEventRefused (and logs it, once per burst) unless `sender` may change the room by `method` at `epoch`. */
  check(method: string, roomId: string, sender: string | null, epoch: number | null = null): void {
    const stale = this.staleEpoch(roomId, epoch);
    if (stale) {
      this.refusals.note(`Refused ${method} from ${sender ?? 'an unsigned caller'}: ${stale.faultString}`);
      throw stale;
    }
    const reason = this.refusal(roomId, sender);
    if (!reason) return;
    this.refusals.note(`Refused ${method} from ${sender ?? 'an unsigned caller'}: ${reason}`);
    throw new PeerEventRefused(reason);
  }

  /**
   * Checks a replication batch as a whole before any of it is applied (a refused batch has no
   * effect): an event from an epoch older than this node promised is stale (StaleEpochRefused);
   * rooms it introduces must name the sender as host; every other event must come from its
   * room's host; a room's host changes only to the sender, at a newer epoch (a failover), and its
   * creator never.
   */
  batchRefusal(sender: string, events: readonly ReplicationEvent[]): string | StaleEpochRefused | null {
    const introduced = new Map<string, string>();
    const hostOf = (roomId: string) => introduced.get(roomId) ?? this.knownHost(roomId);
    for (const event of events) {
      const roomId = roomOfEvent(event);
      if (roomId === undefined) continue; // an event kind from a newer node: skipped when applied
      const stale = this.staleEpoch(roomId, epochOfEvent(event), sender);
      if (stale) return stale;
      const host = hostOf(roomId);
      const room = this.store.getRoom(roomId);
      if (event.kind === 'room' && room && event.room.host_node === sender && epochOfEvent(event) > room.hostEpoch && !this.hostsHereAt(room, epochOfEvent(event))) {
        introduced.set(roomId, sender); // a new host announces itself (failover): it holds a majority's grant of that epoch
        continue;
      }
      const refused = this.eventRefusal(sender, event, roomId, host, introduced);
      if (refused) return refused;
    }
    return null;
  }

  /** This node hosts the room at `epoch` or later: nobody else can announce that epoch. */
  private hostsHereAt(room: { hostNode: string; hostEpoch: number }, epoch: number): boolean {
    return this.hostsHere(room) && room.hostEpoch >= epoch;
  }

  private eventRefusal(sender: string, event: ReplicationEvent, roomId: string, host: string | undefined, introduced: Map<string, string>): string | null {
    {
      if (event.kind === 'room') {
        if (host === undefined) {
          if (event.room.host_node !== sender) return `new room ${roomId} names ${event.room.host_node} as its host, but ${sender} sent it`;
          introduced.set(roomId, sender);
          return null;
        }
        const reason = this.refusal(roomId, sender, host);
        if (reason) return reason;
        if (event.room.host_node !== host) return `room ${roomId} is hosted by ${host}; its host cannot be changed to ${event.room.host_node}`;
        const creator = this.store.getRoom(roomId)?.creatorId;
        if (creator !== undefined && event.room.creator_id !== creator) return `room ${roomId} was created by ${creator}; its creator cannot be changed`;
        return null;
      }
      return this.refusal(roomId, sender, host);
    }
  }
}
