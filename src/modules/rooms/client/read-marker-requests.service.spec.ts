import { Logger } from '@nestjs/common';
import { ChatMetrics } from '../../../common/metrics/chat-metrics';
import { ClientErrorFrames } from '../../../common/metrics/client-error-frames';
import { chatErrorCode, FakeSocket } from '../../../testing/fakes';
import { LogCluster } from '../../../testing/log-cluster';
import type { ClientRegistry } from '../../members/client-registry';
import { RequestLimiter } from '../../members/request-limiter';
import { StaleMemberCleanupService } from '../../members/stale-member-cleanup.service';
import { BOOT_ID } from '../../peers/boot-id';
import { MessageEdits } from '../host/message-edits.service';
import { ReadMarkers } from '../host/read-markers.service';
import { RoomInvites } from '../host/room-invites.service';
import { RoomModeration } from '../host/room-moderation.service';
import { RoomDeletionCoordinator } from '../host/room-deletion.coordinator';
import { RoomHostService } from '../host/room-host.service';
import { UsernameGuard } from '../identity/username-guard';
import { ReplicaService } from '../replica/replica.service';
import { RoomHosts } from '../routing/room-hosts';
import { RoomLocator } from '../routing/room-locator';
import { ConnectionIdentity } from './connection-identity';
import { RoomChangeRequests } from './room-change-requests';
import { MessageChangeRequests } from './message-change-requests.service';
import { MessageSearch } from './message-search.service';
import { ReadMarkerRequests } from './read-marker-requests.service';
import { ReadStates } from './read-states';
import { ModeratorLists } from './moderator-lists';
import { RoomHistoryService } from './room-history.service';
import { RoomRequestsService } from './room-requests.service';

describe('ReadMarkerRequests and MessageSearch', () => {
  /** node1 hosts the room and serves the clients; node2 stores the room's log with it (a majority of two). */
  let cluster: LogCluster;
  let clients: ClientRegistry;
  let requests: RoomRequestsService;
  let marks: ReadMarkerRequests;
  let search: MessageSearch;
  let roomId: string;

  const member = async (username: string) => {
    const socket = new FakeSocket();
    const conn = clients.connect(socket.asWebSocket());
    await requests.joinRoom(conn, { room_id: roomId, username });
    return { socket, conn };
  };
  const sendAll = async (who: Awaited<ReturnType<typeof member>>, username: string, ...contents: string[]) => {
    for (const content of contents) await requests.sendMessage(who.conn, { room_id: roomId, username, content });
    await requests.settled(who.conn);
  };

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    cluster = await LogCluster.start(['node1', 'node2'], {
      providers: [
        ReadMarkerRequests,
        MessageSearch,
        MessageChangeRequests,
        RoomRequestsService,
        RoomHistoryService,
        RequestLimiter,
        RoomHostService,
        RoomLocator,
        RoomHosts,
        UsernameGuard,
        ConnectionIdentity,
        RoomChangeRequests,
        MessageEdits,
        ReadMarkers,
        RoomInvites,
        RoomModeration,
        ReadStates,
        ModeratorLists,
        ReplicaService,
        RoomDeletionCoordinator,
        ChatMetrics,
        ClientErrorFrames,
        { provide: BOOT_ID, useValue: 'boot-1' },
        { provide: StaleMemberCleanupService, useValue: { subscribe: () => undefined } },
      ],
    });
    const node1 = cluster.node('node1');
    clients = node1.clients;
    requests = node1.get(RoomRequestsService);
    marks = node1.get(ReadMarkerRequests);
    search = node1.get(MessageSearch);
    roomId = (await node1.get(RoomHostService).create('general', 'alice', null)).roomId;
  });

  afterEach(() => cluster.close());

  it('answers mark_read after the requester\'s own read_marker, with the read state; a mark that moves nothing gets only the answer', async () => {
    const bob = await member('bob');
    const carol = await member('carol');
    await sendAll(carol, 'carol', 'one', 'two', 'three');
    await marks.markRead(bob.conn, { room_id: roomId, username: 'bob', sequence_number: 2 });
    const types = bob.socket.types;
    expect(types.indexOf('read_marker')).toBeLessThan(types.indexOf('mark_read_success'));
    expect(bob.socket.sent('mark_read_success')).toEqual([{ room_id: roomId, username: 'bob', sequence_number: 2, last_read: 2, unread_count: 1 }]);
    expect(carol.socket.sent('read_marker')).toEqual([]);
    await marks.markRead(bob.conn, { room_id: roomId, username: 'bob', sequence_number: 1 });
    expect(bob.socket.sent('read_marker')).toHaveLength(1);
    expect(bob.socket.sent('mark_read_success').at(-1)).toEqual({ room_id: roomId, username: 'bob', sequence_number: 2, last_read: 2, unread_count: 1 });
    requests.listRooms(bob.conn);
    expect(bob.socket.sent('rooms_list').at(-1)!.rooms).toEqual([expect.objectContaining({ room_id: roomId, last_read: 2, unread_count: 1 })]);
  });

  it('searches the room for a member, newest first, and refuses anyone else', async () => {
    const bob = await member('bob');
    await sendAll(bob, 'bob', 'lunch at noon', 'no', 'lunch again');
    await search.searchMessages(bob.conn, { room_id: roomId, username: 'bob', query: 'LUNCH', limit: 1 });
    expect(bob.socket.sent('search_results')).toEqual([
      { room_id: roomId, query: 'LUNCH', results: [expect.objectContaining({ sequence_number: 3, content: 'lunch again', username: 'bob', snippet: '«lunch» again' })], next_before_sequence: 3 },
    ]);
    const stranger = clients.connect(new FakeSocket().asWebSocket());
    expect(await chatErrorCode(() => search.searchMessages(stranger, { room_id: roomId, username: 'eve', query: 'lunch' }))).toBe('NOT_MEMBER');
    expect(await chatErrorCode(() => search.searchMessages(bob.conn, { room_id: roomId, username: 'bob', query: '?!' }))).toBe('INVALID_REQUEST');
    expect(await chatErrorCode(() => marks.markRead(stranger, { room_id: roomId, username: 'eve', sequence_number: 1 }))).toBe('NOT_MEMBER');
  });
});
