import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Clock } from '../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { PeerDirectory } from './peer-directory';

/** Probes per FAILOVER_TIMEOUT: a single lost probe never makes a peer suspected. */
const PROBES_PER_TIMEOUT = 5;

/**
 * Failure detection for failover, beside the heartbeats: every peer is probed several times per
 * FAILOVER_TIMEOUT on its own connection, and one that has not answered for FAILOVER_TIMEOUT is
 * suspected (PeerStatusListener.onPeerSuspected). The heartbeats keep their reference meaning
 * (HEARTBEAT_INTERVAL x MAX_HEARTBEAT_FAILURES before FAILED), which is 60 s by default: far too
 * long for a room to stay unwritable.
 *
 * Silence is counted in time this node ran: a round that comes much later than due means this
 * node stood still (a GC pause, a stalled VM, a long synchronous write), and the peers' answers
 * may sit unread in its sockets; the stall is not held against them. Without this, a node that
 * learned 5000 rooms at once suspected every peer as soon as it looked up, and aborted its calls.
 */
@Injectable()
export class FailoverProbe implements OnApplicationBootstrap, OnModuleDestroy {
  static readonly INTERVAL_NAME = 'failover-probe';
  private readonly inFlight = new Set<string>();
  private readonly every: number;
  private lastRound: number | null = null;

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly peers: PeerDirectory,
    private readonly scheduler: SchedulerRegistry,
    private readonly clock: Clock,
  ) {
    this.every = Math.max(50, Math.round(config.failoverTimeoutMs / PROBES_PER_TIMEOUT));
  }

  onApplicationBootstrap(): void {
    if (this.config.failoverTimeoutMs === 0 || this.peers.nodeIds.length === 0) return;
    this.scheduler.addInterval(FailoverProbe.INTERVAL_NAME, setInterval(() => this.round(), this.every));
  }

  onModuleDestroy(): void {
    if (this.scheduler.doesExist('interval', FailoverProbe.INTERVAL_NAME)) this.scheduler.deleteInterval(FailoverProbe.INTERVAL_NAME);
  }

  round(): void {
    const now = this.clock.monotonic();
    const late = this.lastRound === null ? 0 : now - this.lastRound - this.every;
    this.lastRound = now;
    if (late > this.every) this.peers.forgiveStall(late);
    const timeoutMs = Math.min(this.config.heartbeatTimeoutMs, this.config.failoverTimeoutMs);
    for (const nodeId of this.peers.nodeIds) {
      if (this.inFlight.has(nodeId)) continue;
      this.inFlight.add(nodeId);
      this.peers
        .probe(nodeId, timeoutMs)
        .catch(() => undefined) // a miss is judged by the silence, not by one call
        .finally(() => this.inFlight.delete(nodeId));
    }
    this.peers.checkSilence(this.config.failoverTimeoutMs);
  }
}
