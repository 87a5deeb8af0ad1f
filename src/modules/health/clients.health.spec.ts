import { HealthIndicatorService } from '@nestjs/terminus';
import type { ClientRegistry } from '../members/client-registry';
import { ClientsHealthIndicator } from './clients.health';

describe(ClientsHealthIndicator.name, () => {
  it('is up with the open connections and this process\'s memory', () => {
    const sut = new ClientsHealthIndicator({ size: 4 } as ClientRegistry, new HealthIndicatorService());
    const { clients } = sut.check();
    expect(clients).toMatchObject({ status: 'up', connections: 4 });
    expect(clients.heap_used_bytes).toBeGreaterThan(0);
    expect(clients.rss_bytes).toBeGreaterThan(0);
  });
});
