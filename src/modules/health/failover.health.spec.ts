import { HealthIndicatorService } from '@nestjs/terminus';
import { loadConfig } from '../../common/config/load-config';
import { ChatMetrics } from '../../common/metrics/chat-metrics';
import { ChatStore } from '../../common/store/chat-store';
import { FakeClock } from '../../testing/fakes';
import { roomRecord } from '../../testing/records';
import type { PeerDirectory } from '../peers/peer-directory';
import { FailoverHistory } from '../rooms/failover/failover-history';
import { FailoverHealthIndicator } from './failover.health';

describe(FailoverHealthIndicator.name, () => {
  let store: ChatStore;
  let suspected: Set<string>;
  let history: FailoverHistory;
  const peers = {
    nodeIds: ['node2', 'node3'],
    majority: 2,
    isSuspected: (id: string) => suspected.has(id),
    livePeers: () => peers.nodeIds.filter((p) => !suspected.has(p)),
  };
  const indicator = (env: Record<string, string> = {}) =>
    new FailoverHealthIndicator(loadConfig({ NODE_ID: 'node1', FAILOVER_TIMEOUT: '1', ...env }), store.rooms, peers as unknown as PeerDirectory, history, new HealthIndicatorService());

  beforeEach(() => {
    store = ChatStore.inMemory();
    store.rooms.insertRoom(roomRecord({ roomId: 'a', roomName: 'a', hostNode: 'node3' }));
    store.rooms.insertRoom(roomRecord({ roomId: 'b', roomName: 'b', hostNode: 'node3' }));
    suspected = new Set();
    history = new FailoverHistory(new FakeClock(), new ChatMetrics());
  });

  afterEach(() => store.close());

  it('is up with no reasons while every node answers, and says how failover is set up', () => {
    const { failover } = indicator().check();
    expect(failover).toMatchObject({ status: 'up', failover_timeout_s: 1, majority: 2, live_nodes: 3, suspected: [], failovers: 0, recent: [], degraded: [] });
  });

  it("names the rooms that wait for a new host while their host is suspected", () => {
    suspected.add('node3');
    const { failover } = indicator().check();
    expect(failover).toMatchObject({ status: 'up', live_nodes: 2, suspected: ['node3'] });
    expect(failover.degraded).toEqual(['2 room(s) of node3 wait for a new host']);
  });

  it('says when no majority answers: nothing can be acknowledged then', () => {
    suspected.add('node2');
    suspected.add('node3');
    expect(indicator().check().failover.degraded).toEqual([
      'no majority: 1 of 3 nodes answer (2 needed); no change can be acknowledged',
      '2 room(s) of node3 wait for a new host',
    ]);
  });

  it('lists the failovers this node performed', () => {
    history.record({ room_id: 'a', room_name: 'a', from_node: 'node3', to_node: 'node1', from_epoch: 1, to_epoch: 2, first_sequence: 4 });
    const { failover } = indicator().check();
    expect(failover.failovers).toBe(1);
    expect(failover.recent).toEqual([expect.objectContaining({ room_id: 'a', from_node: 'node3', to_node: 'node1', to_epoch: 2, first_sequence: 4 })]);
  });
});
