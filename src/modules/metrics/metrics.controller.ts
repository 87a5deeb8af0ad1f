import { Controller, Get, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { ChatMetrics } from '../../common/metrics/chat-metrics';

/** `GET /metrics` on the client port: the Prometheus text exposition. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: ChatMetrics) {}

  @Get()
  async scrape(@Res() res: ServerResponse): Promise<void> {
    const { contentType, body } = await this.metrics.exposition();
    res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
    res.end(body);
  }
}
