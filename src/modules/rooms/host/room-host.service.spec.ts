import { Logger } from '@nestjs/common';
import type { MessageRecord } from '../../../common/store/chat-records';
import { chatErrorCode, type FakeSocket } from '../../../testing/fakes';
import { LogCluster } from '../../../testing/log-cluster';
import { TRIM, type TrimData } from '../replication/room-entries';
import { RoomLogs } from '../replication/room-logs.service';
import { RoomHostService } from './room-host.service';

const T0 = '2026-01-01T00:00:00.000Z';

describe(RoomHostService.name, () => {
  let cluster: LogCluster;
  let sut: RoomHostService;
  const node = (id: string) => cluster.node(id);
  const store = () => node('node1').store;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    cluster = await LogCluster.start(['node1', 'node2', 'node3'], { providers: [RoomHostService] });
    sut = node('node1').get(RoomHostService);
  });

  afterEach(() => cluster.close());

  const sendMany = (roomId: string, username: string, n: number) => Promise.all(Array.from({ length: n }, (_, i) => sut.send(roomId, username, `message ${i + 1}`, null)));
  /** A room created here with alice in it, known on every node. */
  const room = async (name = 'general') => {
    const roomId = (await sut.create(name, 'alice', null)).roomId;
    await sut.join(roomId, 'alice', 'node1');
    await cluster.settle();
    return roomId;
  };

  describe('create', () => {
    it('stores an ACTIVE room hosted here, stamped by the clock, on every node once a majority stored it', async () => {
      const created = await sut.create('general', 'alice', 'talk');

      expect(created).toMatchObject({ roomName: 'general', creatorId: 'alice', description: 'talk', hostNode: 'node1', hostEpoch: 1, state: 'ACTIVE', lastSequence: 0, createdAt: T0 });
      await cluster.settle();
      for (const id of cluster.ids) expect(node(id).store.rooms.getRoom(created.roomId)).toEqual(created);
      expect(sut.hostedRooms()).toEqual([expect.objectContaining({ room_id: created.roomId, room_name: 'general', admin_node: 'node1', member_count: 0 })]);
    });

    it('refuses a name that is already taken with ROOM_EXISTS and writes nothing', async () => {
      await sut.create('general', 'alice', null);
      expect(await chatErrorCode(() => sut.create('general', 'bob', null))).toBe('ROOM_EXISTS');
      expect(store().rooms.listRooms()).toHaveLength(1);
      expect(store().logs.allRooms()).toHaveLength(1);
    });
  });

  describe('join', () => {
    it('adds the member everywhere; the members already there, on any node, hear it once', async () => {
      const roomId = await room();
      const alice = node('node1').member(roomId, 'alice');
      const dave = node('node2').member(roomId, 'dave');

      const result = await sut.join(roomId, 'bob', 'node2', 'boot-2');
      await cluster.settle();

      expect(result.joined).toBe(true);
      expect(result.members.map((m) => m.username)).toEqual(['alice', 'bob']);
      for (const socket of [alice, dave]) expect(socket.sent('member_joined')).toEqual([{ room_id: roomId, username: 'bob', member_count: 2, timestamp: T0 }]);
      expect(node('node3').store.members.getMember(roomId, 'bob')).toMatchObject({ nodeId: 'node2', bootId: 'boot-2' });

      const again = await sut.join(roomId, 'bob', 'node2');
      await cluster.settle();
      expect(again.joined).toBe(false);
      expect(alice.sent('member_joined')).toHaveLength(1);
    });

    it('replays the last 100 committed messages, oldest first, and reports the first sequence of the room', async () => {
      const roomId = await room();
      await sendMany(roomId, 'alice', 105);

      const result = await sut.join(roomId, 'bob', 'node1');

      expect(result.history.map((m) => m.sequenceNumber)).toEqual(Array.from({ length: 100 }, (_, i) => i + 6));
      expect(result).toMatchObject({ firstSequence: 1, room: { lastSequence: 105 } });
    });

    it('reports firstSequence 0 and no history for an empty room', async () => {
      const result = await sut.join(await room(), 'bob', 'node1');
      expect(result).toMatchObject({ history: [], firstSequence: 0 });
    });

    it('refuses an unknown room (ROOM_NOT_FOUND), a room hosted by another node (retryably, naming it) and a room being deleted', async () => {
      const roomId = await room();
      await cluster.settle();
      expect(await chatErrorCode(() => sut.join('nope', 'bob', 'node1'))).toBe('ROOM_NOT_FOUND');
      const elsewhere = await node('node2').get(RoomHostService).join(roomId, 'bob', 'node2').catch((e: unknown) => e);
      expect(elsewhere).toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE', details: { retryable: true, admin_node: 'node1', host_epoch: 1 } });

      sut.markDeleting(roomId, true);
      expect(await chatErrorCode(() => sut.join(roomId, 'bob', 'node1'))).toBe('INVALID_STATE');
      expect(store().members.getMember(roomId, 'bob')).toBeNull();
    });
  });

  describe('send', () => {
    let roomId: string;
    let bob: FakeSocket;
    beforeEach(async () => {
      roomId = await room();
      await sut.join(roomId, 'bob', 'node2');
      await cluster.settle();
      bob = node('node2').member(roomId, 'bob');
    });

    it('numbers messages 1..n in the order sent, and every member sees each once, in order', async () => {
      const sent = await sendMany(roomId, 'alice', 5);
      await cluster.settle();

      expect(sent.map((s) => s.message.sequenceNumber)).toEqual([1, 2, 3, 4, 5]);
      expect(bob.sent('new_message').map((m) => [m.sequence_number, m.content])).toEqual(sent.map((s) => [s.message.sequenceNumber, s.message.content]));
      for (const id of cluster.ids) expect(node(id).store.rooms.getRoom(roomId)?.lastSequence).toBe(5);
    });

    it('stamps the message with the host\'s clock', async () => {
      node('node1').clock.advance(1500);
      const { message } = await sut.send(roomId, 'alice', 'hi', null);
      expect(message.timestamp).toBe('2026-01-01T00:00:01.500Z');
    });

    it('refuses a non-member (NOT_MEMBER), an unknown room (ROOM_NOT_FOUND) and a room being deleted (INVALID_STATE), writing nothing', async () => {
      expect(await chatErrorCode(() => sut.send(roomId, 'mallory', 'hi', null))).toBe('NOT_MEMBER');
      expect(await chatErrorCode(() => sut.send('no-such-room', 'alice', 'hi', null))).toBe('ROOM_NOT_FOUND');
      sut.markDeleting(roomId, true);
      expect(await chatErrorCode(() => sut.send(roomId, 'alice', 'hi', null))).toBe('INVALID_STATE');
      sut.markDeleting(roomId, false);
      await cluster.settle();
      expect(store().rooms.getRoom(roomId)?.lastSequence).toBe(0);
      expect(bob.sent('new_message')).toEqual([]);
    });

    it('answers a repeated client_message_id with the original message, writing nothing new', async () => {
      const first = await sut.send(roomId, 'alice', 'hi', 'c-1');
      const repeat = await sut.send(roomId, 'alice', 'hi again', 'c-1');
      await cluster.settle();

      expect(first.duplicate).toBe(false);
      expect(repeat).toEqual({ message: first.message, duplicate: true });
      expect(bob.sent('new_message')).toHaveLength(1);
      expect(store().rooms.getRoom(roomId)?.lastSequence).toBe(1);
    });

    it('answers a retry of a message retention has since removed with its id, sequence and timestamp; every log keeps only its metadata', async () => {
      const first = await sut.send(roomId, 'alice', 'hi', 'c-1');
      await sut.send(roomId, 'alice', 'kept', null);
      await node('node1').get(RoomLogs).propose(roomId, { kind: TRIM, data: { before_sequence: 2, reason: 'count', timestamp: T0 } satisfies TrimData });
      await cluster.settle();
      for (const id of cluster.ids) {
        expect(node(id).store.messages.messagesAfter(roomId, 0, 10).map((m) => m.content)).toEqual(['kept']);
        expect(node(id).store.logs.findByClientKey(roomId, 'alice\u0000c-1')?.data).toEqual({ message_id: first.message.messageId, username: 'alice', timestamp: first.message.timestamp, client_message_id: 'c-1', trimmed: true });
      }

      const repeat = await sut.send(roomId, 'alice', 'hi again', 'c-1');
      expect(repeat).toMatchObject({ duplicate: true, message: { messageId: first.message.messageId, sequenceNumber: 1, timestamp: first.message.timestamp, clientMessageId: 'c-1' } });
      await cluster.settle();
      expect(bob.sent('new_message').map((m) => m.content)).toEqual(['hi', 'kept']);
    });

    it('treats the same client_message_id from another user as a new message', async () => {
      await sut.send(roomId, 'alice', 'hi', 'c-1');
      const bobs = await sut.send(roomId, 'bob', 'hi', 'c-1');
      expect(bobs).toMatchObject({ duplicate: false, message: { sequenceNumber: 2 } });
    });
  });

  describe('leave', () => {
    let roomId: string;
    let alice: FakeSocket;
    beforeEach(async () => {
      roomId = await room();
      await sut.join(roomId, 'bob', 'node2');
      alice = node('node1').member(roomId, 'alice');
    });

    it('tells the members member_left without a reason for an explicit leave, with one when given', async () => {
      await sut.join(roomId, 'carol', 'node3');
      await sut.leave(roomId, 'bob');
      await sut.leave(roomId, 'carol', 'Inactivity');

      expect(alice.sent('member_left')).toEqual([
        { room_id: roomId, username: 'bob', member_count: 2, timestamp: T0 },
        { room_id: roomId, username: 'carol', member_count: 1, timestamp: T0, reason: 'Inactivity' },
      ]);
      expect(store().members.getMember(roomId, 'bob')).toBeNull();
    });

    it('refuses a user who is not in the room with NOT_IN_ROOM', async () => {
      expect(await chatErrorCode(() => sut.leave(roomId, 'carol'))).toBe('NOT_IN_ROOM');
      expect(alice.sent('member_left')).toEqual([]);
    });

    it('removes a disconnected member only through the node it is connected through', async () => {
      await sut.join(roomId, 'bob', 'node3'); // bob's node2 connection ended and his client joined again via node3
      expect(await chatErrorCode(() => sut.leave(roomId, 'bob', 'User disconnected', 'node2'))).toBe('NOT_IN_ROOM'); // node2's late notice
      expect(store().members.getMember(roomId, 'bob')?.nodeId).toBe('node3');

      await sut.leave(roomId, 'bob', 'User disconnected', 'node3');
      expect(store().members.getMember(roomId, 'bob')).toBeNull();
      expect(alice.sent('member_left').map((e) => e.reason)).toEqual(['User disconnected']);
    });
  });

  describe('removeMembersOf', () => {
    it("removes exactly the node's members from the rooms hosted here, with the reason", async () => {
      const a = await room('a');
      const b = (await sut.create('b', 'alice', null)).roomId;
      await sut.join(a, 'bob', 'node2');
      await sut.join(b, 'carol', 'node2');
      await sut.join(b, 'dave', 'node3');
      // a room node2 hosts: its members are node2's business
      const theirs = (await node('node2').get(RoomHostService).create('theirs', 'erin', null)).roomId;
      await node('node2').get(RoomHostService).join(theirs, 'erin', 'node2');
      await cluster.settle();

      expect(sut.removeMembersOf('node2', 'Node unreachable')).toBe(2);
      await cluster.settle();

      expect(store().members.listMembers(a).map((m) => m.username)).toEqual(['alice']);
      expect(store().members.listMembers(b).map((m) => m.username)).toEqual(['dave']);
      expect(store().members.listMembers(theirs).map((m) => m.username)).toEqual(['erin']);
    });

    it("after a restart, keeps the members who joined through the node's new run", async () => {
      const a = await room();
      await sut.join(a, 'bob', 'node2', 'boot-old'); // a ghost: his connection died with node2's old run
      await sut.join(a, 'carol', 'node2', 'boot-new'); // joined again through node2 before we saw the restart
      await sut.join(a, 'dave', 'node2'); // a reference node says no boot id: removed
      const alice = node('node1').member(a, 'alice');

      expect(sut.removeMembersOf('node2', 'User disconnected', 'boot-new')).toBe(2);
      await cluster.settle();

      expect(store().members.listMembers(a).map((m) => m.username)).toEqual(['alice', 'carol']);
      expect(alice.sent('member_left').map((e) => e.username).sort()).toEqual(['bob', 'dave']);
    });

    it('returns 0 when the node has no members here', async () => {
      await room();
      expect(sut.removeMembersOf('node2', 'Node unreachable')).toBe(0);
    });
  });

  describe('page', () => {
    let roomId: string;
    beforeEach(async () => {
      roomId = await room();
      await sendMany(roomId, 'alice', 10);
    });

    const seqs = (messages: MessageRecord[]) => messages.map((m) => m.sequenceNumber);

    it('without a bound returns the newest messages, ascending, with has_more', () => {
      const page = sut.page(roomId, { limit: 4 });
      expect(seqs(page.messages)).toEqual([7, 8, 9, 10]);
      expect(page).toMatchObject({ hasMore: true, firstSequence: 1, lastSequence: 10 });
    });

    it('before: the messages just below the bound; has_more until the first message is reached', () => {
      expect(sut.page(roomId, { before: 6, limit: 3 })).toMatchObject({ messages: [{ sequenceNumber: 3 }, { sequenceNumber: 4 }, { sequenceNumber: 5 }], hasMore: true });
      const start = sut.page(roomId, { before: 3, limit: 5 });
      expect(seqs(start.messages)).toEqual([1, 2]);
      expect(start.hasMore).toBe(false);
    });

    it('after: the messages just above the bound; has_more until the last message is reached', () => {
      expect(sut.page(roomId, { after: 6, limit: 2 })).toMatchObject({ hasMore: true });
      const end = sut.page(roomId, { after: 8, limit: 5 });
      expect(seqs(end.messages)).toEqual([9, 10]);
      expect(end.hasMore).toBe(false);
      expect(sut.page(roomId, { after: 10, limit: 5 })).toMatchObject({ messages: [], hasMore: false });
    });

    it('answers from any node\'s copy (every message stored is committed), and ROOM_NOT_FOUND for an unknown room', async () => {
      await cluster.settle();
      expect(seqs(node('node3').get(RoomHostService).page(roomId, { limit: 3 }).messages)).toEqual([8, 9, 10]);
      expect(await chatErrorCode(() => sut.page('nope', { limit: 5 }))).toBe('ROOM_NOT_FOUND');
    });
  });

  it('refuses with STORE_UNAVAILABLE while this node cannot write (its disk, not the host, is the problem)', async () => {
    const roomId = await room();
    jest.spyOn(store().transactions, 'writesFailing', 'get').mockReturnValue(true);
    expect(await chatErrorCode(() => sut.send(roomId, 'alice', 'hi', null))).toBe('STORE_UNAVAILABLE');
    expect(await chatErrorCode(() => sut.create('other', 'alice', null))).toBe('STORE_UNAVAILABLE');
  });
});
