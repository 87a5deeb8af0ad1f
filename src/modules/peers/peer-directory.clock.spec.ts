import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Clock } from '../../common/clock/clock';
import { loadConfig } from '../../common/config/load-config';
import { NODE_CONFIG } from '../../common/config/node-config';
import { FakeClock } from '../../testing/fakes';
import { peerDirectoryDeps } from '../../testing/peers';
import { PeerDirectory } from './peer-directory';

const HOUR = 3_600_000;

/**
 * Failure detection measures durations: a wall clock stepped by an operator or NTP, either way,
 * must neither hide a dead peer nor suspect a live one. (The quorum deadline's spec is RoomLogs'.)
 */
describe(`${PeerDirectory.name} (a wall clock that jumps)`, () => {
  let moduleRef: TestingModule;
  let clock: FakeClock;
  let sut: PeerDirectory;
  let suspected: string[];

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    clock = new FakeClock();
    const config = loadConfig({ NODE_ID: 'node1', FAILOVER_TIMEOUT: '1', PEER_NODES: 'node2:http://127.0.0.1:1,node3:http://127.0.0.1:1' });
    moduleRef = await Test.createTestingModule({ providers: [PeerDirectory, ...peerDirectoryDeps(), { provide: NODE_CONFIG, useValue: config }, { provide: Clock, useValue: clock }] }).compile();
    sut = moduleRef.get(PeerDirectory);
    suspected = [];
    sut.subscribe({ onPeerSuspected: (id) => void suspected.push(id) });
  });

  afterEach(() => moduleRef.close());

  it('still suspects a silent peer after the wall clock was set back an hour', () => {
    clock.jump(-HOUR);
    clock.advance(1000);
    sut.checkSilence(1000);
    expect(suspected).toEqual(['node2', 'node3']);
  });

  it('does not suspect a peer that answered just now when the wall clock is set forward an hour', () => {
    sut.recordHeartbeat('node2', true);
    clock.jump(HOUR);
    sut.checkSilence(1000);
    expect(suspected).toEqual([]);
  });

  it('does not count a stall of this node as its peers\' silence, but keeps counting once it runs again', () => {
    clock.advance(900);
    sut.forgiveStall(800); // the node stood still for most of that time
    sut.checkSilence(1000);
    expect(suspected).toEqual([]);
    clock.advance(900);
    sut.checkSilence(1000);
    expect(suspected).toEqual(['node2', 'node3']);
  });
});
