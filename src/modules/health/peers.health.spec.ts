import { HealthIndicatorService } from '@nestjs/terminus';
import type { PeerDirectory } from '../peers/peer-directory';
import type { RoomLogOutbox, ReplicationBacklog } from '../rooms/replication/room-log-outbox';
import { PeerHealth } from '../peers/peer-health';
import { PeersHealthIndicator } from './peers.health';

describe(PeersHealthIndicator.name, () => {
  let health: PeerHealth[];
  let backlog: ReplicationBacklog[];
  let otherViews: { peer: string; view: string }[];
  let sut: PeersHealthIndicator;
  const idle = (peer: string): ReplicationBacklog => ({ peer, pending: 0, oldestPendingMs: null, failing: false, failures: 0, lastError: null });

  beforeEach(() => {
    health = [new PeerHealth('node2', 2), new PeerHealth('node3', 2)];
    for (const h of health) h.success(1000);
    backlog = [idle('node2'), idle('node3')];
    otherViews = [];
    const peers = { allHealth: () => health, otherViews: () => otherViews };
    const outbox = { backlog: () => backlog, pending: () => backlog.reduce((n, b) => n + b.pending, 0) };
    sut = new PeersHealthIndicator(peers as unknown as PeerDirectory, outbox as unknown as RoomLogOutbox, new HealthIndicatorService());
  });

  it('is up with no reasons while every peer answers and replication flows', () => {
    const { peers } = sut.check();
    expect(peers.status).toBe('up');
    expect(peers.degraded).toEqual([]);
    expect(peers.peers).toMatchObject({ node2: { status: 'healthy' }, node3: { status: 'healthy' } });
  });

  it('names a peer that is down, and stays up itself (the node can still serve)', () => {
    health[1].failure();
    expect(sut.check().peers.degraded).toEqual([]); // one miss is "degraded" at the peer, not down
    health[1].failure();
    const { peers } = sut.check();
    expect(peers.status).toBe('up');
    expect(peers.degraded).toEqual(['peer node3 is down: 2 heartbeat(s) missed']);
  });

  it('says when a down peer never answered at all', () => {
    const fresh = new PeerHealth('node4', 1);
    fresh.failure();
    health.push(fresh);
    expect(sut.check().peers.degraded).toEqual(['peer node4 is down: 1 heartbeat(s) missed, never answered']);
  });

  it('names stuck replication: a peer refusing its calls, or room log messages waiting over 30 s', () => {
    backlog[0] = { ...idle('node2'), pending: 40, oldestPendingMs: 2000, failing: true, failures: 5, lastError: 'fault -32602' };
    backlog[1] = { ...idle('node3'), pending: 3, oldestPendingMs: 31_000 };
    const { peers } = sut.check();
    expect(peers.degraded).toEqual([
      'replication to node2 is stuck: 40 message(s) pending, oldest 2 s (fault -32602)',
      'replication to node3 is stuck: 3 message(s) pending, oldest 31 s',
    ]);
    expect(peers.replication).toMatchObject({ node2: { pending: 40, failing: true, last_error: 'fault -32602' }, node3: { oldest_pending_s: 31 } });
    expect(peers.pending_replication).toBe(43);
  });

  it('names a peer configured with another list of nodes (it is not counted towards any majority)', () => {
    otherViews = [{ peer: 'node3', view: '0123456789abcdef' }];
    const { peers } = sut.check();
    expect(peers.status).toBe('up');
    expect(peers.degraded).toEqual(['peer node3 is configured with another list of nodes (view 0123456789abcdef): it is not counted']);
  });
});
