import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { BurstWarning } from '../../../common/logging/burst-warning';
import { RoomLogRepository } from '../../../common/store/room-log.repository';
import { RoomRepository } from '../../../common/store/room.repository';
import { TombstoneRepository } from '../../../common/store/tombstone.repository';
import { XmlRpcFault, XmlRpcFaultCode } from '../../../common/xmlrpc';

/** A peer event this node will not apply: answered to the caller as a -32403 fault. */
export class PeerEventRefused extends XmlRpcFault {
  constructor(reason: string) {
    super(XmlRpcFaultCode.PeerNotAuthorised, `peer event refused: ${reason}. Only a room's host may change it.`);
  }
}

/**
 * Who may change a room through the reference's methods (broadcasts, the two-phase deletion): only
 * the node this node knows as its host, and never a room hosted here. Rooms of our own nodes
 * change only through their logs (RoomLogs), whose epoch rules live in the consensus core.
 */
@Injectable()
export class RoomHostAuthority {
  private readonly logger = new Logger(RoomHostAuthority.name);
  private readonly refusals: BurstWarning;

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly rooms: RoomRepository,
    private readonly tombstones: TombstoneRepository,
    private readonly storedLogs: RoomLogRepository,
    clock: Clock,
  ) {
    this.refusals = new BurstWarning(this.logger, () => clock.monotonic());
  }

  /** The room's host as this node knows it (its replica, else its tombstone); undefined for a room never seen. */
  knownHost(roomId: string): string | undefined {
    const host = this.rooms.getRoom(roomId)?.hostNode ?? this.tombstones.getTombstone(roomId)?.hostNode;
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
    if (this.storedLogs.state(roomId)) return `room ${roomId} changes only through its replicated log`;
    if (host !== undefined && this.hostsHere({ hostNode: host })) return `room ${roomId} is hosted by this node (${host})`;
    if (host !== undefined && sender !== null && sender !== host) return `room ${roomId} is hosted by ${host}, not by ${sender}`;
    return null;
  }

  /** Throws PeerEventRefused (and logs it, once per burst) unless `sender` may change the room by `method`. */
  check(method: string, roomId: string, sender: string | null): void {
    const reason = this.refusal(roomId, sender);
    if (!reason) return;
    this.refusals.note(`Refused ${method} from ${sender ?? 'an unsigned caller'}: ${reason}`);
    throw new PeerEventRefused(reason);
  }
}
