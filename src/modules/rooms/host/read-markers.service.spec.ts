import { Logger } from '@nestjs/common';
import { ChatError } from '../../../common/errors/chat-error';
import { FakeSocket } from '../../../testing/fakes';
import { LogCluster } from '../../../testing/log-cluster';
import { UsernameGuard } from '../identity/username-guard';
import { READ_MARKER } from '../replication/room-entries';
import { HostPeerRequests } from './host-peer-requests.service';
import { MessageEdits } from './message-edits.service';
import { ReadMarkers } from './read-markers.service';
import { RoomDeletionCoordinator } from './room-deletion.coordinator';
import { RoomHostService } from './room-host.service';

describe(ReadMarkers.name, () => {
  let cluster: LogCluster;
  let sut: ReadMarkers;
  let roomId: string;
  const node = (id: string) => cluster.node(id);
  const markerEntries = () => node('node1').store.logs.entriesOfKind(roomId, READ_MARKER).length;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    cluster = await LogCluster.start(['node1', 'node2', 'node3'], {
      providers: [ReadMarkers, HostPeerRequests, RoomHostService, RoomDeletionCoordinator, MessageEdits, { provide: UsernameGuard, useValue: { assertFreeForPeer: async () => undefined } }],
    });
    sut = node('node1').get(ReadMarkers);
    const host = node('node1').get(RoomHostService);
    roomId = (await host.create('general', 'alice', null)).roomId;
    await host.join(roomId, 'alice', 'node1');
    await host.join(roomId, 'bob', 'node2');
    for (const text of ['one', 'two', 'three', 'four']) await host.send(roomId, 'alice', text, null);
    await cluster.settle();
  });

  afterEach(async () => {
    await cluster.close();
    jest.useRealTimers();
  });

  it('moves the marker on every node and tells each of the user\'s connections there, nobody else', async () => {
    const clients = node('node2').clients;
    const [tab1, tab2, other] = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
    clients.register(clients.connect(tab1.asWebSocket()), roomId, 'bob', 4);
    clients.register(clients.connect(tab2.asWebSocket()), roomId, 'bob', 4);
    clients.register(clients.connect(other.asWebSocket()), roomId, 'carol', 4);
    const mark = await sut.mark(roomId, 'bob', 2);
    await cluster.settle();
    expect(mark).toEqual({ sequence: 2, logIndex: expect.any(Number) });
    expect(mark.logIndex).toBeGreaterThan(0);
    for (const id of ['node1', 'node2', 'node3']) expect(node(id).store.readMarkers.readState(roomId, 'bob')).toEqual({ lastRead: 2, unreadCount: 2 });
    const event = { room_id: roomId, username: 'bob', sequence_number: 2 };
    expect(tab1.sent('read_marker')).toEqual([event]);
    expect(tab2.sent('read_marker')).toEqual([event]);
    expect(other.sent('read_marker')).toEqual([]);
  });

  it('writes nothing for a mark that would not move it, and answers with the marker as it is', async () => {
    await sut.mark(roomId, 'bob', 3);
    const written = markerEntries();
    expect(await sut.mark(roomId, 'bob', 1)).toEqual({ sequence: 3, logIndex: 0 });
    expect(await sut.mark(roomId, 'bob', 3)).toEqual({ sequence: 3, logIndex: 0 });
    expect(markerEntries()).toBe(written);
  });

  it('marks no further than the room\'s last message', async () => {
    expect((await sut.mark(roomId, 'bob', 1_000_000)).sequence).toBe(4);
    expect(node('node1').store.readMarkers.readState(roomId, 'bob')).toEqual({ lastRead: 4, unreadCount: 0 });
  });

  it('a burst of marks while one is being committed joins it when it reaches as far (one entry)', async () => {
    const marks = [sut.mark(roomId, 'bob', 4), sut.mark(roomId, 'bob', 2), sut.mark(roomId, 'bob', 3)];
    expect((await Promise.all(marks)).map((m) => m.sequence)).toEqual([4, 4, 4]);
    expect(markerEntries()).toBe(1);
  });

  it('refuses a user who is not a member', async () => {
    await expect(sut.mark(roomId, 'mallory', 1)).rejects.toEqual(new ChatError('NOT_MEMBER', 'You are not a member of this room'));
  });

  it('serves a peer\'s forwarded mark_read with the same checks (refusals are results)', async () => {
    const peer = node('node1').get(HostPeerRequests);
    expect(await peer.markRead(roomId, 'bob', 2)).toEqual({ success: true, sequence_number: 2, log_index: expect.any(Number) });
    expect(await peer.markRead(roomId, 'bob', 1)).toEqual({ success: true, sequence_number: 2, log_index: 0 });
    expect(await peer.markRead(roomId, 'mallory', 1)).toMatchObject({ success: false, error_code: 'NOT_MEMBER' });
    expect(await peer.markRead(roomId, 'bob', -1)).toMatchObject({ success: false, error_code: 'INVALID_REQUEST' });
  });
});
