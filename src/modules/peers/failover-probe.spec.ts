import { SchedulerRegistry } from '@nestjs/schedule';
import { loadConfig } from '../../common/config/load-config';
import { deferred, flushPromises, type Deferred } from '../../testing/deferred';
import { FakeClock } from '../../testing/fakes';
import { FailoverProbe } from './failover-probe';
import type { PeerDirectory } from './peer-directory';

/** The directory as the probe uses it: each probe stays open until the test answers it. */
class ProbedPeers {
  nodeIds = ['node2', 'node3'];
  readonly probes: { nodeId: string; timeoutMs: number; answer: Deferred }[] = [];
  readonly silenceChecks: number[] = [];
  readonly forgiven: number[] = [];
  probe(nodeId: string, timeoutMs: number): Promise<void> {
    const answer = deferred();
    this.probes.push({ nodeId, timeoutMs, answer });
    return answer.promise;
  }
  checkSilence(timeoutMs: number): void {
    this.silenceChecks.push(timeoutMs);
  }
  forgiveStall(ms: number): void {
    this.forgiven.push(ms);
  }
}

describe(FailoverProbe.name, () => {
  let peers: ProbedPeers;
  let scheduler: SchedulerRegistry;
  let clock: FakeClock;
  const probe = (env: Record<string, string> = {}) =>
    new FailoverProbe(loadConfig({ NODE_ID: 'node1', FAILOVER_TIMEOUT: '1', HEARTBEAT_TIMEOUT: '5', ...env }), peers as unknown as PeerDirectory, scheduler, clock);

  beforeEach(() => {
    peers = new ProbedPeers();
    scheduler = new SchedulerRegistry();
    clock = new FakeClock();
  });

  afterEach(() => {
    for (const name of scheduler.getIntervals()) scheduler.deleteInterval(name);
  });

  it('probes every peer each round, bounded by FAILOVER_TIMEOUT, then judges the silence by FAILOVER_TIMEOUT', () => {
    probe().round();
    expect(peers.probes.map((p) => [p.nodeId, p.timeoutMs])).toEqual([
      ['node2', 1000],
      ['node3', 1000],
    ]);
    expect(peers.silenceChecks).toEqual([1000]);
  });

  it('does not pile up probes on a peer that has not answered the last one (a miss counts as silence, not as a failure)', async () => {
    const sut = probe();
    sut.round();
    peers.probes[0].answer.resolve(); // node2 answered; node3's probe is still open
    await flushPromises();
    sut.round();
    expect(peers.probes.map((p) => p.nodeId)).toEqual(['node2', 'node3', 'node2']);

    peers.probes[1].answer.reject(new Error('timeout'));
    await flushPromises();
    sut.round();
    expect(peers.probes.map((p) => p.nodeId)).toEqual(['node2', 'node3', 'node2', 'node3']);
  });

  it('does not hold this node\'s own stall against its peers: a round late by more than an interval forgives them that time first', () => {
    const sut = probe(); // 1 s timeout: a round every 200 ms
    sut.round();
    clock.advance(250);
    sut.round(); // a little late: nothing forgiven
    clock.advance(3000); // the event loop stood still for ~3 s
    sut.round();
    expect(peers.forgiven).toEqual([2800]);
    expect(peers.silenceChecks).toHaveLength(3);
  });

  it('runs several rounds per FAILOVER_TIMEOUT, and none with failover off or without peers', () => {
    probe().onApplicationBootstrap();
    expect(scheduler.getIntervals()).toEqual([FailoverProbe.INTERVAL_NAME]);
    probe().onModuleDestroy();
    expect(scheduler.getIntervals()).toEqual([]);

    probe({ FAILOVER_TIMEOUT: '0' }).onApplicationBootstrap();
    peers.nodeIds = [];
    probe().onApplicationBootstrap();
    expect(scheduler.getIntervals()).toEqual([]);
  });
});
