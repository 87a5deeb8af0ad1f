import type { HealthCheckResult } from '@nestjs/terminus';

/** /health's answer: Terminus' result, with "degraded" when a working indicator names reasons. */
export type NodeHealth = Omit<HealthCheckResult, 'status'> & { status: HealthCheckResult['status'] | 'degraded'; reasons?: string[] };

/**
 * Terminus knows up and down only. An indicator that is up but not well (replication stuck, a
 * peer down) lists why in its details' `degraded`; the node then answers 200 with status
 * "degraded" and the reasons, so probes keep passing while operators see the problem.
 */
export function withDegraded(result: HealthCheckResult): NodeHealth {
  const reasons = Object.values(result.details ?? {}).flatMap((d) => (Array.isArray(d.degraded) ? (d.degraded as string[]) : []));
  return result.status === 'ok' && reasons.length > 0 ? { ...result, status: 'degraded', reasons } : result;
}
