import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Clock } from '../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { PeerDirectory } from './peer-directory';

/** First re-probe of a peer that is not up; the delay doubles up to HEARTBEAT_INTERVAL. */
const FIRST_REPROBE_MS = 1000;

/**
 * Heartbeats every peer every HEARTBEAT_INTERVAL, each call bounded by HEARTBEAT_TIMEOUT.
 *
 * Peers that are not up (never answered yet, or failed) are also re-probed sooner, backing off from
 * one second to the interval: with the reference's 30 s interval, a node that started before its
 * peers would otherwise not know them for half a minute, and a recovered peer would wait as long
 * for its rooms to come back. Only the regular round counts misses, so the re-probes never make a
 * peer fail sooner than the configured HEARTBEAT_INTERVAL x MAX_HEARTBEAT_FAILURES.
 */
@Injectable()
export class PeerHealthMonitor implements OnApplicationBootstrap, OnModuleDestroy {
  static readonly INTERVAL_NAME = 'peer-heartbeat';
  static readonly REPROBE_NAME = 'peer-reprobe';
  private readonly logger = new Logger(PeerHealthMonitor.name);
  private running = false;
  private readonly inFlight = new Set<string>();
  private readonly reprobes = new Map<string, { dueAt: number; delayMs: number }>();

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly peers: PeerDirectory,
    private readonly scheduler: SchedulerRegistry,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    if (this.peers.nodeIds.length === 0) return;
    const timer = setInterval(() => void this.checkPeers(), this.config.heartbeatIntervalMs);
    this.scheduler.addInterval(PeerHealthMonitor.INTERVAL_NAME, timer);
    if (this.config.heartbeatIntervalMs > FIRST_REPROBE_MS) {
      const reprobe = setInterval(() => this.reprobeDownPeers(), Math.min(FIRST_REPROBE_MS, this.config.heartbeatIntervalMs) / 2);
      this.scheduler.addInterval(PeerHealthMonitor.REPROBE_NAME, reprobe);
    }
    void this.checkPeers(); // learn who is up right away instead of one interval later
  }

  onModuleDestroy(): void {
    for (const name of [PeerHealthMonitor.INTERVAL_NAME, PeerHealthMonitor.REPROBE_NAME]) {
      if (this.scheduler.doesExist('interval', name)) this.scheduler.deleteInterval(name);
    }
  }

  /** One round: all peers in parallel; a round still running is not overlapped. */
  async checkPeers(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await Promise.all(this.peers.nodeIds.map((id) => this.checkPeer(id, true)));
    } finally {
      this.running = false;
    }
  }

  /** Probes each peer that is not up and whose backoff has run out; answers count, misses do not. */
  reprobeDownPeers(): void {
    const now = this.clock.monotonic();
    for (const nodeId of this.peers.nodeIds) {
      const status = this.peers.health(nodeId)?.status;
      if (status === 'healthy' || status === 'degraded') {
        this.reprobes.delete(nodeId);
        continue;
      }
      const plan = this.reprobes.get(nodeId) ?? { dueAt: now + FIRST_REPROBE_MS, delayMs: FIRST_REPROBE_MS };
      this.reprobes.set(nodeId, plan);
      if (now < plan.dueAt || this.inFlight.has(nodeId)) continue;
      plan.delayMs = Math.min(plan.delayMs * 2, this.config.heartbeatIntervalMs);
      plan.dueAt = now + plan.delayMs;
      void this.checkPeer(nodeId, false);
    }
  }

  private async checkPeer(nodeId: string, countMiss: boolean): Promise<void> {
    this.inFlight.add(nodeId);
    try {
      const beat = await this.peers.heartbeat(nodeId, this.config.heartbeatTimeoutMs);
      const ok = beat?.status === 'ok';
      if (!ok) this.logger.debug(`Heartbeat to ${nodeId} returned ${JSON.stringify(beat)}`);
      if (ok || countMiss) this.peers.recordHeartbeat(nodeId, ok, beat);
    } catch (e) {
      this.logger.debug(`Heartbeat to ${nodeId} failed: ${(e as Error).message}`);
      if (countMiss) this.peers.recordHeartbeat(nodeId, false);
    } finally {
      this.inFlight.delete(nodeId);
    }
  }
}
