import { PeerHealth } from './peer-health';

describe(PeerHealth.name, () => {
  const T0 = 1_000_000;

  /** A peer that has answered once (healthy, boot id b1). */
  const healthyPeer = (maxFailures = 3) => {
    const sut = new PeerHealth('node2', maxFailures);
    sut.success(T0, 'b1');
    return sut;
  };

  it('starts unknown and not failed', () => {
    const sut = new PeerHealth('node2', 2);
    expect(sut.status).toBe('unknown');
    expect(sut.isFailed).toBe(false);
    expect(sut.lastSeen).toBeNull();
  });

  it('unknown -> healthy on the first answer, reported as reachable', () => {
    const sut = new PeerHealth('node2', 2);

    expect(sut.success(T0, 'b1')).toEqual(['reachable']);
    expect(sut.status).toBe('healthy');
    expect(sut.lastSeen).toBe(T0);
    expect(sut.bootId).toBe('b1');
  });

  it('misses make it degraded, then failed exactly at maxFailures', () => {
    const sut = healthyPeer(3);

    expect(sut.failure()).toBeNull();
    expect(sut.status).toBe('degraded');
    expect(sut.failure()).toBeNull();
    expect(sut.status).toBe('degraded');
    expect(sut.isFailed).toBe(false);

    expect(sut.failure()).toBe('failed');
    expect(sut.status).toBe('failed');
    expect(sut.isFailed).toBe(true);
    expect(sut.consecutiveFailures).toBe(3);
  });

  it('with maxFailures 1 a single miss fails the peer', () => {
    const sut = healthyPeer(1);
    expect(sut.failure()).toBe('failed');
    expect(sut.isFailed).toBe(true);
  });

  it('reports failed only once however many misses follow', () => {
    const sut = healthyPeer(2);
    const transitions = [sut.failure(), sut.failure(), sut.failure(), sut.failure()];
    expect(transitions).toEqual([null, 'failed', null, null]);
    expect(sut.status).toBe('failed');
  });

  it('a peer that never answered fails at maxFailures too', () => {
    const sut = new PeerHealth('node2', 2);
    expect([sut.failure(), sut.failure()]).toEqual([null, 'failed']);
    expect(sut.isFailed).toBe(true);
  });

  it('any answer makes a degraded peer healthy again and resets the count (not reported as reachable: it never went away)', () => {
    const sut = healthyPeer(3);
    sut.failure();
    sut.failure();

    expect(sut.success(T0 + 5000, 'b1')).toEqual([]);
    expect(sut.status).toBe('healthy');
    expect(sut.consecutiveFailures).toBe(0);
    expect(sut.lastSeen).toBe(T0 + 5000);
  });

  it('a failed peer that answers is healthy and reachable again, and is not sticky: it needs maxFailures new misses to fail', () => {
    const sut = healthyPeer(2);
    sut.failure();
    sut.failure();

    expect(sut.success(T0 + 1, 'b1')).toEqual(['reachable']);
    expect(sut.status).toBe('healthy');
    expect(sut.isFailed).toBe(false);

    expect(sut.failure()).toBeNull();
    expect(sut.status).toBe('degraded');
    expect(sut.failure()).toBe('failed');
  });

  it('a new boot id in an answer means the peer restarted (noteBoot: probes and heartbeats both report it)', () => {
    const sut = healthyPeer();

    expect(sut.noteBoot('b1')).toBe(false);
    expect(sut.noteBoot('b2')).toBe(true);
    expect(sut.bootId).toBe('b2');
    expect(sut.noteBoot('b2')).toBe(false);
  });

  it('the first boot id heard is no restart', () => {
    const sut = new PeerHealth('node2', 2);
    expect(sut.noteBoot('b1')).toBe(false);
    expect(sut.bootId).toBe('b1');
  });

  it('a failed peer that answers again is reported reachable (its restart, if any, is noteBoot\'s)', () => {
    const sut = healthyPeer(1);
    sut.failure();

    expect(sut.success(T0 + 1, 'b2')).toEqual(['reachable']);
  });

  it('an answer without a boot id (a reference node) keeps the one it knows and is not a restart', () => {
    const sut = healthyPeer();

    expect(sut.success(T0 + 1)).toEqual([]);
    expect(sut.bootId).toBe('b1');
    expect(sut.success(T0 + 2, 'b1')).toEqual([]);
  });

  it('serialises for /health', () => {
    const sut = healthyPeer(2);
    sut.failure();
    expect(sut.toJSON()).toEqual({ node_id: 'node2', status: 'degraded', consecutive_failures: 1, last_seen: T0, client_url: null });
  });
});
