import { Logger } from '@nestjs/common';
import { loadConfig } from '../../../common/config/load-config';
import { ChatMetrics } from '../../../common/metrics/chat-metrics';
import { ClientErrorFrames } from '../../../common/metrics/client-error-frames';
import { chatErrorCode, FakeSocket } from '../../../testing/fakes';
import { LogCluster } from '../../../testing/log-cluster';
import type { ClientRegistry } from '../../members/client-registry';
import { RequestLimiter } from '../../members/request-limiter';
import { StaleMemberCleanupService } from '../../members/stale-member-cleanup.service';
import { BOOT_ID } from '../../peers/boot-id';
import { MessageEdits } from '../host/message-edits.service';
import { RoomDeletionCoordinator } from '../host/room-deletion.coordinator';
import { RoomHostService } from '../host/room-host.service';
import { UsernameGuard } from '../identity/username-guard';
import { ReplicaService } from '../replica/replica.service';
import { RoomHosts } from '../routing/room-hosts';
import { RoomLocator } from '../routing/room-locator';
import { ConnectionIdentity } from './connection-identity';
import { RoomChangeRequests } from './room-change-requests';
import { MessageChangeRequests } from './message-change-requests.service';
import { RoomHistoryService } from './room-history.service';
import { RoomRequestsService } from './room-requests.service';
import { ReadMarkers } from '../host/read-markers.service';
import { RoomInvites } from '../host/room-invites.service';
import { RoomModeration } from '../host/room-moderation.service';
import { ReadStates } from './read-states';
import { ModeratorLists } from './moderator-lists';

describe(MessageChangeRequests.name, () => {
  /** node1 hosts the room and serves the clients; node2 stores the room's log with it (a majority of two). */
  let cluster: LogCluster;
  let clients: ClientRegistry;
  let requests: RoomRequestsService;
  let sut: MessageChangeRequests;
  let roomId: string;

  const member = async (username: string) => {
    const socket = new FakeSocket();
    const conn = clients.connect(socket.asWebSocket());
    await requests.joinRoom(conn, { room_id: roomId, username });
    return { socket, conn };
  };
  const sent = async (who: Awaited<ReturnType<typeof member>>, username: string, content: string) => {
    await requests.sendMessage(who.conn, { room_id: roomId, username, content });
    await requests.settled(who.conn);
    return who.socket.sent('message_sent').at(-1)!;
  };

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    cluster = await LogCluster.start(['node1', 'node2'], {
      providers: [
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
    sut = node1.get(MessageChangeRequests);
    roomId = (await node1.get(RoomHostService).create('general', 'alice', null)).roomId;
  });

  afterEach(() => cluster.close());

  it('answers the editor after its own message_edited, and every member sees the new text', async () => {
    const bob = await member('bob');
    const carol = await member('carol');
    const message = await sent(bob, 'bob', 'helo');
    await sut.editMessage(bob.conn, { room_id: roomId, username: 'bob', message_id: message.message_id, content: 'hello' });
    const types = bob.socket.types;
    expect(types.indexOf('message_edited')).toBeLessThan(types.indexOf('edit_message_success'));
    expect(bob.socket.sent('edit_message_success')).toEqual([{ room_id: roomId, message_id: message.message_id, sequence_number: message.sequence_number, edited_at: expect.any(String) }]);
    expect(carol.socket.sent('message_edited')).toEqual([expect.objectContaining({ message_id: message.message_id, content: 'hello', username: 'bob' })]);
  });

  it('lets the room\'s creator delete another member\'s message, not edit it', async () => {
    const alice = await member('alice');
    const bob = await member('bob');
    const message = await sent(bob, 'bob', 'rude');
    expect(await chatErrorCode(() => sut.editMessage(alice.conn, { room_id: roomId, username: 'alice', message_id: message.message_id, content: 'nice' }))).toBe('NOT_AUTHOR');
    await sut.deleteMessage(alice.conn, { room_id: roomId, username: 'alice', message_id: message.message_id });
    expect(alice.socket.sent('delete_message_success')).toHaveLength(1);
    expect(bob.socket.sent('message_deleted')).toEqual([expect.objectContaining({ message_id: message.message_id, deleted_by: 'alice' })]);
  });

  it('refuses a connection not in the room, or speaking for another user', async () => {
    const bob = await member('bob');
    const message = await sent(bob, 'bob', 'mine');
    const stranger = clients.connect(new FakeSocket().asWebSocket());
    expect(await chatErrorCode(() => sut.deleteMessage(stranger, { room_id: roomId, username: 'eve', message_id: message.message_id }))).toBe('NOT_MEMBER');
    expect(await chatErrorCode(() => sut.editMessage(bob.conn, { room_id: roomId, username: 'carol', message_id: message.message_id, content: 'x' }))).toBe('UNAUTHORIZED');
  });

  it('shares send_message\'s rate limit: a connection that used its burst on messages cannot edit either', async () => {
    const bob = await member('bob');
    const message = await sent(bob, 'bob', 'first');
    const burst = loadConfig({}).limits.messageBurst;
    for (let i = 1; i < burst; i++) await requests.sendMessage(bob.conn, { room_id: roomId, username: 'bob', content: `m${i}` });
    await requests.settled(bob.conn);
    expect(await chatErrorCode(() => sut.editMessage(bob.conn, { room_id: roomId, username: 'bob', message_id: message.message_id, content: 'x' }))).toBe('RATE_LIMITED');
  });
});
