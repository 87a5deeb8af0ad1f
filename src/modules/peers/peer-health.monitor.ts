import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { PeerDirectory } from './peer-directory';

/** Heartbeats every peer every HEARTBEAT_INTERVAL, each call bounded by HEARTBEAT_TIMEOUT. */
@Injectable()
export class PeerHealthMonitor implements OnApplicationBootstrap, OnModuleDestroy {
  static readonly INTERVAL_NAME = 'peer-heartbeat';
  private readonly logger = new Logger(PeerHealthMonitor.name);
  private running = false;

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly peers: PeerDirectory,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    if (this.peers.nodeIds.length === 0) return;
    const timer = setInterval(() => void this.checkPeers(), this.config.heartbeatIntervalMs);
    this.scheduler.addInterval(PeerHealthMonitor.INTERVAL_NAME, timer);
    void this.checkPeers(); // learn who is up right away instead of one interval later
  }

  onModuleDestroy(): void {
    if (this.scheduler.doesExist('interval', PeerHealthMonitor.INTERVAL_NAME)) {
      this.scheduler.deleteInterval(PeerHealthMonitor.INTERVAL_NAME);
    }
  }

  /** One round: all peers in parallel; a round still running is not overlapped. */
  async checkPeers(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await Promise.all(this.peers.nodeIds.map((id) => this.checkPeer(id)));
    } finally {
      this.running = false;
    }
  }

  private async checkPeer(nodeId: string): Promise<void> {
    try {
      const beat = await this.peers.heartbeat(nodeId, this.config.heartbeatTimeoutMs);
      const ok = beat?.status === 'ok';
      if (!ok) this.logger.debug(`Heartbeat to ${nodeId} returned ${JSON.stringify(beat)}`);
      this.peers.recordHeartbeat(nodeId, ok, typeof beat?.boot_id === 'string' ? beat.boot_id : undefined);
    } catch (e) {
      this.logger.debug(`Heartbeat to ${nodeId} failed: ${(e as Error).message}`);
      this.peers.recordHeartbeat(nodeId, false);
    }
  }
}
