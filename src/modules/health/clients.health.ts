import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { ClientRegistry } from '../members/client-registry';

/** The client side of this process: open connections and memory, for operators and benchmarks. */
@Injectable()
export class ClientsHealthIndicator {
  constructor(
    private readonly clients: ClientRegistry,
    private readonly health: HealthIndicatorService,
  ) {}

  check() {
    const mem = process.memoryUsage();
    return this.health.check('clients').up({
      connections: this.clients.size,
      heap_used_bytes: mem.heapUsed,
      rss_bytes: mem.rss,
      uptime_s: Math.round(process.uptime()),
    });
  }
}
