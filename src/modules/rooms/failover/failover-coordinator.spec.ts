import { Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { loadConfig } from '../../../common/config/load-config';
import { ChatStore } from '../../../common/store/chat-store';
import { deferred, flushPromises, type Deferred } from '../../../testing/deferred';
import { roomRecord } from '../../../testing/records';
import type { PeerDirectory } from '../../peers/peer-directory';
import type { RoomHostService } from '../host/room-host.service';
import { FailoverCoordinator } from './failover-coordinator';
import type { RoomClaim } from './room-claim';

/** Peers node1..node3 around this node as the failover probe sees them. */
class Probe {
  suspected = new Set<string>();
  readonly nodeIds: string[];
  constructor(
    readonly self: string,
    all = ['node1', 'node2', 'node3'],
  ) {
    this.nodeIds = all.filter((n) => n !== self);
  }
  get majority(): number {
    return Math.floor((this.nodeIds.length + 1) / 2) + 1;
  }
  isSuspected = (id: string) => this.suspected.has(id);
  livePeers = () => this.nodeIds.filter((n) => !this.suspected.has(n));
  subscribe = () => undefined;
}

describe(FailoverCoordinator.name, () => {
  let store: ChatStore;
  let claims: string[];
  let pending: Map<string, Deferred<boolean>>;
  let toConfirm: string[];
  let scheduler: SchedulerRegistry;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    store = ChatStore.inMemory();
    store.insertRoom(roomRecord({ roomId: 'a', roomName: 'a', hostNode: 'node3' }));
    store.insertRoom(roomRecord({ roomId: 'b', roomName: 'b', hostNode: 'node3' }));
    store.insertRoom(roomRecord({ roomId: 'c', roomName: 'c', hostNode: 'node2' }));
    claims = [];
    pending = new Map();
    toConfirm = [];
    scheduler = new SchedulerRegistry();
  });

  afterEach(() => {
    for (const name of scheduler.getIntervals()) scheduler.deleteInterval(name);
    store.close();
  });

  /** The coordinator on `self`; each claim stays open until the test settles it. */
  const coordinator = (probe: Probe, env: Record<string, string> = {}) => {
    const claim = {
      claim: (roomId: string) => {
        claims.push(roomId);
        const d = deferred<boolean>();
        pending.set(roomId, d);
        return d.promise;
      },
    };
    const host = { roomsToConfirm: () => toConfirm, claimsAtBoot: env.FAILOVER_TIMEOUT !== '0' };
    return new FailoverCoordinator(
      loadConfig({ NODE_ID: probe.self, FAILOVER_TIMEOUT: '1', ...env }),
      store,
      probe as unknown as PeerDirectory,
      host as unknown as RoomHostService,
      claim as unknown as RoomClaim,
      scheduler,
    );
  };

  it("claims every room of a suspected host when this node is the lowest live node id", () => {
    const probe = new Probe('node1');
    probe.suspected.add('node3');
    coordinator(probe).sweep();
    expect(claims.sort()).toEqual(['a', 'b']);
  });

  it('leaves the claim to a lower live node id (candidates do not compete)', () => {
    const probe = new Probe('node2');
    probe.suspected.add('node3');
    coordinator(probe).sweep();
    expect(claims).toEqual([]);

    probe.suspected.add('node1'); // ...unless that one is suspected too (then no majority answers either)
    coordinator(probe).sweep();
    expect(claims).toEqual([]);
  });

  it('the next lowest node claims when the lowest one is the suspect', () => {
    const probe = new Probe('node2');
    store.insertRoom(roomRecord({ roomId: 'd', roomName: 'd', hostNode: 'node1' }));
    probe.suspected.add('node1');
    coordinator(probe).sweep();
    expect(claims).toEqual(['d']);
  });

  it('claims nothing while no majority answers', () => {
    const probe = new Probe('node1');
    probe.suspected.add('node2');
    probe.suspected.add('node3');
    toConfirm = ['mine'];
    coordinator(probe).sweep();
    expect(claims).toEqual([]);
  });

  it('confirms the rooms hosted here that it does not serve yet (after a restart, or a newer promise elsewhere)', () => {
    toConfirm = ['mine'];
    coordinator(new Probe('node3')).sweep();
    expect(claims).toEqual(['mine']);
  });

  it('runs at most one claim per room at a time; a finished (or failed) one may be tried again', async () => {
    const probe = new Probe('node1');
    probe.suspected.add('node3');
    const sut = coordinator(probe);
    sut.sweep();
    sut.sweep();
    expect(claims.sort()).toEqual(['a', 'b']);

    pending.get('a')!.resolve(false);
    pending.get('b')!.reject(new Error('peer went away'));
    await flushPromises();
    sut.sweep();
    expect(claims.sort()).toEqual(['a', 'a', 'b', 'b']);
  });

  it('sweeps on a timer only when the host claims its rooms at boot (failover on, with peers)', () => {
    coordinator(new Probe('node1')).onApplicationBootstrap();
    expect(scheduler.getIntervals()).toEqual([FailoverCoordinator.INTERVAL_NAME]);
    scheduler.deleteInterval(FailoverCoordinator.INTERVAL_NAME);

    coordinator(new Probe('node1'), { FAILOVER_TIMEOUT: '0' }).onApplicationBootstrap();
    expect(scheduler.getIntervals()).toEqual([]);
  });

  it('a peer becoming suspected starts a sweep at once', () => {
    const probe = new Probe('node1');
    const sut = coordinator(probe);
    probe.suspected.add('node2');
    sut.onPeerSuspected();
    expect(claims).toEqual(['c']);
  });
});
