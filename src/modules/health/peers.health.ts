import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { PeerDirectory } from '../peers/peer-directory';
import { RoomLogOutbox, type ReplicationBacklog } from '../rooms/replication/room-log-outbox';

/** Replication that has waited this long counts as stuck even while calls still succeed. */
const STUCK_AFTER_MS = 30_000;

const isStuck = (b: ReplicationBacklog) => b.failing || (b.oldestPendingMs ?? 0) > STUCK_AFTER_MS;

/**
 * Peer states and replication backlogs. A peer's fault never makes this node unhealthy (it can
 * still serve), but a peer that is down or replication that is stuck makes it degraded, with the reason.
 */
@Injectable()
export class PeersHealthIndicator {
  constructor(
    private readonly peers: PeerDirectory,
    private readonly outbox: RoomLogOutbox,
    private readonly health: HealthIndicatorService,
  ) {}

  check() {
    const peers = Object.fromEntries(this.peers.allHealth().map((h) => [h.nodeId, h.toJSON()]));
    const backlog = this.outbox.backlog();
    const replication = Object.fromEntries(
      backlog.map((b) => [b.peer, { pending: b.pending, oldest_pending_s: b.oldestPendingMs === null ? null : Math.round(b.oldestPendingMs / 100) / 10, failing: b.failing, last_error: b.lastError }]),
    );
    const down = this.peers
      .allHealth()
      .filter((h) => h.isFailed)
      .map((h) => `peer ${h.nodeId} is down: ${h.consecutiveFailures} heartbeat(s) missed${h.lastSeen === null ? ', never answered' : ''}`);
    const stuck = backlog
      .filter(isStuck)
      .map((b) => `replication to ${b.peer} is stuck: ${b.pending} message(s) pending, oldest ${Math.round((b.oldestPendingMs ?? 0) / 1000)} s${b.lastError ? ` (${b.lastError})` : ''}`);
    const views = this.peers.otherViews().map((v) => `peer ${v.peer} is configured with another list of nodes (view ${v.view}): it is not counted`);
    const degraded = [...down, ...stuck, ...views];
    return this.health.check('peers').up({ peers, pending_replication: this.outbox.pending(), replication, degraded });
  }
}
