import { Controller, Get, Head, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { ClientsHealthIndicator } from './clients.health';
import { withDegraded, type NodeHealth } from './health-status';
import { PeersHealthIndicator } from './peers.health';
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
  ) {}

  /** 200 while this node's own parts work ("ok", or "degraded" with reasons); 503 when one does not. */
  @Get('health')
  @HealthCheck()
  async check(): Promise<NodeHealth> {
    return withDegraded(await this.health.check([() => this.store.check(), () => this.xmlrpc.check(), () => this.clients.check(), () => this.peers.check()]));
  }

  /** Answers probes (`curl -I`) when no web client has been built into dist/public. */
  @Get()
  @Head()
  root() {
    return `chat node ${this.config.nodeId}: connect a WebSocket client to this address\n`;
  }
}
