import { Logger } from '@nestjs/common';
import { ChatMetrics } from '../../../common/metrics/chat-metrics';
import { ClientErrorFrames } from '../../../common/metrics/client-error-frames';
import type { NodeConfig } from '../../../common/config/node-config';
import type { ChatStore } from '../../../common/store/chat-store';
import { ChatError } from '../../../common/errors/chat-error';
import { loadConfig } from '../../../common/config/load-config';
import { chatErrorCode, FakeSocket } from '../../../testing/fakes';
import { LogCluster, type FakePeerDirectory } from '../../../testing/log-cluster';
import type { ClientRegistry } from '../../members/client-registry';
import { BOOT_ID } from '../../peers/boot-id';
import { RoomRequestsService } from './room-requests.service';
import { ReplicaService } from '../replica/replica.service';
import { RoomDeletionCoordinator } from '../host/room-deletion.coordinator';
import { RoomHostService } from '../host/room-host.service';
import { RoomLocator } from '../routing/room-locator';
import { RoomHosts } from '../routing/room-hosts';
import { UsernameGuard } from '../identity/username-guard';
import { MessageEdits } from '../host/message-edits.service';
import { ConnectionIdentity } from './connection-identity';
import { RoomHistoryService } from './room-history.service';
import { RequestLimiter } from '../../members/request-limiter';
import { StaleMemberCleanupService } from '../../members/stale-member-cleanup.service';
import { roomRecord } from '../../../testing/records';
import { ReadMarkers } from '../host/read-markers.service';
import { RoomInvites } from '../host/room-invites.service';
import { RoomModeration } from '../host/room-moderation.service';
import { ReadStates } from './read-states';
import { ModeratorLists } from './moderator-lists';

/** A client that has not read what was sent to it until the test says so. */
class SlowSocket extends FakeSocket {
  bufferedAmount = 1024 * 1024; // over the replay's high-water mark, under WS_MAX_BUFFERED_BYTES
}

describe(RoomRequestsService.name, () => {
  /** node1 serves the clients; node2 stores every room's log with it (a majority of two), and answers no other call. */
  let cluster: LogCluster;
  let store: ChatStore;
  let peers: FakePeerDirectory;
  let clients: ClientRegistry;
  let host: RoomHostService;
  let sut: RoomRequestsService;
  /** Mutable so a test can switch to token mode (the services read it per request). */
  let config: { -readonly [K in keyof NodeConfig]: NodeConfig[K] };

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    cluster = await LogCluster.start(['node1', 'node2'], {
      providers: [
        RoomRequestsService,
        RoomHistoryService,
        RequestLimiter,
        RoomHostService,
        RoomLocator,
        RoomHosts,
        UsernameGuard,
        ConnectionIdentity,
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
    ({ store, peers, clients } = node1);
    config = node1.config as typeof config;
    sut = node1.get(RoomRequestsService);
    host = node1.get(RoomHostService);
  });

  afterEach(async () => {
    jest.useRealTimers(); // a spec that faked them and failed midway
    await cluster.close();
  });

  const connect = () => {
    const socket = new FakeSocket();
    return { socket, conn: clients.connect(socket.asWebSocket()) };
  };
  const localRoom = async (name = 'general') => (await host.create(name, 'alice', null)).roomId;
  /** A room this node knows to be hosted by node2 without a log of it (a room a reference node hosts, say). */
  const remoteRoom = () => {
    store.rooms.insertRoom(roomRecord({ roomId: 'remote-room', roomName: 'remote', creatorId: 'carol', hostNode: 'node2' }));
    return 'remote-room';
  };

  describe('identity', () => {
    it('binds the connection to the username of its first successful join and refuses any other with UNAUTHORIZED', async () => {
      const roomId = await localRoom();
      const { socket, conn } = connect();
      await sut.joinRoom(conn, { room_id: roomId, username: 'alice' });
      const framesBefore = socket.frames.length;

      expect(await chatErrorCode(() => sut.joinRoom(conn, { room_id: roomId, username: 'bob' }))).toBe('UNAUTHORIZED');
      expect(await chatErrorCode(() => sut.sendMessage(conn, { room_id: roomId, username: 'bob', content: 'hi' }))).toBe('UNAUTHORIZED');
      expect(await chatErrorCode(() => sut.createRoom(conn, { room_name: 'other', creator_id: 'bob' }))).toBe('UNAUTHORIZED');
      expect(await chatErrorCode(() => sut.leaveRoom(conn, { room_id: roomId, username: 'bob' }))).toBe('UNAUTHORIZED');

      expect(conn.username).toBe('alice');
      expect(store.members.listMembers(roomId).map((m) => m.username)).toEqual(['alice']);
      expect(store.rooms.findRoomByName('other')).toBeNull();
      expect(socket.frames.length).toBe(framesBefore);
    });

    it('a join that fails does not bind the username', async () => {
      const roomId = await localRoom();
      const { conn } = connect();

      expect(await chatErrorCode(() => sut.joinRoom(conn, { room_id: 'no-such-room', username: 'bob' }))).toBe('ROOM_NOT_FOUND');
      expect(conn.username).toBeNull();

      await sut.joinRoom(conn, { room_id: roomId, username: 'alice' });
      expect(conn.username).toBe('alice');
    });
  });

  describe('sendMessage', () => {
    it('refuses with NOT_MEMBER when this connection is not in the room, even if the user is a member through another one', async () => {
      config.authMode = 'token'; // one user on two sockets is only possible with a token proving the name
      const roomA = await localRoom('a');
      const roomB = await localRoom('b');
      const first = connect();
      const second = connect();
      await sut.joinRoom(first.conn, { room_id: roomA, username: 'alice' });
      await sut.joinRoom(second.conn, { room_id: roomB, username: 'alice' });

      expect(await chatErrorCode(() => sut.sendMessage(first.conn, { room_id: roomB, username: 'alice', content: 'hi' }))).toBe('NOT_MEMBER');
      expect(store.rooms.getRoom(roomB)?.lastSequence).toBe(0);
      expect(second.socket.sent('new_message')).toEqual([]);
    });

    it('refuses every request of a second connection as a name a live connection holds (USERNAME_TAKEN), until the holder closes', async () => {
      const roomA = await localRoom('a');
      const roomB = await localRoom('b');
      const holder = connect();
      const intruder = connect();
      await sut.joinRoom(holder.conn, { room_id: roomA, username: 'alice' });

      expect(await chatErrorCode(() => sut.joinRoom(intruder.conn, { room_id: roomB, username: 'alice' }))).toBe('USERNAME_TAKEN');
      expect(await chatErrorCode(() => sut.sendMessage(intruder.conn, { room_id: roomA, username: 'alice', content: 'hi' }))).toBe('USERNAME_TAKEN');
      expect(await chatErrorCode(() => sut.leaveRoom(intruder.conn, { room_id: roomA, username: 'alice' }))).toBe('USERNAME_TAKEN');
      expect(await chatErrorCode(() => sut.deleteRoom(intruder.conn, { room_id: roomA, username: 'alice' }))).toBe('USERNAME_TAKEN');
      expect(await chatErrorCode(() => sut.createRoom(intruder.conn, { room_name: 'c', creator_id: 'alice' }))).toBe('USERNAME_TAKEN');
      expect(store.members.listMembers(roomA).map((m) => m.username)).toEqual(['alice']);
      expect(store.members.getMember(roomB, 'alice')).toBeNull();
      expect(intruder.conn.username).toBeNull();

      await sut.disconnect(holder.conn);
      await sut.joinRoom(intruder.conn, { room_id: roomB, username: 'alice' });
      expect(store.members.getMember(roomB, 'alice')).not.toBeNull();
    });

    it('lets a connection that left all its rooms be replaced, and then refuses it the name', async () => {
      const roomId = await localRoom();
      const first = connect();
      const second = connect();
      await sut.joinRoom(first.conn, { room_id: roomId, username: 'alice' });
      await sut.leaveRoom(first.conn, { room_id: roomId, username: 'alice' });

      await sut.joinRoom(second.conn, { room_id: roomId, username: 'alice' });
      expect(await chatErrorCode(() => sut.joinRoom(first.conn, { room_id: roomId, username: 'alice' }))).toBe('USERNAME_TAKEN');
    });

    it('asks the node a name is a member through, and refuses only when that node says its connection is open', async () => {
      const roomId = await localRoom();
      store.members.addMember(roomId, 'dave', 'node2', '2026-01-01T00:00:00.000Z');
      peers.answer = async () => true;
      const { conn } = connect();
      expect(await chatErrorCode(() => sut.joinRoom(conn, { room_id: roomId, username: 'dave' }))).toBe('USERNAME_TAKEN');
      expect(peers.calls).toEqual([{ nodeId: 'node2', method: 'is_username_held', params: ['dave'] }]);

      peers.answer = async () => false;
      await sut.joinRoom(conn, { room_id: roomId, username: 'dave' });
      expect(store.members.getMember(roomId, 'dave')?.nodeId).toBe('node1');
    });

    it('delivers new_message to every socket in the room, then confirms to the sender with message_sent', async () => {
      const roomId = await localRoom();
      const alice = connect();
      const bob = connect();
      await sut.joinRoom(alice.conn, { room_id: roomId, username: 'alice' });
      await sut.joinRoom(bob.conn, { room_id: roomId, username: 'bob' });

      await sut.sendMessage(alice.conn, { room_id: roomId, username: 'alice', content: 'hello', client_message_id: 'c-1' });
      await sut.settled(alice.conn); // a local send is answered once a majority stored it, while the next request is read

      expect(alice.socket.types.slice(-2)).toEqual(['new_message', 'message_sent']);
      expect(alice.socket.sent('message_sent')[0]).toMatchObject({ room_id: roomId, sequence_number: 1, client_message_id: 'c-1' });
      expect(bob.socket.sent('new_message')).toEqual([expect.objectContaining({ content: 'hello', sequence_number: 1, username: 'alice' })]);
    });
  });

  describe('joinRoom (room hosted here)', () => {
    let roomId: string;
    let writer: ReturnType<typeof connect>;
    beforeEach(async () => {
      roomId = await localRoom();
      writer = connect();
      await sut.joinRoom(writer.conn, { room_id: roomId, username: 'alice' });
      for (const content of ['one', 'two', 'three']) await sut.sendMessage(writer.conn, { room_id: roomId, username: 'alice', content });
      await sut.settled(writer.conn); // local sends are sequenced together and answered at their majority
    });

    it('answers join_room_success, then replays the history in sequence order, then delivers live messages once', async () => {
      const { socket, conn } = connect();

      await sut.joinRoom(conn, { room_id: roomId, username: 'bob' });
      await sut.sendMessage(writer.conn, { room_id: roomId, username: 'alice', content: 'four' });
      await sut.settled(writer.conn);

      expect(socket.types).toEqual(['join_room_success', 'new_message', 'new_message', 'new_message', 'new_message']);
      expect(socket.sent('join_room_success')[0]).toEqual({
        room_id: roomId,
        room_name: 'general',
        description: null,
        members: ['alice', 'bob'],
        member_count: 2,
        admin_node: 'node1',
        creator_id: 'alice',
        first_sequence: 1,
        last_sequence: 3,
        // bob has marked nothing read yet: everything before his join is unread
        last_read: 0,
        unread_count: 3,
        // nobody appointed yet; bob, no moderator, is not told who is banned
        moderators: [],
        moderation_log: [],
      });
      expect(socket.sent('new_message').map((m) => [m.sequence_number, m.content])).toEqual([
        [1, 'one'],
        [2, 'two'],
        [3, 'three'],
        [4, 'four'],
      ]);
    });

    it('names the moderators to every joiner, and the banned names only to the creator and the moderators', async () => {
      config.authMode = 'token'; // one name on several sockets (a reload, a second look): only a token allows it while the first is open
      const moderation = cluster.node('node1').get(RoomModeration);
      const replica = cluster.node('node1').get(ReplicaService);
      for (const req of [
        { action: 'add_moderator', username: 'alice', member: 'mod' },
        { action: 'ban', username: 'alice', member: 'mallory', reason: 'spam' },
        { action: 'ban', username: 'alice', member: 'trent' },
        { action: 'unban', username: 'alice', member: 'trent' },
      ] as const) {
        await replica.waitForChange(roomId, (await moderation.moderate(roomId, req)).logIndex);
      }
      const joined = async (username: string) => {
        const { socket, conn } = connect();
        await sut.joinRoom(conn, { room_id: roomId, username });
        return socket.sent('join_room_success')[0];
      };

      expect(await joined('bob')).toMatchObject({ moderators: ['mod'] });
      expect(await joined('bob')).not.toHaveProperty('banned');
      expect(await joined('mod')).toMatchObject({ moderators: ['mod'], banned: ['mallory'] });
      const creator = connect(); // alice again, as after a reload
      await sut.joinRoom(creator.conn, { room_id: roomId, username: 'alice', since_sequence: 3 });
      expect(creator.socket.sent('join_room_success')[0]).toMatchObject({ creator_id: 'alice', moderators: ['mod'], banned: ['mallory'] });
      expect(creator.socket.sent('join_room_success')[0]).not.toHaveProperty('private');
    });

    it('marks a private room as the room lists do', async () => {
      const secret = (await host.create('secret', 'alice', null, true)).roomId;
      await sut.joinRoom(writer.conn, { room_id: secret, username: 'alice' });
      expect(writer.socket.sent('join_room_success').at(-1)).toMatchObject({ room_name: 'secret', private: true, moderators: [], banned: [] });
      expect(writer.socket.sent('join_room_success').at(-1)).not.toHaveProperty('direct');
    });

    it('with since_sequence replays only the messages after it', async () => {
      const { socket, conn } = connect();

      await sut.joinRoom(conn, { room_id: roomId, username: 'bob', since_sequence: 1 });

      expect(socket.sent('new_message').map((m) => m.sequence_number)).toEqual([2, 3]);
    });

    it('a plain join replays the whole room from its first message (the reference client shows nothing past a gap); history_limit asks for the last N', async () => {
      const sent = [];
      for (let i = 4; i <= 250; i++) sent.push(host.send(roomId, 'alice', `m${i}`, null)); // the host path, below the sender's rate limit
      await Promise.all(sent); // committed: a join replays only what a majority stored
      const all = connect();
      await sut.joinRoom(all.conn, { room_id: roomId, username: 'bob' });
      expect(all.socket.sent('new_message').map((m) => m.sequence_number)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));

      const last = connect();
      await sut.joinRoom(last.conn, { room_id: roomId, username: 'carol', history_limit: 100 });
      expect(last.socket.sent('new_message').map((m) => m.sequence_number)).toEqual(Array.from({ length: 100 }, (_, i) => i + 151));
    });

    it('streams the replay in pieces that wait for the socket to drain; live messages sent meanwhile follow it once, in order', async () => {
      await Promise.all(Array.from({ length: 297 }, (_, i) => host.send(roomId, 'alice', `m${i + 4}`, null)));
      const socket = new SlowSocket();
      const conn = clients.connect(socket.asWebSocket());

      jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }); // the replay polls the socket's buffer on a timer
      /** Lets the replay's timer run while the nodes' writes and calls go on. */
      const run = async (ms: number) => {
        for (let t = 0; t < ms; t += 50) {
          await cluster.settle();
          await jest.advanceTimersByTimeAsync(50);
        }
      };
      const joining = sut.joinRoom(conn, { room_id: roomId, username: 'bob' });
      await run(1000);
      const shownWhilePaused = socket.sent('new_message').length;
      expect(shownWhilePaused).toBeGreaterThan(0);
      expect(shownWhilePaused).toBeLessThan(300);
      const live = host.send(roomId, 'alice', 'live', null); // 301, committed while the replay waits
      await run(200);
      await live;
      expect(socket.sent('new_message').length).toBe(shownWhilePaused);

      expect(socket.closed).toBeNull();
      socket.bufferedAmount = 0; // the client reads again
      await run(1000);
      jest.useRealTimers();
      await joining;
      expect(socket.sent('new_message').map((m) => m.sequence_number)).toEqual(Array.from({ length: 301 }, (_, i) => i + 1));
    });

    it('tells the members already in the room, but not the joiner, that someone joined', async () => {
      const { socket, conn } = connect();

      await sut.joinRoom(conn, { room_id: roomId, username: 'bob' });

      expect(writer.socket.sent('member_joined')).toEqual([expect.objectContaining({ room_id: roomId, username: 'bob', member_count: 2 })]);
      expect(socket.sent('member_joined')).toEqual([]);
    });
  });

  describe('limits', () => {
    it('refuses a flood of sends with RATE_LIMITED and a retry hint; what was accepted before stays', async () => {
      const roomId = await localRoom();
      const { socket, conn } = connect();
      await sut.joinRoom(conn, { room_id: roomId, username: 'alice' });
      const burst = loadConfig({}).limits.messageBurst;
      for (let i = 0; i < burst; i++) await sut.sendMessage(conn, { room_id: roomId, username: 'alice', content: `m${i}` });

      const refusal = await sut.sendMessage(conn, { room_id: roomId, username: 'alice', content: 'one too many' }).catch((e: ChatError) => e);
      expect(refusal).toMatchObject({ code: 'RATE_LIMITED', details: { retry_after_ms: expect.any(Number) } });
      expect((refusal as ChatError).message).toMatch(/try again in \d+\.\d s/);
      await sut.settled(conn);
      expect(store.rooms.getRoom(roomId)!.lastSequence).toBe(burst);
      expect(socket.sent('message_sent')).toHaveLength(burst);
    });

    it('refuses joining more rooms than a connection may be in with LIMIT_EXCEEDED', async () => {
      const max = loadConfig({}).limits.roomsPerConnection;
      const limiter = cluster.node('node1').get(RequestLimiter);
      const { conn } = connect();
      for (let i = 0; i < max; i++) conn.enter(`room-${i}`, { username: 'alice', cursor: 0 });
      expect(() => limiter.admitRoomMembership(conn, 'one-more')).toThrow(expect.objectContaining({ code: 'LIMIT_EXCEEDED' }));
      expect(() => limiter.admitRoomMembership(conn, 'room-0')).not.toThrow(); // joining a room it is in again is fine
    });
  });

  describe('a room hosted on a failed peer', () => {
    it('join is refused with ADMIN_NODE_UNAVAILABLE without calling the peer', async () => {
      const roomId = remoteRoom();
      peers.failed.add('node2');
      const { socket, conn } = connect();

      expect(await chatErrorCode(() => sut.joinRoom(conn, { room_id: roomId, username: 'bob' }))).toBe('ADMIN_NODE_UNAVAILABLE');
      expect(peers.calls).toEqual([]);
      expect(conn.rooms.size).toBe(0);
      expect(socket.frames).toEqual([]);
    });

    it('send is refused with a message_error ADMIN_NODE_UNAVAILABLE without calling the peer', async () => {
      const roomId = remoteRoom();
      peers.failed.add('node2');
      const { socket, conn } = connect();
      clients.register(conn, roomId, 'bob', 0);
      conn.username = 'bob';

      await sut.sendMessage(conn, { room_id: roomId, username: 'bob', content: 'hi' });
      await sut.settled(conn); // forwarded sends report their outcome on their own
      expect(socket.frames).toEqual([
        // retryable: a failover may be under way, and the retry goes to the new host
        { type: 'message_error', data: { room_id: roomId, error: 'Administrator node unavailable', error_code: 'ADMIN_NODE_UNAVAILABLE', retryable: true, retry_after_ms: expect.any(Number) } },
      ]);
      expect(peers.calls).toEqual([]);
    });

    it('a host that is not known failed but does not answer also gives ADMIN_NODE_UNAVAILABLE', async () => {
      const roomId = remoteRoom();
      const { conn } = connect();

      expect(await chatErrorCode(() => sut.joinRoom(conn, { room_id: roomId, username: 'bob' }))).toBe('ADMIN_NODE_UNAVAILABLE');
      expect(peers.calls.map((c) => [c.nodeId, c.method])).toEqual([['node2', 'join_room']]);
      // the host learns which run of this node the membership belongs to (see removeMembersOf), and the epoch this node knows it at
      expect(peers.calls[0].params).toEqual([roomId, 'bob', 'node1', 'boot-1', 1]);
    });
  });

  describe('a private room hosted elsewhere, whose latest invitation this node has not applied yet', () => {
    /** node2 hosts it; this node applied its first entry (private, carol its creator) but not the invitation of bob the host answered. */
    const privateRemoteRoom = () => {
      const roomId = remoteRoom();
      store.privacy.markPrivate(roomId, false);
      store.privacy.invite(roomId, 'carol', 'carol', '2026-12-07T10:00:00.000Z');
      return roomId;
    };
    const hostSays = (reply: Record<string, unknown>) => {
      peers.answer = async (_node, method) => {
        if (method !== 'join_room') throw new Error('no answer');
        return reply;
      };
    };

    it("bob's join is decided by the host, which has the invitation (acknowledged once a majority stored it), not refused here as a room that does not exist", async () => {
      const roomId = privateRemoteRoom();
      hostSays({ success: true, room_info: { room_id: roomId, room_name: 'remote', description: null, members: ['carol', 'bob'], member_count: 2, admin_node: 'node2' }, messages: [], first_sequence: 0, last_sequence: 0 });
      const { socket, conn } = connect();

      await sut.joinRoom(conn, { room_id: roomId, username: 'bob' });
      expect(peers.calls.map((c) => [c.nodeId, c.method, c.params[1]])).toEqual([['node2', 'join_room', 'bob']]);
      expect(socket.sent('join_room_success')).toEqual([expect.objectContaining({ room_id: roomId, members: ['carol', 'bob'] })]);
      expect(conn.username).toBe('bob');
    });

    it('every refusal of a name this node does not see invited is ROOM_NOT_FOUND, word for word, retryable ones and a deletion under way too', async () => {
      const roomId = privateRemoteRoom();
      const { socket, conn } = connect();
      const refusal = async () => {
        const e = await sut.joinRoom(conn, { room_id: roomId, username: 'bob' }).then(() => null, (x: ChatError) => x);
        return e && { code: e.code, message: e.message, details: e.details };
      };
      const notFound = { code: 'ROOM_NOT_FOUND', message: 'Room not found', details: {} };

      expect(await refusal()).toEqual(notFound); // the host does not answer: ADMIN_NODE_UNAVAILABLE for a room one may see
      hostSays({ success: false, message: 'Room not found', error_code: 'ROOM_NOT_FOUND', room_info: null });
      expect(await refusal()).toEqual(notFound);
      hostSays({ success: false, message: 'The room has no host right now', error_code: 'ADMIN_NODE_UNAVAILABLE', room_info: null, admin_node: 'node2', host_epoch: 2 });
      expect(await refusal()).toEqual(notFound);
      store.rooms.setRoomState(roomId, 'DELETION_PENDING', 'txn-1');
      expect(await refusal()).toEqual(notFound); // INVALID_STATE would tell that the room exists
      expect(conn.username).toBeNull();
      expect(conn.rooms.size).toBe(0);
      expect(socket.frames).toEqual([]);
    });
  });

  describe('room lists right after a join through this node', () => {
    it("carry the joiner's read state for a room hosted elsewhere before this node applied the host's member entry", async () => {
      const roomId = remoteRoom();
      peers.answer = async (_node, method) => {
        if (method === 'join_room') return { success: true, room_info: { room_id: roomId, room_name: 'remote', description: null, members: ['bob'], member_count: 1, admin_node: 'node2' }, messages: [], first_sequence: 0, last_sequence: 0 };
        if (method === 'get_hosted_rooms') return [{ room_id: roomId, room_name: 'remote', description: null, member_count: 1, admin_node: 'node2', creator_id: 'carol' }];
        throw new Error('no answer');
      };
      const { socket, conn } = connect();
      await sut.joinRoom(conn, { room_id: roomId, username: 'bob' });
      expect(store.members.getMember(roomId, 'bob')).toBeNull(); // node2's member_joined entry has not reached this node

      await sut.discoverRooms(conn);
      expect(socket.sent('global_rooms_list')[0].rooms).toEqual([expect.objectContaining({ room_id: roomId, last_read: 0, unread_count: 0 })]);
      // a room neither this connection nor the store has the user in gets no read state
      const other = connect();
      await sut.joinRoom(other.conn, { room_id: await localRoom(), username: 'dora' });
      await sut.discoverRooms(other.conn);
      expect(other.socket.sent('global_rooms_list')[0].rooms.find((r) => r.room_id === roomId)).not.toHaveProperty('last_read');
    });
  });

  describe('after this node stepped down as a room host', () => {
    const leader = (node: string, epoch: number) => ({ role: 'leader' as const, leader: node, epoch });
    const follower = (node: string | null, epoch: number) => ({ role: 'follower' as const, leader: node, epoch });

    it('joins its connected members again at the new host (it removed them as members of a silent node)', async () => {
      const roomId = remoteRoom();
      for (const username of ['bob', 'carol', 'bob']) clients.register(connect().conn, roomId, username, 0);
      sut.onLeadership(roomId, follower('node2', 2), leader('node1', 1));
      await new Promise((r) => setImmediate(r));
      expect(peers.calls.map((c) => [c.nodeId, c.method, c.params[1]])).toEqual([
        ['node2', 'join_room', 'bob'],
        ['node2', 'join_room', 'carol'],
      ]);
    });

    it('waits for the new host when it is not known yet as the node steps down', async () => {
      const roomId = remoteRoom();
      clients.register(connect().conn, roomId, 'bob', 0);
      sut.onLeadership(roomId, follower(null, 1), leader('node1', 1));
      await new Promise((r) => setImmediate(r));
      expect(peers.calls).toEqual([]);
      sut.onLeadership(roomId, follower('node2', 2), follower(null, 1));
      await new Promise((r) => setImmediate(r));
      expect(peers.calls.map((c) => [c.method, c.params[1]])).toEqual([['join_room', 'bob']]);
    });

    it('does nothing when the room merely moved between other nodes, or when this node takes it back', async () => {
      const roomId = remoteRoom();
      clients.register(connect().conn, roomId, 'bob', 0);
      sut.onLeadership(roomId, follower('node3', 2), follower('node2', 1));
      sut.onLeadership(roomId, follower(null, 2), leader('node1', 1));
      sut.onLeadership(roomId, leader('node1', 3), follower(null, 2));
      await new Promise((r) => setImmediate(r));
      expect(peers.calls).toEqual([]);
    });
  });

  describe('disconnect', () => {
    it("removes the user from the room with 'User disconnected' unless it is still there on another socket", async () => {
      config.authMode = 'token';
      const roomId = await localRoom();
      const watcher = connect();
      const first = connect();
      const second = connect();
      await sut.joinRoom(watcher.conn, { room_id: roomId, username: 'carol' });
      await sut.joinRoom(first.conn, { room_id: roomId, username: 'bob' });
      await sut.joinRoom(second.conn, { room_id: roomId, username: 'bob' });

      await sut.disconnect(first.conn);
      expect(store.members.getMember(roomId, 'bob')).not.toBeNull();
      expect(watcher.socket.sent('member_left')).toEqual([]);

      await sut.disconnect(second.conn);
      expect(store.members.getMember(roomId, 'bob')).toBeNull();
      expect(watcher.socket.sent('member_left')).toEqual([expect.objectContaining({ username: 'bob', reason: 'User disconnected', member_count: 1 })]);
    });
  });
});
