import { Controller, Get, Head, Inject, Req, ServiceUnavailableException } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { ClientsHealthIndicator } from './clients.health';
import { DiskHealthIndicator } from './disk.health';
import { HealthAccess } from './health-access';
import { withDegraded, type NodeHealth } from './health-status';
import { PeersHealthIndicator } from './peers.health';
import { FailoverHealthIndicator } from './failover.health';
import { StoreHealthIndicator } from './store.health';
import { XmlRpcHealthIndicator } from './xmlrpc.health';

@Controller()
export class HealthController {
  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly health: HealthCheckService,
    private readonly store: StoreHealthIndicator,
    private readonly xmlrpc: XmlRpcHealthIndicator,
    private readonly peers: PeersHealthIndicator,
    private readonly clients: ClientsHealthIndicator,
    private readonly failover: FailoverHealthIndicator,
    private readonly access: HealthAccess,
    private readonly disk: DiskHealthIndicator,
  ) {}

  /**
   * 200 while this node's own parts work ("ok", or "degraded" with reasons); 503 when one does not.
   * Details and reasons only for loopback callers or the operators' HEALTH_TOKEN (HealthAccess); others get the status.
   */
  @Get('health')
  @HealthCheck()
  async check(@Req() req: IncomingMessage): Promise<NodeHealth | { status: NodeHealth['status'] }> {
    const detailed = this.access.mayReadDetails(req);
    try {
      const result = withDegraded(await this.health.check([() => this.store.check(), () => this.xmlrpc.check(), () => this.clients.check(), () => this.peers.check(), () => this.failover.check(), () => this.disk.check()]));
      return detailed ? result : { status: result.status };
    } catch (e) {
      if (!detailed && e instanceof ServiceUnavailableException) throw new ServiceUnavailableException({ status: 'error' });
      throw e;
    }
  }

  /** Answers probes (`curl -I`) when no web client has been built into dist/public. */
  @Get()
  @Head()
  root() {
    return `chat node ${this.config.nodeId}: connect a WebSocket client to this address\n`;
  }
}
