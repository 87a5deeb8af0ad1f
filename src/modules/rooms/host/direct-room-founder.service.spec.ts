import { Logger } from '@nestjs/common';
import { ChatError } from '../../../common/errors/chat-error';
import { directRoomFounder, directRoomId } from '../../../common/protocol/direct-rooms';
import { LogCluster } from '../../../testing/log-cluster';
import { ROOM } from '../replication/room-entries';
import { RoomVisibility } from '../replication/room-visibility';
import { DirectRoomFounder } from './direct-room-founder.service';
import { RoomDeletionCoordinator } from './room-deletion.coordinator';
import { RoomHostService } from './room-host.service';
import { RoomInvites } from './room-invites.service';

describe(DirectRoomFounder.name, () => {
  const nodes = ['node1', 'node2', 'node3'];
  let cluster: LogCluster;
  const founderId = directRoomFounder(directRoomId('dave', 'erin'), nodes);
  const code = (p: Promise<unknown>) => p.then(() => 'none', (e: ChatError) => e.code);

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    cluster = await LogCluster.start(nodes, { providers: [DirectRoomFounder, RoomHostService, RoomInvites, RoomDeletionCoordinator] });
  });

  afterEach(async () => {
    await cluster.close();
    jest.useRealTimers();
  });

  it('founds the pair\'s room once, whichever end opens it and however many opens race', async () => {
    const sut = cluster.node(founderId).get(DirectRoomFounder);
    const ids = await Promise.all([sut.ensure('dave', 'erin'), sut.ensure('erin', 'dave'), sut.ensure('dave', 'erin')]);
    await cluster.settle();
    expect(new Set(ids)).toEqual(new Set([directRoomId('erin', 'dave')]));
    await expect(sut.ensure('erin', 'dave')).resolves.toBe(ids[0]);
    const roomId = ids[0];
    expect(cluster.node(founderId).store.logs.entriesOfKind(roomId, ROOM)).toHaveLength(1);
    for (const id of nodes) {
      const visibility = cluster.node(id).get(RoomVisibility);
      expect([visibility.maySee(roomId, 'dave'), visibility.maySee(roomId, 'erin'), visibility.maySee(roomId, 'frank')]).toEqual([true, true, false]);
      expect(visibility.isDirect(roomId)).toBe(true);
    }
  });

  it('is refused (retryably) on a node that does not found the pair\'s room, and for a pair of one', async () => {
    const other = nodes.find((n) => n !== founderId)!;
    await expect(code(cluster.node(other).get(DirectRoomFounder).ensure('dave', 'erin'))).resolves.toBe('ADMIN_NODE_UNAVAILABLE');
    await expect(code(cluster.node(founderId).get(DirectRoomFounder).ensure('dave', 'dave'))).resolves.toBe('INVALID_REQUEST');
  });

  it('keeps everyone else out: no invitations, no deletion, no join', async () => {
    const roomId = await cluster.node(founderId).get(DirectRoomFounder).ensure('dave', 'erin');
    const host = cluster.node(founderId).get(RoomHostService);
    await host.join(roomId, 'dave', founderId);
    await expect(code(cluster.node(founderId).get(RoomInvites).invite(roomId, 'dave', 'frank'))).resolves.toBe('INVALID_STATE');
    await expect(code(cluster.node(founderId).get(RoomDeletionCoordinator).deleteRoom(roomId, 'dave'))).resolves.toBe('INVALID_STATE');
    await expect(code(host.join(roomId, 'frank', founderId))).resolves.toBe('ROOM_NOT_FOUND');
  });
});
