import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import * as http from 'node:http';
import { ConfigError } from '../../common/config/config-error';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { ChatMetrics } from '../../common/metrics/chat-metrics';

/** METRICS_PORT: GET /metrics alone on its own port, for operators who keep scrapes internal. */
@Injectable()
export class MetricsPortServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsPortServer.name);
  private server: http.Server | null = null;

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly metrics: ChatMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const port = this.config.metricsPort;
    if (port === null) return;
    const server = http.createServer((req, res) => void this.answer(req, res));
    server.requestTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new ConfigError('METRICS_PORT', `cannot listen on ${this.config.websocketHost}:${port}: ${e.message}`)));
      server.listen(port, this.config.websocketHost, resolve);
    });
    server.on('error', (e) => this.logger.error(`Metrics server error: ${e.message}`));
    this.server = server;
    this.logger.log(`Metrics server listening on http://${this.config.websocketHost}:${port}/metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Only GET /metrics is served on this port\n');
      return;
    }
    try {
      const { contentType, body } = await this.metrics.exposition();
      res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' }).end(req.method === 'HEAD' ? undefined : body);
    } catch (e) {
      this.logger.error(`Metrics exposition failed: ${(e as Error).message}`);
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Metrics are unavailable\n');
    }
  }
}
