import { Logger } from '@nestjs/common';
import * as net from 'node:net';
import { Test, type TestingModule } from '@nestjs/testing';
import { Clock } from '../../common/clock/clock';
import { loadConfig } from '../../common/config/load-config';
import { NODE_CONFIG } from '../../common/config/node-config';
import { ChatStore } from '../../common/store/chat-store';
import { FakeClock } from '../../testing/fakes';
import { peek } from '../../testing/deferred';
import { heartbeatAnswer, peerDirectoryDeps } from '../../testing/peers';
import { PeerDirectory, type PeerStatusListener } from './peer-directory';
import { PeerSuspicion } from './peer-suspicion';

/** A directory of `peers` peers, all on a port where nothing listens (calls fail, none is awaited here). */
async function directory(peers: number, clock: FakeClock, env: Record<string, string> = {}): Promise<{ moduleRef: TestingModule; sut: PeerDirectory }> {
  const list = Array.from({ length: peers }, (_, i) => `node${i + 2}:http://127.0.0.1:1`).join(',');
  const config = loadConfig({ NODE_ID: 'node1', FAILOVER_TIMEOUT: '1', ...(peers > 0 ? { PEER_NODES: list } : {}), ...env });
  const moduleRef = await Test.createTestingModule({
    providers: [PeerDirectory, ...peerDirectoryDeps(ChatStore.inMemory()), { provide: NODE_CONFIG, useValue: config }, { provide: Clock, useValue: clock }],
  }).compile();
  return { moduleRef, sut: moduleRef.get(PeerDirectory) };
}

describe(PeerSuspicion.name, () => {
  it('suspects a peer once it has been silent for the timeout (boot counts as an answer), and once only', () => {
    const sut = new PeerSuspicion(1000);
    expect(sut.silentFor(1999, 1000)).toBeNull();
    expect(sut.silentFor(2000, 1000)).toBe(1000);
    expect(sut.suspected).toBe(true);
    expect(sut.silentFor(5000, 1000)).toBeNull(); // already suspected: no second report
  });

  it('an answer ends a suspicion (reported once) and restarts the silence', () => {
    const sut = new PeerSuspicion(0);
    sut.silentFor(1000, 1000);
    expect(sut.answered(1500)).toBe(true);
    expect(sut.answered(1600)).toBe(false);
    expect(sut.silentFor(2500, 1000)).toBeNull();
    expect(sut.silentFor(2600, 1000)).toBe(1000);
  });
});

describe(`${PeerDirectory.name} (majority and suspicion)`, () => {
  let moduleRef: TestingModule;
  let clock: FakeClock;
  let sut: PeerDirectory;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    clock = new FakeClock();
  });

  afterEach(async () => {
    await moduleRef.close();
  });

  it.each([
    [0, 1],
    [1, 2],
    [2, 2],
    [4, 3],
  ])('with %i peer(s) a majority is %i node(s), this one included', async (peers, majority) => {
    ({ moduleRef, sut } = await directory(peers, clock));
    expect(sut.majority).toBe(majority);
  });

  it('ends the calls waiting on a peer as soon as it is suspected, not at their timeout', async () => {
    const silent = net.createServer(() => undefined); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      ({ moduleRef, sut } = await directory(0, clock, { PEER_NODES: `node2:http://127.0.0.1:${port}`, PEER_CALL_TIMEOUT: '60' }));
      const waiting = sut.call('node2', 'get_hosted_rooms', []);
      expect(await peek(waiting)).toBe('pending');
      clock.advance(1000);
      sut.checkSilence(1000);
      await expect(waiting).rejects.toThrow(); // at once: the jest timeout is far below PEER_CALL_TIMEOUT
    } finally {
      silent.close();
    }
  });

  it('tells listeners nothing once the application is shutting down (the store may be closed)', async () => {
    ({ moduleRef, sut } = await directory(2, clock));
    const heard: string[] = [];
    sut.subscribe({ onPeerSuspected: (id) => void heard.push(id) });
    sut.beforeApplicationShutdown();
    clock.advance(1000);
    sut.checkSilence(1000);
    expect(heard).toEqual([]);
  });

  describe('suspicion', () => {
    let heard: string[];

    beforeEach(async () => {
      ({ moduleRef, sut } = await directory(2, clock));
      heard = [];
      const listener: PeerStatusListener = {
        onPeerSuspected: (id) => void heard.push(`suspected ${id}`),
        onPeerAnswering: (id) => void heard.push(`answering ${id}`),
      };
      sut.subscribe(listener);
    });

    it('suspects peers silent for the timeout, tells listeners once, and leaves them out of livePeers', () => {
      clock.advance(999);
      sut.checkSilence(1000);
      expect(heard).toEqual([]);
      expect(sut.livePeers()).toEqual(['node2', 'node3']);

      sut.recordHeartbeat('node3', true, heartbeatAnswer('b3')); // node3 answered a heartbeat: not silent
      clock.advance(1);
      sut.checkSilence(1000);
      sut.checkSilence(1000);
      expect(heard).toEqual(['suspected node2']);
      expect(sut.isSuspected('node2')).toBe(true);
      expect(sut.isSuspected('node3')).toBe(false);
      expect(sut.livePeers()).toEqual(['node3']);
    });

    it('a suspected peer that answers a heartbeat is live again (and listeners hear it)', () => {
      clock.advance(1000);
      sut.checkSilence(1000);
      sut.recordHeartbeat('node2', true, heartbeatAnswer('b2'));
      expect(heard).toEqual(['suspected node2', 'suspected node3', 'answering node2']);
      expect(sut.livePeers()).toEqual(['node2']);
    });

    it("a suspected peer whose room log message arrives is live again, though no heartbeat of it came back", () => {
      clock.advance(1000);
      sut.checkSilence(1000);
      sut.heardFrom('node3');
      sut.heardFrom('node3');
      sut.heardFrom('node9'); // not a peer: nothing
      expect(heard).toEqual(['suspected node2', 'suspected node3', 'answering node3']);
      expect(sut.livePeers()).toEqual(['node3']);
    });

    it('a failed heartbeat is no answer', () => {
      clock.advance(600);
      sut.recordHeartbeat('node2', false);
      clock.advance(400);
      sut.checkSilence(1000);
      expect(sut.isSuspected('node2')).toBe(true);
    });

    it('knows nothing of nodes that are not peers', () => {
      expect(sut.isSuspected('node9')).toBe(false);
    });
  });
});
