import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { PeerDirectory } from '../peers/peer-directory';

/** Peer states as details only: a node stays healthy whatever its peers do. */
@Injectable()
export class PeersHealthIndicator {
  constructor(
    private readonly peers: PeerDirectory,
    private readonly health: HealthIndicatorService,
  ) {}

  check() {
    const peers = Object.fromEntries(this.peers.allHealth().map((h) => [h.nodeId, h.toJSON()]));
    return this.health.check('peers').up({ peers, pending_replication: this.peers.pendingReplication() });
  }
}
