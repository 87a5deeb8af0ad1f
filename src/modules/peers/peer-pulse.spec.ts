import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Clock } from '../../common/clock/clock';
import { loadConfig } from '../../common/config/load-config';
import { NODE_CONFIG } from '../../common/config/node-config';
import { FakeClock } from '../../testing/fakes';
import { heartbeatAnswer, peerDirectoryDeps } from '../../testing/peers';
import { bootIdProvider } from './boot-id';
import { PeerAuthenticator } from './peer-authenticator';
import { PeerDirectory } from './peer-directory';
import { PeerPulse } from './peer-pulse';

// Nothing listens on port 1: the directory's real heartbeat() is replaced by the test's peers.
const PEERS = 'node2:http://127.0.0.1:1,node3:http://127.0.0.1:1';
const settle = () => new Promise((r) => setImmediate(r));

describe(PeerPulse.name, () => {
  let moduleRef: TestingModule;
  let clock: FakeClock;
  let peers: PeerDirectory;
  let sut: PeerPulse;
  let authenticator: PeerAuthenticator;
  /** Which peers answer; every heartbeat() call made, with the time it was made. */
  let up: Record<string, boolean>;
  let calls: { nodeId: string; at: number }[];
  let open: number;
  let mostOpen: number;

  beforeAll(() => Logger.overrideLogger(false));

  async function start(env: Record<string, string> = {}): Promise<void> {
    const config = loadConfig({ NODE_ID: 'node1', PEER_NODES: PEERS, HEARTBEAT_INTERVAL: '30', MAX_HEARTBEAT_FAILURES: '2', FAILOVER_TIMEOUT: '0', ...env });
    moduleRef = await Test.createTestingModule({
      providers: [PeerDirectory, ...peerDirectoryDeps(), PeerPulse, PeerAuthenticator, bootIdProvider, { provide: NODE_CONFIG, useValue: config }, { provide: Clock, useValue: clock }],
    }).compile();
    peers = moduleRef.get(PeerDirectory);
    sut = moduleRef.get(PeerPulse);
    authenticator = moduleRef.get(PeerAuthenticator);
    jest.spyOn(peers, 'heartbeat').mockImplementation(async (nodeId) => {
      calls.push({ nodeId, at: clock.monotonic() });
      open++;
      mostOpen = Math.max(mostOpen, open);
      await settle();
      open--;
      if (!up[nodeId]) throw new Error('connect ECONNREFUSED');
      return heartbeatAnswer(`boot-${nodeId}`, { node_id: nodeId, client_url: `ws://${nodeId}:8080/` });
    });
    sut.onApplicationBootstrap();
    await settle();
  }

  /** Moves the clock and the timers together, in small steps, letting the calls settle at each. */
  async function runFor(ms: number, step = 50): Promise<void> {
    for (let t = 0; t < ms; t += step) {
      clock.advance(step);
      jest.advanceTimersByTime(step);
      await settle();
    }
  }

  const callsTo = (nodeId: string, since = 0) => calls.filter((c) => c.nodeId === nodeId && c.at >= since).length;

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    clock = new FakeClock();
    up = { node2: false, node3: false };
    calls = [];
    open = 0;
    mostOpen = 0;
  });

  afterEach(async () => {
    await moduleRef?.close();
    jest.useRealTimers();
  });

  it('calls every peer at start, then sleeps on one timer (no intervals)', async () => {
    up = { node2: true, node3: true };
    await start({ FAILOVER_TIMEOUT: '2' });
    expect(calls.map((c) => c.nodeId)).toEqual(['node2', 'node3']);
    expect(peers.health('node2')?.status).toBe('healthy');
    expect(jest.getTimerCount()).toBe(1);
  });

  it('finds a peer that comes up after this node within seconds, not one heartbeat interval later', async () => {
    await start();
    expect(peers.health('node2')?.status).toBe('unknown');
    await runFor(2000);
    up.node2 = true;
    await runFor(2000);
    expect(peers.health('node2')?.status).toBe('healthy');
    expect(peers.health('node2')?.clientUrl).toBe('ws://node2:8080/');
  });

  it('backs off re-probes of a peer that stays down to one per heartbeat interval', async () => {
    await start();
    await runFor(120_000, 250);
    // the round at start, re-probes after 1 s, 2 s, 4 s, 8 s, then the rounds every 30 s: nine calls in two minutes, not 240
    expect(callsTo('node2')).toBeGreaterThanOrEqual(8);
    expect(callsTo('node2')).toBeLessThanOrEqual(10);
  });

  it('never counts a re-probe or failover probe miss: only the regular rounds make a peer fail', async () => {
    up.node2 = true;
    await start({ HEARTBEAT_INTERVAL: '5', FAILOVER_TIMEOUT: '1' });
    up.node2 = false;
    await runFor(4900); // many probes missed, no round yet
    expect(peers.health('node2')?.consecutiveFailures).toBe(0);
    await runFor(5300); // two rounds missed
    expect(peers.health('node2')?.status).toBe('failed');
    const failures = peers.health('node2')!.consecutiveFailures;
    await runFor(4000);
    expect(peers.health('node2')!.consecutiveFailures).toBe(failures);
    up.node2 = true;
    await runFor(2000);
    expect(peers.health('node2')?.status).toBe('healthy'); // recovered without waiting for the next round
  });

  it('leaves peers that are up to the regular rounds when failover is off', async () => {
    up = { node2: true, node3: true };
    await start();
    await runFor(20_000, 250);
    expect(calls).toHaveLength(2);
  });

  it('suspects a peer that goes silent once FAILOVER_TIMEOUT has passed since its last answer, not a probe round later', async () => {
    up = { node2: true, node3: true };
    await start({ FAILOVER_TIMEOUT: '1' });
    await runFor(3000);
    up.node2 = false;
    const lastAnswer = calls.filter((c) => c.nodeId === 'node2').at(-1)!.at;
    const wentDown = clock.monotonic();
    await runFor(1000 - (wentDown - lastAnswer) - 50, 10);
    expect(peers.isSuspected('node2')).toBe(false);
    await runFor(60, 10);
    expect(peers.isSuspected('node2')).toBe(true);
    expect(peers.isSuspected('node3')).toBe(false);
  });

  it('probes a quiet peer twice per FAILOVER_TIMEOUT, one call at a time on its connection', async () => {
    up = { node2: true, node3: true };
    await start({ FAILOVER_TIMEOUT: '1.5' });
    const from = clock.monotonic();
    await runFor(15_000);
    expect(callsTo('node2', from)).toBeGreaterThanOrEqual(19);
    expect(callsTo('node2', from)).toBeLessThanOrEqual(21);
    expect(mostOpen).toBe(2); // one per peer
  });

  it('sends a failed probe again at once, so a single lost probe does not make a peer suspected', async () => {
    up = { node2: true, node3: true };
    await start({ FAILOVER_TIMEOUT: '1' });
    await runFor(2000);
    const probes = jest.spyOn(peers, 'probe');
    let lost = 1;
    probes.mockImplementationOnce(async () => {
      lost--;
      throw new Error('socket hang up');
    });
    await runFor(600); // the next probe is lost; its retry answers
    expect(lost).toBe(0);
    expect(probes.mock.calls.length).toBeGreaterThanOrEqual(2);
    await runFor(1000);
    expect(peers.isSuspected('node2')).toBe(false);
  });

  it('does not probe a peer that keeps calling this node, and probes it again once its calls stop', async () => {
    up = { node2: true, node3: true };
    await start({ FAILOVER_TIMEOUT: '1.5' });
    for (let i = 0; i < 20; i++) {
      peers.heardFrom('node2'); // its signed heartbeat (or room-log message) arrived
      await runFor(500);
    }
    const from = clock.monotonic();
    expect(callsTo('node2', from - 9_900)).toBe(0);
    expect(callsTo('node3', from - 9_900)).toBeGreaterThanOrEqual(12); // every 750 ms
    await runFor(1000);
    expect(callsTo('node2', from)).toBeGreaterThanOrEqual(1);
    expect(peers.isSuspected('node2')).toBe(false);
  });

  it('probes a peer at once, though it keeps calling, when it signs a call for another run of this node (it restarted)', async () => {
    up = { node2: true, node3: true };
    await start({ FAILOVER_TIMEOUT: '1.5', PEER_SECRET: 'a-cluster-secret-of-some-length' });
    peers.heardFrom('node2');
    await runFor(100);
    const before = callsTo('node2');
    (authenticator as unknown as { staleCaller(h: Record<string, string>): void }).staleCaller({ 'x-chat-peer': 'node2' });
    await runFor(50);
    expect(callsTo('node2')).toBe(before + 1);
    (authenticator as unknown as { staleCaller(h: Record<string, string>): void }).staleCaller({ 'x-chat-peer': 'node9' }); // not a peer: nothing
    await runFor(50);
    expect(callsTo('node2')).toBe(before + 1);
  });

  it("does not hold this node's own stall against its peers: a wake late by more than half a probe gap forgives them that time", async () => {
    up = { node2: true, node3: true };
    await start({ FAILOVER_TIMEOUT: '1' });
    const forgive = jest.spyOn(peers, 'forgiveStall');
    clock.advance(3000); // the event loop stood still for 3 s: no timer ran
    jest.advanceTimersByTime(3000);
    await settle();
    expect(forgive).toHaveBeenCalledTimes(1);
    expect(forgive.mock.calls[0][0]).toBeGreaterThanOrEqual(2500); // woken at 3 s for a probe due at 0.5 s
    expect(peers.isSuspected('node2')).toBe(false);
  });

  it('sets no timer without peers', async () => {
    const config = loadConfig({ NODE_ID: 'node1', FAILOVER_TIMEOUT: '1' });
    moduleRef = await Test.createTestingModule({
      providers: [PeerDirectory, ...peerDirectoryDeps(), PeerPulse, PeerAuthenticator, bootIdProvider, { provide: NODE_CONFIG, useValue: config }, { provide: Clock, useValue: clock }],
    }).compile();
    moduleRef.get(PeerPulse).onApplicationBootstrap();
    expect(jest.getTimerCount()).toBe(0);
  });
});
