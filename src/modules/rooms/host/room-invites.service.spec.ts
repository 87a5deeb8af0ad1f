import { Logger } from '@nestjs/common';
import { ChatError } from '../../../common/errors/chat-error';
import { FakeSocket } from '../../../testing/fakes';
import { LogCluster } from '../../../testing/log-cluster';
import { ROOM_INVITE } from '../replication/room-entries';
import { RoomVisibility } from '../replication/room-visibility';
import { RoomHostService } from './room-host.service';
import { RoomInvites } from './room-invites.service';

describe(RoomInvites.name, () => {
  let cluster: LogCluster;
  let sut: RoomInvites;
  let host: RoomHostService;
  let roomId: string;
  const node = (id: string) => cluster.node(id);
  const inviteEntries = () => node('node1').store.logs.entriesOfKind(roomId, ROOM_INVITE).length;
  const code = (p: Promise<unknown>) => p.then(() => 'none', (e: ChatError) => e.code);

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    cluster = await LogCluster.start(['node1', 'node2', 'node3'], { providers: [RoomInvites, RoomHostService] });
    sut = node('node1').get(RoomInvites);
    host = node('node1').get(RoomHostService);
    roomId = (await host.create('hidden', 'alice', null, true)).roomId;
    await host.join(roomId, 'alice', 'node1');
    await cluster.settle();
  });

  afterEach(async () => {
    await cluster.close();
    jest.useRealTimers();
  });

  it('makes the room private on every node: only its creator sees it, others are refused a join as for a room that does not exist', async () => {
    for (const id of ['node1', 'node2', 'node3']) {
      const visibility = node(id).get(RoomVisibility);
      expect([visibility.maySee(roomId, 'alice'), visibility.maySee(roomId, 'bob'), visibility.maySee(roomId, null)]).toEqual([true, false, false]);
    }
    await expect(code(host.join(roomId, 'bob', 'node2'))).resolves.toBe('ROOM_NOT_FOUND');
    expect(host.hostedRooms().map((r) => r.room_id)).toEqual([roomId]);
    expect(node('node1').get(RoomVisibility).visibleTo(host.hostedRooms(), 'alice')).toEqual([expect.objectContaining({ room_id: roomId, private: true })]);
    expect(node('node1').get(RoomVisibility).publicOnly(host.hostedRooms())).toEqual([]);
    // a connection not in it: the answer for an unknown room, for a room it may see NOT_MEMBER
    const visibility = node('node2').get(RoomVisibility);
    expect([visibility.notInRoom(roomId, 'bob').code, visibility.notInRoom('no-such-room', 'bob').code, visibility.notInRoom(roomId, 'alice').code]).toEqual(['ROOM_NOT_FOUND', 'ROOM_NOT_FOUND', 'NOT_MEMBER']);
  });

  it('an invitation is one entry, applied on every node; the invitee connections there are told, even before joining', async () => {
    const bobOn2 = new FakeSocket();
    node('node2').clients.connect(bobOn2.asWebSocket(), 'bob');
    const carolOn2 = new FakeSocket();
    node('node2').clients.connect(carolOn2.asWebSocket(), 'carol');
    const invitation = await sut.invite(roomId, 'alice', 'bob');
    await cluster.settle();
    expect(invitation.logIndex).toBeGreaterThan(0);
    for (const id of ['node1', 'node2', 'node3']) expect(node(id).get(RoomVisibility).maySee(roomId, 'bob')).toBe(true);
    expect(bobOn2.sent('room_invitation')).toEqual([{ room_id: roomId, room_name: 'hidden', invited_by: 'alice' }]);
    expect(carolOn2.sent('room_invitation')).toEqual([]);
    await expect(host.join(roomId, 'bob', 'node2')).resolves.toMatchObject({ joined: true });
  });

  it('writes nothing for someone invited already (a retry), the creator included', async () => {
    await sut.invite(roomId, 'alice', 'bob');
    await cluster.settle();
    await expect(sut.invite(roomId, 'alice', 'bob')).resolves.toEqual({ logIndex: 0 });
    await expect(sut.invite(roomId, 'alice', 'alice')).resolves.toEqual({ logIndex: 0 });
    expect(inviteEntries()).toBe(1);
  });

  it('refuses a requester who is not a member (as not found), public rooms and unknown rooms', async () => {
    await expect(code(sut.invite(roomId, 'mallory', 'mallory'))).resolves.toBe('ROOM_NOT_FOUND');
    const pub = (await host.create('open', 'alice', null)).roomId;
    await host.join(pub, 'alice', 'node1');
    await expect(code(sut.invite(pub, 'alice', 'bob'))).resolves.toBe('INVALID_STATE');
    await expect(code(sut.invite(pub, 'bob', 'carol'))).resolves.toBe('NOT_MEMBER');
    await expect(code(sut.invite('no-such-room', 'alice', 'bob'))).resolves.toBe('ROOM_NOT_FOUND');
    expect(inviteEntries()).toBe(0);
  });

  it('lets a private room share its name with one its creator does not see, and no two rooms one user sees share one', async () => {
    await expect(code(host.create('hidden', 'bob', null))).resolves.toBe('none');
    await expect(code(host.create('hidden', 'alice', null))).resolves.toBe('ROOM_EXISTS');
  });
});
