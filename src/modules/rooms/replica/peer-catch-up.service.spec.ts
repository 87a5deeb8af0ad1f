import { Logger } from '@nestjs/common';
import { deferred } from '../../../testing/deferred';
import { LogCluster } from '../../../testing/log-cluster';
import { RoomDeletionCoordinator } from '../host/room-deletion.coordinator';
import { RoomHostService } from '../host/room-host.service';
import { RoomStatePages } from '../host/room-state-pages';
import { PeerCatchUp } from './peer-catch-up.service';
import { ReplicaService } from './replica.service';

describe(PeerCatchUp.name, () => {
  let cluster: LogCluster;
  let roomId: string;
  const node = (id: string) => cluster.node(id);
  /** Every node answers get_room_states from its real pages, and records the other calls it gets. */
  let received: { to: string; method: string; params: unknown[] }[];
  const answerFromPages = (id: string) => {
    node(id).peers.answer = async (to, method, params) => {
      if (method === 'get_room_states') return node(to).get(RoomStatePages).page((params[0] as string | undefined) ?? null);
      received.push({ to, method, params });
      return { success: true, message: 'ok' };
    };
  };

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    received = [];
    cluster = await LogCluster.start(['node1', 'node2', 'node3'], { providers: [PeerCatchUp, ReplicaService, RoomStatePages, RoomHostService, RoomDeletionCoordinator] });
    for (const id of cluster.ids) answerFromPages(id);
    const host = node('node1').get(RoomHostService);
    roomId = (await host.create('general', 'alice', null)).roomId;
    await host.join(roomId, 'alice', 'node1');
    await cluster.settle();
  });

  afterEach(() => cluster.close());

  it('deletes a room a peer holds the tombstone of (its deletion committed while this node was away)', async () => {
    const carol = node('node3').member(roomId, 'carol');
    cluster.network.cut.add('node3');
    await node('node1').get(RoomDeletionCoordinator).deleteRoom(roomId, 'alice');
    await cluster.settle();
    cluster.network.cut.delete('node3');

    await node('node3').get(PeerCatchUp).syncFrom('node2'); // any node holding the tombstone may pass it on
    expect(node('node3').store.rooms.getRoom(roomId)).toBeNull();
    expect(node('node3').store.tombstones.getTombstone(roomId)).toMatchObject({ roomName: 'general' });
    expect(carol.types).toEqual(['room_deleted']);
  });

  it('tries a failed catch-up again when the peer next answers, and a successful one not', async () => {
    let calls = 0;
    const pages = node('node3').peers.answer;
    node('node3').peers.answer = async (to, method, params) => {
      if (method === 'get_room_states' && ++calls === 1) throw new Error('aborted by the caller');
      return pages(to, method, params);
    };
    const sut = node('node3').get(PeerCatchUp);
    await sut.syncFrom('node1');
    expect(calls).toBe(1);
    sut.retryIfFailed('node1');
    await sut.syncFrom('node1'); // joins the retry under way
    expect(calls).toBe(2);
    sut.retryIfFailed('node1');
    await sut.syncFrom('node1');
    expect(calls).toBe(3); // the explicit call only: the retry had nothing to redo
  });

  it('tells a room\'s host of members it believes connected through this node that have no socket here any more', async () => {
    const host = node('node1').get(RoomHostService);
    await host.join(roomId, 'bob', 'node2'); // his connection ended while node2 could not tell node1
    await host.join(roomId, 'carol', 'node2');
    await cluster.settle();
    node('node2').member(roomId, 'carol');

    await node('node2').get(PeerCatchUp).syncFrom('node1');
    expect(received).toEqual([{ to: 'node1', method: 'notify_member_disconnect', params: [roomId, 'bob', 'node2', 'User disconnected'] }]);
  });

  it('asks again, a second later, when the host refused to release a member (it was still being elected after a restart)', async () => {
    await node('node1').get(RoomHostService).join(roomId, 'bob', 'node2');
    await cluster.settle();
    const pages = node('node2').peers.answer;
    let refusals = 1;
    node('node2').peers.answer = async (to, method, params) => {
      if (method !== 'notify_member_disconnect') return pages(to, method, params);
      received.push({ to, method, params });
      return refusals-- > 0 ? { success: false, message: 'Administrator node unavailable' } : { success: true, message: 'ok' };
    };

    await node('node2').get(PeerCatchUp).syncFrom('node1');
    const deadline = Date.now() + 5000;
    while (received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1200)); // answered: nothing more is asked
    expect(received.map((r) => r.params[1])).toEqual(['bob', 'bob']);
  });

  it('while rejoining with an empty disk, learns every room its peers list, and stops rejoining once it caught up with all of them', async () => {
    await cluster.stop('node3');
    const node3 = await cluster.restart('node3', { wipe: true });
    answerFromPages('node3');
    const catchUp = node3.get(PeerCatchUp);
    expect(node3.disk.identity.rejoining).toBe(true);

    cluster.network.cut.add('node3'); // learned from the list alone, not from the room's host
    await catchUp.syncFrom('node1');
    expect(node3.store.logs.state(roomId)).toMatchObject({ learner: true });
    expect(node3.disk.identity.rejoining).toBe(true);
    await catchUp.syncFrom('node2');
    expect(node3.disk.identity.rejoining).toBe(false);
  });

  it('pages through a peer\'s rooms, and gives up on a peer that repeats a cursor instead of asking forever', async () => {
    const asked: unknown[] = [];
    node('node2').peers.answer = async (_to, method, params) => {
      asked.push(params[0] ?? null);
      return { rooms: [], deleted: [], next_cursor: 'rooms:x' };
    };
    await expect(node('node2').get(PeerCatchUp).syncFrom('node1')).resolves.toBeUndefined();
    expect(asked).toEqual([null, 'rooms:x']);
  });

  it('runs one catch-up per peer at a time: a second request joins the running one', async () => {
    const page = deferred<unknown>();
    let calls = 0;
    node('node2').peers.answer = () => (calls++, page.promise);
    const catchUp = node('node2').get(PeerCatchUp);
    const first = catchUp.syncFrom('node1');
    const second = catchUp.syncFrom('node1');
    page.resolve({ rooms: [], deleted: [], next_cursor: null });
    await Promise.all([first, second]);
    expect(calls).toBe(1);
  });
});
