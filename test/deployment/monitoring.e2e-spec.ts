import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itWithTool, requireTool } from '../support/system-tools';
import { loadConfig } from '../../src/common/config/load-config';
import { DiskSpace } from '../../src/common/disk/disk-space';
import { ChatMetrics } from '../../src/common/metrics/chat-metrics';
import type { RoomRepository } from '../../src/common/store/room.repository';
import type { ClientRegistry } from '../../src/modules/members/client-registry';
import { NodeGauges } from '../../src/modules/metrics/node-gauges';
import type { PeerDirectory } from '../../src/modules/peers/peer-directory';
import type { LogApplier } from '../../src/modules/rooms/replication/log-applier';
import type { RoomLogOutbox } from '../../src/modules/rooms/replication/room-log-outbox';

/** Offline checks of deployment/monitoring: the Grafana dashboard and the Prometheus config. */
const MONITORING = join(__dirname, '..', '..', 'deployment', 'monitoring');

interface Panel {
  title: string;
  type: string;
  targets?: { expr: string }[];
}
const dashboard = JSON.parse(readFileSync(join(MONITORING, 'grafana-dashboard.json'), 'utf8')) as { uid: string; panels: Panel[]; __inputs: { name: string }[] };
const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

/** The metric names one node really exposes: the registry with every gauge registered. */
async function exposedNames(): Promise<Set<string>> {
  const metrics = new ChatMetrics();
  const peers = { allHealth: () => [], observeCalls: () => undefined };
  const outbox = { backlog: () => [] };
  new NodeGauges(loadConfig({}), { listRooms: () => [] } as unknown as RoomRepository, { size: 0, deliveredMessages: 0 } as ClientRegistry, peers as unknown as PeerDirectory, { hostedMessages: 0, hostedChanges: new Map<string, number>() } as unknown as LogApplier, outbox as unknown as RoomLogOutbox, metrics, new DiskSpace(loadConfig({ DATA_DIR: '.' })));
  return new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
}

describe('deployment/monitoring: Grafana dashboard and Prometheus config', () => {
  it('the dashboard is importable (a datasource input, a uid) and every panel queries something', () => {
    expect(dashboard.uid).toBe('chat-system');
    expect(dashboard.__inputs.map((i) => i.name)).toEqual(['DS_PROMETHEUS']);
    for (const p of dashboard.panels.filter((x) => x.type !== 'row')) expect({ panel: p.title, targets: p.targets?.length ?? 0 }).toEqual({ panel: p.title, targets: expect.any(Number) });
    expect(exprs.length).toBeGreaterThanOrEqual(15);
  });

  it('every metric the dashboard queries is one a node exposes', async () => {
    const exposed = await exposedNames();
    const unknown: string[] = [];
    for (const { panel, expr } of exprs) {
      for (const [name] of expr.matchAll(/\b(?:chat|process|nodejs)_[a-z0-9_]+/g)) {
        const base = name.replace(/_(bucket|sum|count)$/, '');
        if (!exposed.has(name) && !exposed.has(base)) unknown.push(`${panel}: ${name}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  itWithTool('promtool')('every dashboard query is valid PromQL, and the scrape config is valid (promtool)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dash-'));
    try {
      // Grafana variables are not PromQL: substitute what Grafana would
      const rules = exprs.map(({ expr }, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(expr.replace(/\$\w+/g, '.*'))}`).join('\n');
      writeFileSync(join(dir, 'rules.yml'), `groups:\n  - name: dashboard\n    rules:\n${rules}\n`);
      const r = spawnSync(requireTool('promtool'), ['check', 'rules', join(dir, 'rules.yml')], { encoding: 'utf8' });
      expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({ status: 0, out: expect.stringContaining('SUCCESS') });
      const c = spawnSync(requireTool('promtool'), ['check', 'config', join(MONITORING, 'prometheus.yml')], { encoding: 'utf8' });
      expect({ status: c.status, out: c.stdout + c.stderr }).toEqual({ status: 0, out: expect.stringContaining('SUCCESS') });
      expect(readFileSync(join(MONITORING, 'prometheus.yml'), 'utf8').match(/targets: \['node[123]:8080'\]/g)).toHaveLength(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
