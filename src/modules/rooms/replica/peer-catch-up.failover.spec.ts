import { Logger } from '@nestjs/common';
import { loadConfig } from '../../../common/config/load-config';
import type { HostedRoomState } from '../../../common/protocol/peer-wire';
import { ChatStore } from '../../../common/store/chat-store';
import { FakeClock } from '../../../testing/fakes';
import { flushPromises } from '../../../testing/deferred';
import { roomRecord } from '../../../testing/records';
import type { ClientRegistry } from '../../members/client-registry';
import type { PeerDirectory } from '../../peers/peer-directory';
import type { HostChanges } from './host-changes';
import { PeerCatchUp } from './peer-catch-up.service';
import type { ReplicaService } from './replica.service';
import { RoomHostAuthority } from './room-host-authority';

/** Room r1 as node2 reports it in get_room_states. */
const reported = (over: Partial<HostedRoomState> = {}): HostedRoomState =>
  ({ room_id: 'r1', room_name: 'general', description: null, creator_id: 'alice', host_node: 'node2', host_epoch: 1, epoch_start: 1, state: 'ACTIVE', created_at: 't', last_sequence: 4, deletion_txn: null, members: [], ...over }) as HostedRoomState;

describe(`${PeerCatchUp.name} (host epochs)`, () => {
  let store: ChatStore;
  let steps: unknown[][];
  /** The peers asked for their room states. */
  let asked: string[];
  let rooms: HostedRoomState[];
  let sut: PeerCatchUp;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    store = ChatStore.inMemory();
    steps = [];
    asked = [];
    rooms = [];
    const config = loadConfig({ NODE_ID: 'node1' });
    const peers = {
      has: (id: string) => id === 'node2' || id === 'node3',
      call: async (node: string) => (asked.push(node), { rooms, deleted: [], next_cursor: '' }),
    };
    const replica = {
      applyRoomMeta: (r: HostedRoomState) => steps.push(['applyRoomMeta', r.room_id, r.host_epoch]),
      fetchMissing: async (roomId: string, from: string, upTo: number) => void steps.push(['fetchMissing', roomId, from, upTo]),
      applyDeleted: (roomId: string) => steps.push(['applyDeleted', roomId]),
    };
    const changes = {
      subscribe: () => undefined,
      follow: (roomId: string, host: string, epoch: number, epochStart: number) => {
        steps.push(['follow', roomId, host, epoch, epochStart]);
        const room = store.getRoom(roomId)!;
        if (epoch > room.hostEpoch) store.setEpochs(roomId, { ...room, hostNode: host, hostEpoch: epoch, promisedEpoch: epoch, epochStart });
        return true;
      },
    };
    const clients = { usernameInRoom: () => false };
    sut = new PeerCatchUp(
      config,
      store,
      clients as unknown as ClientRegistry,
      peers as unknown as PeerDirectory,
      replica as unknown as ReplicaService,
      new RoomHostAuthority(config, store, new FakeClock()),
      changes as unknown as HostChanges,
    );
  });

  afterEach(() => store.close());

  it('a host that stepped down catches up with the new host at once; other host changes wait for the usual catch-up', async () => {
    store.insertRoom(roomRecord({ hostNode: 'node3', hostEpoch: 2, promisedEpoch: 2 }));
    sut.onHostChanged('r1', 'node2', false);
    await flushPromises();
    expect(asked).toEqual([]);
    sut.onHostChanged('r1', 'node1', true);
    await flushPromises();
    expect(asked).toEqual(['node3']);
  });

  it('skips a room its old host still reports at an epoch older than this node promised (the room moved)', async () => {
    store.insertRoom(roomRecord({ hostNode: 'node3', hostEpoch: 2, promisedEpoch: 2, lastSequence: 0 }));
    rooms = [reported({ host_node: 'node2', host_epoch: 1, last_sequence: 9 })];
    await sut.syncFrom('node2');
    expect(steps).toEqual([]);
    expect(store.getRoom('r1')).toMatchObject({ hostNode: 'node3', hostEpoch: 2 });
  });

  it('follows a host that reports a newer epoch, then catches up from it', async () => {
    store.insertRoom(roomRecord({ hostNode: 'node3', hostEpoch: 1, promisedEpoch: 1, lastSequence: 0 }));
    rooms = [reported({ host_node: 'node2', host_epoch: 2, epoch_start: 3, last_sequence: 4 })];
    await sut.syncFrom('node2');
    expect(steps).toEqual([
      ['follow', 'r1', 'node2', 2, 3],
      ['applyRoomMeta', 'r1', 2],
      ['fetchMissing', 'r1', 'node2', 4],
    ]);
  });

  it('learns a room it did not know from its host, at the epoch reported', async () => {
    rooms = [reported({ host_epoch: 3, last_sequence: 2 })];
    await sut.syncFrom('node2');
    expect(steps).toEqual([
      ['applyRoomMeta', 'r1', 3],
      ['fetchMissing', 'r1', 'node2', 2],
    ]);
  });

  it('ignores a room reported by a node that does not name itself its host', async () => {
    rooms = [reported({ host_node: 'node3' })];
    await sut.syncFrom('node2');
    expect(steps).toEqual([]);
  });
});
