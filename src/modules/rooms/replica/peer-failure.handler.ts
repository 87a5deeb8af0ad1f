import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ClientRegistry } from '../../members/client-registry';
import { PeerDirectory, type PeerStatusListener } from '../../peers/peer-directory';
import { RoomHostService } from '../host/room-host.service';
import { RoomLogs, type LeadershipListener } from '../replication/room-logs.service';
import { PeerCatchUp } from './peer-catch-up.service';
import { ReplicaService } from './replica.service';

/**
 * What rooms do when a peer's health changes: a failed member node's users leave the rooms hosted
 * here; clients in rooms hosted by a failed node are told the room is unavailable, and told again
 * (after catching up) when it answers, or when another node takes the room over.
 */
@Injectable()
export class PeerFailureHandler implements PeerStatusListener, LeadershipListener, OnModuleInit {
  private readonly logger = new Logger(PeerFailureHandler.name);
  private readonly unavailable = new Set<string>();

  constructor(
    private readonly peers: PeerDirectory,
    private readonly host: RoomHostService,
    private readonly replica: ReplicaService,
    private readonly clients: ClientRegistry,
    private readonly catchUp: PeerCatchUp,
    private readonly logs: RoomLogs,
  ) {}

  onModuleInit(): void {
    this.peers.subscribe(this);
    this.logs.subscribe(this);
  }

  /** A room announced unavailable has a host again (the failed one or another): its members can send again. */
  onLeadership(roomId: string, now: { leader: string | null }): void {
    if (!now.leader || !this.unavailable.delete(roomId)) return;
    this.clients.broadcast(roomId, 'room_available', { room_id: roomId, admin_node: now.leader });
  }

  onPeerFailed(nodeId: string): void {
    this.host.removeMembersOf(nodeId, 'Node unreachable');
    for (const room of this.replica.roomsWithLocalMembers(nodeId)) {
      this.unavailable.add(room.roomId);
      this.clients.broadcast(room.roomId, 'room_unavailable', {
        room_id: room.roomId,
        admin_node: nodeId,
        reason: `Host node ${nodeId} is unreachable; messages cannot be sent until it returns`,
      });
    }
  }

  /** A peer suspected (or unheard) answers again, or answers a heartbeat: a catch-up with it that failed meanwhile runs again. */
  onPeerAnswering(nodeId: string): void {
    this.catchUp.retryIfFailed(nodeId);
  }

  onPeerIdentified(nodeId: string): void {
    this.catchUp.retryIfFailed(nodeId);
  }

  /** Its connections were lost in the restart, so the users it had before are no longer in our rooms. */
  onPeerRestarted(nodeId: string): void {
    this.host.removeMembersOf(nodeId, 'User disconnected', this.peers.health(nodeId)?.bootId ?? undefined);
    void this.catchUp.syncFrom(nodeId);
  }

  /**
   * Resolves (never rejects) once the catch-up is over and the rooms are announced. Nobody awaits
   * it, so a failure here must not become an unhandled rejection, which ends the process: e.g. a
   * SIGTERM during the catch-up closes the store before the announcement reads it.
   */
  onPeerReachable(nodeId: string): Promise<void> {
    return this.catchUp
      .syncFrom(nodeId)
      .then(() => {
        for (const room of this.replica.roomsWithLocalMembers(nodeId)) {
          if (!this.unavailable.delete(room.roomId)) continue;
          this.clients.broadcast(room.roomId, 'room_available', { room_id: room.roomId, admin_node: nodeId });
        }
      })
      .catch((e: unknown) => this.logger.warn(`Announcing the rooms of ${nodeId} as available failed: ${(e as Error)?.message ?? e}`));
  }
}
