import { loadConfig } from '../../common/config/load-config';
import { FakeClock } from '../../testing/fakes';
import type { PeerDirectory } from '../peers/peer-directory';
import type { RoomLogOutbox, ReplicationBacklog } from '../rooms/replication/room-log-outbox';
import { PeerHealth } from '../peers/peer-health';
import type { NodeGauges } from './node-gauges';
import type { PeerStatusFetcher } from './peer-status.fetcher';
import type { RateHistory } from './rate-history';
import { FailoverHistory } from '../rooms/failover/failover-history';
import { ChatMetrics } from '../../common/metrics/chat-metrics';
import { StatusController } from './status.controller';
import type { ClusterStatusView, NodeStatusView } from './status-view';

describe(StatusController.name, () => {
  const config = loadConfig({ NODE_ID: 'node1', WEBSOCKET_HOST: '127.0.0.1', WEBSOCKET_PORT: '8081', PEER_NODES: 'node2:h:1,node3:h:2,node4:h:3' });
  let health: PeerHealth[];
  let fetched: string[];
  let sut: StatusController;
  let clock: FakeClock;
  let failovers: FailoverHistory;

  beforeEach(() => {
    health = ['node2', 'node3', 'node4'].map((id) => new PeerHealth(id, 1));
    health[0].success(1000, 'b', 'ws://10.0.0.2:8080/');
    health[1].success(1000, 'b', 'ws://10.0.0.3:8080/');
    health[2].failure(); // never answered: failed, no address
    const backlog: ReplicationBacklog[] = [{ peer: 'node2', pending: 5, oldestPendingMs: 1500, failing: false, failures: 0, lastError: 'x' }];
    const peers = { allHealth: () => health };
    const outbox = { backlog: () => backlog };
    const gauges = { snapshot: () => ({ connections: 2, roomsHosted: 1, roomsReplica: 3, messagesTotal: 9, deliveriesTotal: 20 }) };
    const rates = { series: () => ({ interval_s: 2, messages_per_s: [1], deliveries_per_s: [2] }) };
    fetched = [];
    const fetcher = {
      fetch: async (url: string) => {
        fetched.push(url);
        if (url.includes('10.0.0.3')) throw new Error('HTTP 502 from http://10.0.0.3:8080');
        return { node_id: 'node2' } as NodeStatusView;
      },
    };
    clock = new FakeClock();
    failovers = new FailoverHistory(clock, new ChatMetrics());
    sut = new StatusController(config, peers as unknown as PeerDirectory, gauges as unknown as NodeGauges, rates as unknown as RateHistory, fetcher as PeerStatusFetcher, clock, failovers, outbox as unknown as RoomLogOutbox);
  });

  it('answers ?scope=node with this node only, without asking any peer', async () => {
    const own = (await sut.status('node')) as NodeStatusView;
    expect(own).toMatchObject({ node_id: 'node1', connections: 2, rooms_hosted: 1, rooms_replica: 3, messages_total: 9, deliveries_total: 20, failovers: [] });
    expect(own.replication).toEqual([{ peer: 'node2', pending: 5, oldest_pending_s: 1.5, failing: false }]); // no error texts
    expect(own.peers.map((p) => [p.node_id, p.status])).toEqual([['node2', 'healthy'], ['node3', 'healthy'], ['node4', 'failed']]);
    expect(fetched).toEqual([]);
  });

  it('lists the rooms this node took over, without their names or epochs', async () => {
    failovers.record({ room_id: 'r1', room_name: 'general', from_node: 'node2', to_node: 'node1', from_epoch: 1, to_epoch: 2, first_sequence: 8 });
    const own = (await sut.status('node')) as NodeStatusView;
    expect(own.failovers).toEqual([{ room_id: 'r1', at: '2026-01-01T00:00:00.000Z', from_node: 'node2', to_node: 'node1' }]);
  });

  it('lists every node: itself first, reachable peers with their own view, the others with the reason', async () => {
    const all = (await sut.status()) as ClusterStatusView;
    expect(all.nodes.map((n) => [n.node_id, n.status, n.view?.node_id ?? null, n.view_error])).toEqual([
      ['node1', 'self', 'node1', null],
      ['node2', 'healthy', 'node2', null],
      ['node3', 'healthy', null, 'HTTP 502 from http://10.0.0.3:8080'],
      ['node4', 'failed', null, 'it does not answer heartbeats'],
    ]);
    expect(all.nodes[0].client_url).toBe('ws://127.0.0.1:8081/');
    expect(fetched).toEqual(['ws://10.0.0.2:8080/', 'ws://10.0.0.3:8080/']); // a failed peer is not asked
  });

  it('reuses a cluster view for a second, however many pages ask', async () => {
    await sut.status();
    await sut.status();
    expect(fetched).toHaveLength(2);
    clock.advance(1000);
    await sut.status();
    expect(fetched).toHaveLength(4);
  });
});
