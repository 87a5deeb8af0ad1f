import { Test, type TestingModule } from '@nestjs/testing';
import { Clock } from '../../../common/clock/clock';
import { FakeClock } from '../../../testing/fakes';
import { loadConfig } from '../../../common/config/load-config';
import { NODE_CONFIG } from '../../../common/config/node-config';
import type { RoomSummary } from '../../../common/protocol/client-wire';
import { ChatStore } from '../../../common/store/chat-store';
import { storeProviders } from '../../../common/store/store.module';
import { roomRecord } from '../../../testing/records';
import { PeerDirectory } from '../../peers/peer-directory';
import { DISCOVERY_REUSE_MS, RoomLocator } from './room-locator';

const summary = (roomId: string, adminNode: string, over: Partial<RoomSummary> = {}): RoomSummary & { node_address: string } => ({
  room_id: roomId,
  room_name: `name-${roomId}`,
  description: null,
  member_count: 1,
  admin_node: adminNode,
  creator_id: 'carol',
  node_address: `http://${adminNode}:9090`,
  ...over,
});

/** The peers as the locator sees them: configured ids, failed ones, scripted answers, every call recorded. */
class FakePeers {
  readonly calls: { nodeId: string; method: string; params: unknown[]; timeoutMs: number | undefined }[] = [];
  readonly failed = new Set<string>();
  readonly hosted = new Map<string, unknown>();
  readonly broken = new Set<string>();

  constructor(readonly nodeIds: string[]) {}

  isFailed(nodeId: string): boolean {
    return this.failed.has(nodeId);
  }
  async call(nodeId: string, method: string, params: unknown[], timeoutMs?: number): Promise<unknown> {
    this.calls.push({ nodeId, method, params, timeoutMs });
    if (this.broken.has(nodeId)) throw new Error(`Node ${nodeId} timed out`);
    return this.hosted.get(nodeId) ?? [];
  }
  asked(): string[] {
    return this.calls.map((c) => c.nodeId).sort();
  }
}

describe(RoomLocator.name, () => {
  let moduleRef: TestingModule;
  let sut: RoomLocator;
  let store: ChatStore;
  let peers: FakePeers;
  let clock: FakeClock;

  const build = async (env: Record<string, string> = {}) => {
    moduleRef = await Test.createTestingModule({
      providers: [
        RoomLocator,
        { provide: NODE_CONFIG, useValue: loadConfig({ NODE_ID: 'node1', ...env }) },
        ...storeProviders(store),
        { provide: PeerDirectory, useValue: peers },
        { provide: Clock, useValue: clock },
      ],
    }).compile();
    sut = moduleRef.get(RoomLocator);
  };

  beforeEach(async () => {
    store = ChatStore.inMemory();
    peers = new FakePeers(['node2', 'node3', 'node4']);
    clock = new FakeClock();
    await build();
  });

  afterEach(async () => {
    await moduleRef.close();
    store.close();
  });

  describe('locate', () => {
    it('returns a room from the local replica without asking any peer', async () => {
      const room = roomRecord({ roomId: 'r1', hostNode: 'node2' });
      store.rooms.insertRoom(room);
      expect(await sut.locate('r1')).toEqual(room);
      expect(peers.calls).toEqual([]);
    });

    it('returns null for a deleted (tombstoned) room without asking any peer, even if a peer still lists it', async () => {
      store.rooms.insertRoom(roomRecord({ roomId: 'r1', hostNode: 'node2' }));
      store.tombstones.deleteRoom({ roomId: 'r1', roomName: 'general', hostNode: 'node2', deletedAt: '2026-01-01T00:00:01.000Z', transactionId: 't1' });
      peers.hosted.set('node2', [summary('r1', 'node2')]);

      expect(await sut.locate('r1')).toBeNull();
      expect(peers.calls).toEqual([]);
    });

    it('asks the peers about a room it has never heard of, and returns it with its host once one reports hosting it', async () => {
      peers.hosted.set('node3', [summary('r9', 'node3', { room_name: 'faraway', description: 'far', creator_id: 'carol' })]);

      const room = await sut.locate('r9');

      expect(peers.asked()).toEqual(['node2', 'node3', 'node4']);
      expect(room).toMatchObject({ roomId: 'r9', roomName: 'faraway', description: 'far', creatorId: 'carol', hostNode: 'node3', state: 'ACTIVE' });
      expect(store.rooms.getRoom('r9')?.hostNode).toBe('node3');
    });

    it('returns null for a room no peer hosts', async () => {
      peers.hosted.set('node2', [summary('r2', 'node2')]);
      expect(await sut.locate('missing')).toBeNull();
      expect(peers.asked()).toEqual(['node2', 'node3', 'node4']);
    });

    it('asks again, once the last discovery is a second old, for a room still unknown', async () => {
      expect(await sut.locate('r9')).toBeNull();
      peers.hosted.set('node4', [summary('r9', 'node4')]);
      clock.advance(DISCOVERY_REUSE_MS);
      expect((await sut.locate('r9'))?.hostNode).toBe('node4');
    });

    it('answers a flood of lookups for rooms that do not exist with one discovery per second, shared by concurrent ones', async () => {
      await Promise.all(Array.from({ length: 50 }, (_, i) => sut.locate(`random-${i}`)));
      for (let i = 0; i < 50; i++) expect(await sut.locate(`random-later-${i}`)).toBeNull();
      expect(peers.asked()).toEqual(['node2', 'node3', 'node4']);
      clock.advance(DISCOVERY_REUSE_MS);
      await sut.locate('random-next-second');
      expect(peers.calls).toHaveLength(6);
    });
  });

  describe('discoverPeers', () => {
    it('does not call failed peers and reports them unavailable with those that threw', async () => {
      peers.failed.add('node2');
      peers.broken.add('node4');
      peers.hosted.set('node3', [summary('r3', 'node3')]);

      const result = await sut.discoverPeers();

      expect(peers.asked()).toEqual(['node3', 'node4']);
      expect(result.queried.sort()).toEqual(['node2', 'node3', 'node4']);
      expect(result.available).toEqual(['node3']);
      expect(result.unavailable.sort()).toEqual(['node2', 'node4']);
      expect(result.rooms).toEqual([summary('r3', 'node3')]);
    });

    it('remembers rooms a peer hosts, but not rooms it reports on behalf of another node', async () => {
      peers.hosted.set('node2', [summary('r2', 'node2'), summary('r3', 'node3')]);

      const result = await sut.discoverPeers();

      expect(result.rooms.map((r) => r.room_id)).toEqual(['r2', 'r3']);
      expect(store.rooms.getRoom('r2')).toMatchObject({ roomId: 'r2', roomName: 'name-r2', hostNode: 'node2' });
      expect(store.rooms.getRoom('r3')).toBeNull();
    });

    it('neither overwrites a room already in the replica nor revives a deleted one', async () => {
      const local = roomRecord({ roomId: 'r2', roomName: 'general', hostNode: 'node2', lastSequence: 7 });
      store.rooms.insertRoom(local);
      store.rooms.insertRoom(roomRecord({ roomId: 'gone', roomName: 'gone', hostNode: 'node2' }));
      store.tombstones.deleteRoom({ roomId: 'gone', roomName: 'gone', hostNode: 'node2', deletedAt: '2026-01-01T00:00:01.000Z', transactionId: 't1' });
      peers.hosted.set('node2', [summary('r2', 'node2', { room_name: 'renamed' }), summary('gone', 'node2')]);

      await sut.discoverPeers();

      expect(store.rooms.getRoom('r2')).toEqual(local);
      expect(store.rooms.getRoom('gone')).toBeNull();
    });

    it('ignores a malformed answer from a peer but still counts it available', async () => {
      peers.hosted.set('node2', 'not a list');
      peers.hosted.set('node3', [{ room_name: 'no id', admin_node: 'node3' }]);
      const result = await sut.discoverPeers();
      expect(result.available.sort()).toEqual(['node2', 'node3', 'node4']);
      expect(store.rooms.listRooms('node3')).toEqual([]);
      // nothing malformed is passed on to clients' room lists
      expect(result.rooms.filter((r) => r.admin_node !== 'node4')).toEqual([]);
    });

    it('bounds every call in time: at most 3 s, or the peer call timeout when that is shorter', async () => {
      await sut.discoverPeers();
      expect(peers.calls.map((c) => [c.method, c.timeoutMs])).toEqual([
        ['get_hosted_rooms', 3000],
        ['get_hosted_rooms', 3000],
        ['get_hosted_rooms', 3000],
      ]);

      await moduleRef.close();
      peers.calls.length = 0;
      await build({ PEER_CALL_TIMEOUT: '2' });
      await sut.discoverPeers();
      expect(peers.calls.map((c) => c.timeoutMs)).toEqual([2000, 2000, 2000]);
    });
  });
});
