import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { RoomRepository } from '../../common/store/room.repository';
import { PeerDirectory } from '../peers/peer-directory';
import { FailoverHistory } from '../rooms/failover/failover-history';

/**
 * Host failover as an operator sees it: the failovers this node performed, the peers it suspects,
 * and whether a majority answers. Degraded (never down: this node still serves) while rooms wait
 * for a new host or no majority answers, with the reason.
 */
@Injectable()
export class FailoverHealthIndicator {
  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly rooms: RoomRepository,
    private readonly peers: PeerDirectory,
    private readonly history: FailoverHistory,
    private readonly health: HealthIndicatorService,
  ) {}

  check() {
    const suspected = this.peers.nodeIds.filter((p) => this.peers.isSuspected(p));
    const live = 1 + this.peers.livePeers().length;
    const degraded: string[] = [];
    // acknowledgements need a majority with failover off too
    if (live < this.peers.majority) {
      degraded.push(`no majority: ${live} of ${this.peers.nodeIds.length + 1} nodes answer (${this.peers.majority} needed); no change can be acknowledged`);
    }
    for (const s of suspected) {
      const waiting = this.rooms.countRoomsHostedBy(s);
      if (waiting > 0) degraded.push(`${waiting} room(s) of ${s} wait for a new host`);
    }
    return this.health.check('failover').up({
      failover_timeout_s: this.config.failoverTimeoutMs / 1000,
      majority: this.peers.majority,
      live_nodes: live,
      suspected,
      failovers: this.history.count,
      recent: this.history.list(),
      degraded,
    });
  }
}
