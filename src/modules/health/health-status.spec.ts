import type { HealthCheckResult } from '@nestjs/terminus';
import { withDegraded } from './health-status';

const result = (status: HealthCheckResult['status'], details: HealthCheckResult['details']): HealthCheckResult => ({ status, info: details, error: {}, details });

describe(withDegraded.name, () => {
  it('keeps "ok" while no indicator names a reason', () => {
    const r = result('ok', { store: { status: 'up' }, peers: { status: 'up', degraded: [] } });
    expect(withDegraded(r)).toBe(r);
  });

  it('turns "ok" into "degraded" with every indicator\'s reasons', () => {
    const r = result('ok', { peers: { status: 'up', degraded: ['replication to node2 is stuck'] }, store: { status: 'up', degraded: ['checkpoint failed'] } });
    expect(withDegraded(r)).toMatchObject({ status: 'degraded', reasons: ['replication to node2 is stuck', 'checkpoint failed'], details: r.details });
  });

  it('leaves an error an error', () => {
    const r = result('error', { store: { status: 'down' }, peers: { status: 'up', degraded: ['x'] } });
    expect(withDegraded(r).status).toBe('error');
  });
});
