import { Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Test, type TestingModule } from '@nestjs/testing';
import { Clock } from '../../common/clock/clock';
import { loadConfig } from '../../common/config/load-config';
import { NODE_CONFIG } from '../../common/config/node-config';
import { FakeClock } from '../../testing/fakes';
import { peerDirectoryDeps } from '../../testing/peers';
import { PeerDirectory } from './peer-directory';
import { PeerHealthMonitor } from './peer-health.monitor';

// Nothing listens on port 1: the directory's real heartbeat() is replaced per test.
const config = loadConfig({ NODE_ID: 'node1', PEER_NODES: 'node2:http://127.0.0.1:1', HEARTBEAT_INTERVAL: '30', MAX_HEARTBEAT_FAILURES: '2' });
const settle = () => new Promise((r) => setImmediate(r));

describe(PeerHealthMonitor.name, () => {
  let moduleRef: TestingModule;
  let clock: FakeClock;
  let peers: PeerDirectory;
  let sut: PeerHealthMonitor;
  let node2Up: boolean;
  let calls: number;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    clock = new FakeClock();
    moduleRef = await Test.createTestingModule({
      providers: [PeerDirectory, ...peerDirectoryDeps(), PeerHealthMonitor, SchedulerRegistry, { provide: NODE_CONFIG, useValue: config }, { provide: Clock, useValue: clock }],
    }).compile();
    peers = moduleRef.get(PeerDirectory);
    sut = moduleRef.get(PeerHealthMonitor);
    node2Up = false;
    calls = 0;
    jest.spyOn(peers, 'heartbeat').mockImplementation(async () => {
      calls++;
      if (!node2Up) throw new Error('connect ECONNREFUSED');
      return { status: 'ok', node_id: 'node2', timestamp: '', boot_id: 'b1', client_url: 'ws://10.0.0.2:8080/' };
    });
  });

  afterEach(() => moduleRef.close());

  /** Moves the clock in steps of the re-probe tick, re-probing at each. */
  async function runFor(ms: number) {
    for (let t = 0; t < ms; t += 500) {
      clock.advance(500);
      sut.reprobeDownPeers();
      await settle();
    }
  }

  it('finds a peer that comes up after this node within seconds, not one heartbeat interval later', async () => {
    await sut.checkPeers(); // the round at start: node2 is not up yet
    expect(peers.health('node2')?.status).toBe('unknown');
    await runFor(2000);
    node2Up = true;
    await runFor(2000);
    expect(peers.health('node2')?.status).toBe('healthy');
    expect(peers.health('node2')?.clientUrl).toBe('ws://10.0.0.2:8080/');
  });

  it('backs off re-probes of a peer that stays down to one per heartbeat interval', async () => {
    await sut.checkPeers();
    await runFor(120_000);
    // 1 s, 2 s, 4 s, 8 s, 16 s, then every 30 s: about eight probes in two minutes, not 240.
    expect(calls - 1).toBeGreaterThanOrEqual(6);
    expect(calls - 1).toBeLessThanOrEqual(9);
  });

  it('never counts a re-probe miss: only the regular rounds make a peer fail', async () => {
    node2Up = true;
    await sut.checkPeers();
    node2Up = false;
    await sut.checkPeers();
    await sut.checkPeers();
    expect(peers.health('node2')?.status).toBe('failed');
    const failures = peers.health('node2')!.consecutiveFailures;
    await runFor(20_000);
    expect(peers.health('node2')!.consecutiveFailures).toBe(failures);
    node2Up = true;
    await runFor(20_000);
    expect(peers.health('node2')?.status).toBe('healthy'); // recovered without waiting for the 30 s round
  });

  it('leaves peers that are up to the regular rounds', async () => {
    node2Up = true;
    await sut.checkPeers();
    const before = calls;
    await runFor(20_000);
    expect(calls).toBe(before);
  });
});
