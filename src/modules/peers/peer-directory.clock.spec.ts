import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Clock } from '../../common/clock/clock';
import { loadConfig } from '../../common/config/load-config';
import { NODE_CONFIG } from '../../common/config/node-config';
import type { ReplicationEvent } from '../../common/protocol/peer-wire';
import { FakeClock } from '../../testing/fakes';
import { peek } from '../../testing/deferred';
import { PeerDirectory } from './peer-directory';
import { NoQuorumError } from './quorum-ack';

const HOUR = 3_600_000;
const deleted: ReplicationEvent = { kind: 'deleted', room_id: 'r1', room_name: 'general', transaction_id: null, epoch: 1 };
/** Longer than QuorumWaits' sweep period: a wait that is over has been refused by then. */
const afterSweep = () => new Promise((r) => setTimeout(r, 250));

/**
 * Failure detection and quorum deadlines are durations: a wall clock stepped by an operator or
 * NTP, either way, must neither hide a dead peer nor give up on a change that still has time.
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
    moduleRef = await Test.createTestingModule({ providers: [PeerDirectory, { provide: NODE_CONFIG, useValue: config }, { provide: Clock, useValue: clock }] }).compile();
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

  it('keeps waiting for a majority when the wall clock is set forward an hour', async () => {
    const stored = sut.replicate(deleted);
    stored.catch(() => undefined);
    clock.jump(HOUR);
    await afterSweep();
    expect(await peek(stored)).toBe('pending');
  });

  it('still gives up on a majority when its wait is over although the wall clock was set back an hour', async () => {
    const stored = sut.replicate(deleted);
    stored.catch(() => undefined);
    clock.jump(-HOUR);
    clock.advance(60_000);
    await afterSweep();
    expect(await peek(stored)).toBeInstanceOf(NoQuorumError);
  });
});
