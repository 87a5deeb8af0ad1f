import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Clock } from '../../../common/clock/clock';
import { loadConfig } from '../../../common/config/load-config';
import { NODE_CONFIG } from '../../../common/config/node-config';
import type { MessageRecord, RoomRecord } from '../../../common/store/chat-records';
import { CHAT_STORE, ChatStore } from '../../../common/store/chat-store';
import { chatErrorCode, FakeClock } from '../../../testing/fakes';
import { RoomEventPublisher } from './room-events.publisher';
import { RoomHostService } from './room-host.service';
import { CommitLedger } from './commit-ledger';
import { LocalWrites } from './local-writes';
import { PeerDirectory } from '../../peers/peer-directory';
import type { ClientRegistry } from '../../members/client-registry';
import type { MemberEvent } from '../../../common/protocol/client-wire';
import { roomRecord as sharedRoomRecord } from '../../../testing/records';

/** Records what the host asked to be published instead of delivering and replicating it; every change is stored by a majority at once. */
class RecordingPublisher {
  readonly roomsChanged: RoomRecord[] = [];
  readonly sequenced: MessageRecord[] = [];
  readonly deleted: { room: RoomRecord; transactionId: string | null }[] = [];
  readonly memberEvents: { type: 'member_joined' | 'member_left'; event: MemberEvent; memberNode: string }[] = [];

  roomChanged(room: RoomRecord): Promise<void> {
    this.roomsChanged.push(room);
    return Promise.resolve();
  }
  messageSequenced(message: MessageRecord): Promise<void> {
    this.sequenced.push(message);
    return Promise.resolve();
  }
  roomDeleted(room: RoomRecord, transactionId: string | null): Promise<void> {
    this.deleted.push({ room, transactionId });
    return Promise.resolve();
  }
  memberChanged(type: 'member_joined' | 'member_left', event: MemberEvent, memberNode: string): Promise<void> {
    this.memberEvents.push({ type, event, memberNode });
    return Promise.resolve();
  }
}

/** The ledger's only use of the registry: showing committed messages to local members. */
class RecordingClients {
  readonly delivered: unknown[] = [];
  deliverMessage(message: unknown): void {
    this.delivered.push(message);
  }
}

const roomRecord = (over: Partial<RoomRecord>): RoomRecord => sharedRoomRecord({ roomId: 'r-x', roomName: 'x', ...over });

describe(RoomHostService.name, () => {
  let moduleRef: TestingModule;
  let store: ChatStore;
  let clock: FakeClock;
  let events: RecordingPublisher;
  let sut: RoomHostService;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    store = ChatStore.inMemory();
    clock = new FakeClock(Date.parse('2026-03-01T12:00:00.000Z'));
    events = new RecordingPublisher();
    moduleRef = await Test.createTestingModule({
      providers: [
        RoomHostService,
        LocalWrites,
        { provide: NODE_CONFIG, useValue: loadConfig({ NODE_ID: 'node1' }) },
        { provide: CHAT_STORE, useValue: store },
        { provide: Clock, useValue: clock },
        { provide: RoomEventPublisher, useValue: events },
        { provide: CommitLedger, useValue: new CommitLedger(new RecordingClients() as unknown as ClientRegistry) },
        // a node without peers is its own majority, and serves what it hosts at once
        { provide: PeerDirectory, useValue: { nodeIds: [], discardRoom: () => undefined } },
      ],
    }).compile();
    sut = moduleRef.get(RoomHostService);
  });

  afterEach(async () => {
    await moduleRef.close();
    store.close();
  });

  const sendMany = (roomId: string, username: string, n: number) =>
    Array.from({ length: n }, (_, i) => sut.send(roomId, username, `message ${i + 1}`, null).message);

  describe('create', () => {
    it('stores an ACTIVE room hosted here, stamped by the clock, and announces it', async () => {
      const room = await sut.create('general', 'alice', 'talk');

      expect(room).toMatchObject({ roomName: 'general', creatorId: 'alice', description: 'talk', hostNode: 'node1', state: 'ACTIVE', lastSequence: 0 });
      expect(room.createdAt).toBe('2026-03-01T12:00:00.000Z');
      expect(store.getRoom(room.roomId)).toEqual(room);
      expect(events.roomsChanged).toEqual([room]);
    });

    it('refuses a name that is already taken with ROOM_EXISTS and publishes nothing more', async () => {
      await sut.create('general', 'alice', null);

      expect(await chatErrorCode(() => sut.create('general', 'bob', null))).toBe('ROOM_EXISTS');
      expect(events.roomsChanged).toHaveLength(1);
      expect(store.listRooms()).toHaveLength(1);
    });
  });

  describe('join', () => {
    it('adds the member and publishes member_joined once, naming the member node', async () => {
      const room = await sut.create('general', 'alice', null);

      const result = await sut.join(room.roomId, 'bob', 'node2');

      expect(result.joined).toBe(true);
      expect(result.members.map((m) => m.username)).toEqual(['bob']);
      expect(events.memberEvents).toEqual([
        { type: 'member_joined', event: { room_id: room.roomId, username: 'bob', member_count: 1, timestamp: '2026-03-01T12:00:00.000Z' }, memberNode: 'node2' },
      ]);
    });

    it('publishes nothing when the user re-joins', async () => {
      const room = await sut.create('general', 'alice', null);
      await sut.join(room.roomId, 'bob', 'node1');

      const again = await sut.join(room.roomId, 'bob', 'node1');

      expect(again.joined).toBe(false);
      expect(again.members).toHaveLength(1);
      expect(events.memberEvents).toHaveLength(1);
    });

    it('replays the last 100 messages, oldest first, and reports the first sequence of the room', async () => {
      const room = await sut.create('general', 'alice', null);
      await sut.join(room.roomId, 'alice', 'node1');
      sendMany(room.roomId, 'alice', 105);

      const result = await sut.join(room.roomId, 'bob', 'node1');

      expect(result.history).toHaveLength(100);
      expect(result.history[0].sequenceNumber).toBe(6);
      expect(result.history[99].sequenceNumber).toBe(105);
      expect(result.firstSequence).toBe(1);
      expect(result.room.lastSequence).toBe(105);
    });

    it('reports firstSequence 0 and no history for an empty room', async () => {
      const room = await sut.create('general', 'alice', null);

      const result = await sut.join(room.roomId, 'bob', 'node1');

      expect(result.history).toEqual([]);
      expect(result.firstSequence).toBe(0);
    });

    it('refuses a room that is not hosted here, and a room being deleted', async () => {
      store.insertRoom(roomRecord({ roomId: 'elsewhere', roomName: 'elsewhere', hostNode: 'node2' }));
      const room = await sut.create('general', 'alice', null);
      store.setRoomState(room.roomId, 'DELETION_PENDING', 'txn-1');

      expect(await chatErrorCode(() => sut.join('elsewhere', 'bob', 'node1'))).toBe('ROOM_NOT_FOUND');
      expect(await chatErrorCode(() => sut.join(room.roomId, 'bob', 'node1'))).toBe('INVALID_STATE');
      expect(store.listMembers(room.roomId)).toEqual([]);
    });
  });

  describe('send', () => {
    let roomId: string;
    beforeEach(async () => {
      roomId = (await sut.create('general', 'alice', null)).roomId;
      await sut.join(roomId, 'alice', 'node1');
    });

    it('numbers messages 1..n without gaps and publishes each once, in order', async () => {
      const sent = sendMany(roomId, 'alice', 5);

      expect(sent.map((m) => m.sequenceNumber)).toEqual([1, 2, 3, 4, 5]);
      expect(events.sequenced.map((m) => m.sequenceNumber)).toEqual([1, 2, 3, 4, 5]);
      expect(events.sequenced.map((m) => m.content)).toEqual(['message 1', 'message 2', 'message 3', 'message 4', 'message 5']);
      expect(store.getRoom(roomId)?.lastSequence).toBe(5);
    });

    it('stamps the message with the clock', async () => {
      clock.advance(1500);
      const { message } = sut.send(roomId, 'alice', 'hi', null);
      expect(message.timestamp).toBe('2026-03-01T12:00:01.500Z');
    });

    it('refuses a user who is not a member with NOT_MEMBER', async () => {
      expect(await chatErrorCode(() => sut.send(roomId, 'mallory', 'hi', null))).toBe('NOT_MEMBER');
      expect(events.sequenced).toEqual([]);
    });

    it('refuses an unknown room with ROOM_NOT_FOUND', async () => {
      expect(await chatErrorCode(() => sut.send('no-such-room', 'alice', 'hi', null))).toBe('ROOM_NOT_FOUND');
    });

    it('refuses a room that is not ACTIVE with INVALID_STATE', async () => {
      store.setRoomState(roomId, 'COMMITTING', 'txn-1');

      expect(await chatErrorCode(() => sut.send(roomId, 'alice', 'hi', null))).toBe('INVALID_STATE');
      expect(store.getRoom(roomId)?.lastSequence).toBe(0);
    });

    it('returns the original message for a repeated client_message_id and publishes nothing', async () => {
      const first = sut.send(roomId, 'alice', 'hi', 'c-1');
      await first.acked;

      const repeat = sut.send(roomId, 'alice', 'hi again', 'c-1');

      expect(first.duplicate).toBe(false);
      expect(repeat).toMatchObject({ message: first.message, duplicate: true });
      await expect(repeat.acked).resolves.toBeUndefined(); // already stored by a majority: answered at once
      expect(events.sequenced).toHaveLength(1);
      expect(store.getRoom(roomId)?.lastSequence).toBe(1);
    });

    it('treats the same client_message_id from another user as a new message', async () => {
      await sut.join(roomId, 'bob', 'node1');
      sut.send(roomId, 'alice', 'hi', 'c-1');

      const bobs = sut.send(roomId, 'bob', 'hi', 'c-1');

      expect(bobs.duplicate).toBe(false);
      expect(bobs.message.sequenceNumber).toBe(2);
    });
  });

  describe('leave', () => {
    let roomId: string;
    beforeEach(async () => {
      roomId = (await sut.create('general', 'alice', null)).roomId;
      await sut.join(roomId, 'alice', 'node1');
      await sut.join(roomId, 'bob', 'node2');
      events.memberEvents.length = 0;
    });

    it('publishes member_left without a reason for an explicit leave', async () => {
      await sut.leave(roomId, 'bob');

      expect(events.memberEvents).toHaveLength(1);
      const { type, event, memberNode } = events.memberEvents[0];
      expect(type).toBe('member_left');
      expect(memberNode).toBe('node2');
      expect(event).toEqual({ room_id: roomId, username: 'bob', member_count: 1, timestamp: '2026-03-01T12:00:00.000Z' });
      expect('reason' in event).toBe(false);
      expect(store.getMember(roomId, 'bob')).toBeNull();
    });

    it('includes the reason when one is given', async () => {
      await sut.leave(roomId, 'bob', 'Inactivity');
      expect(events.memberEvents[0].event.reason).toBe('Inactivity');
    });

    it('refuses a user who is not in the room with NOT_IN_ROOM', async () => {
      expect(await chatErrorCode(() => sut.leave(roomId, 'carol'))).toBe('NOT_IN_ROOM');
      expect(events.memberEvents).toEqual([]);
    });

    it('removes a disconnected member only through the node it is connected through', async () => {
      await sut.join(roomId, 'bob', 'node3'); // bob's node2 connection ended and his client joined again via node3
      // the move is replicated, so every node knows which node now holds the name
      expect(events.memberEvents).toEqual([expect.objectContaining({ type: 'member_joined', memberNode: 'node3' })]);
      await sut.join(roomId, 'bob', 'node3');
      expect(events.memberEvents).toHaveLength(1); // joining again through the same node changes nothing
      events.memberEvents.length = 0;

      expect(await chatErrorCode(() => sut.leave(roomId, 'bob', 'User disconnected', 'node2'))).toBe('NOT_IN_ROOM'); // node2's late notice
      expect(store.getMember(roomId, 'bob')?.nodeId).toBe('node3');
      expect(events.memberEvents).toEqual([]);

      await sut.leave(roomId, 'bob', 'User disconnected', 'node3');
      expect(store.getMember(roomId, 'bob')).toBeNull();
      expect(events.memberEvents.map((e) => e.event.reason)).toEqual(['User disconnected']);
    });
  });

  describe('removeMembersOf', () => {
    it("removes exactly the given node's members from the rooms hosted here, with the reason", async () => {
      const a = (await sut.create('a', 'alice', null)).roomId;
      const b = (await sut.create('b', 'alice', null)).roomId;
      await sut.join(a, 'alice', 'node1');
      await sut.join(a, 'bob', 'node2');
      await sut.join(b, 'carol', 'node2');
      await sut.join(b, 'dave', 'node3');
      // A replica of a room hosted by node3: its members are node3's business.
      store.insertRoom(roomRecord({ roomId: 'replica', roomName: 'replica', hostNode: 'node3' }));
      store.addMember('replica', 'erin', 'node2', clock.iso());
      events.memberEvents.length = 0;

      const removed = sut.removeMembersOf('node2', 'Node unreachable');

      expect(removed).toBe(2);
      expect(store.listMembers(a).map((m) => m.username)).toEqual(['alice']);
      expect(store.listMembers(b).map((m) => m.username)).toEqual(['dave']);
      expect(store.listMembers('replica').map((m) => m.username)).toEqual(['erin']);
      expect(events.memberEvents.map((e) => [e.type, e.event.username, e.event.reason])).toEqual(
        expect.arrayContaining([
          ['member_left', 'bob', 'Node unreachable'],
          ['member_left', 'carol', 'Node unreachable'],
        ]),
      );
      expect(events.memberEvents).toHaveLength(2);
    });

    it('after a restart, keeps the members who joined through the node\'s new run', async () => {
      const a = (await sut.create('a', 'alice', null)).roomId;
      await sut.join(a, 'bob', 'node2', 'boot-old'); // a ghost: his connection died with node2's old run
      await sut.join(a, 'carol', 'node2', 'boot-new'); // joined again through node2 before we saw the restart
      await sut.join(a, 'dave', 'node2'); // a reference node says no boot id: removed, as before
      events.memberEvents.length = 0;

      expect(sut.removeMembersOf('node2', 'User disconnected', 'boot-new')).toBe(2);

      expect(store.listMembers(a).map((m) => m.username)).toEqual(['carol']);
      expect(events.memberEvents.map((e) => e.event.username).sort()).toEqual(['bob', 'dave']);
    });

    it('returns 0 and publishes nothing when the node has no members here', async () => {
      await sut.join((await sut.create('a', 'alice', null)).roomId, 'alice', 'node1');
      events.memberEvents.length = 0;

      expect(sut.removeMembersOf('node2', 'Node unreachable')).toBe(0);
      expect(events.memberEvents).toEqual([]);
    });
  });

  describe('page', () => {
    let roomId: string;
    beforeEach(async () => {
      roomId = (await sut.create('general', 'alice', null)).roomId;
      await sut.join(roomId, 'alice', 'node1');
      sendMany(roomId, 'alice', 10);
    });

    const seqs = (messages: MessageRecord[]) => messages.map((m) => m.sequenceNumber);

    it('without a bound returns the newest messages, ascending, with has_more', async () => {
      const page = sut.page(roomId, { limit: 4 });
      expect(seqs(page.messages)).toEqual([7, 8, 9, 10]);
      expect(page).toMatchObject({ hasMore: true, firstSequence: 1, lastSequence: 10 });
    });

    it('before: the messages just below the bound; has_more until the first message is reached', async () => {
      const middle = sut.page(roomId, { before: 6, limit: 3 });
      expect(seqs(middle.messages)).toEqual([3, 4, 5]);
      expect(middle.hasMore).toBe(true);

      const start = sut.page(roomId, { before: 3, limit: 5 });
      expect(seqs(start.messages)).toEqual([1, 2]);
      expect(start.hasMore).toBe(false);
    });

    it('after: the messages just above the bound; has_more until the last message is reached', async () => {
      const middle = sut.page(roomId, { after: 6, limit: 2 });
      expect(seqs(middle.messages)).toEqual([7, 8]);
      expect(middle.hasMore).toBe(true);

      const end = sut.page(roomId, { after: 8, limit: 5 });
      expect(seqs(end.messages)).toEqual([9, 10]);
      expect(end.hasMore).toBe(false);

      const past = sut.page(roomId, { after: 10, limit: 5 });
      expect(past.messages).toEqual([]);
      expect(past.hasMore).toBe(false);
    });

    it('refuses an unknown room with ROOM_NOT_FOUND', async () => {
      expect(await chatErrorCode(() => sut.page('nope', { limit: 5 }))).toBe('ROOM_NOT_FOUND');
    });
  });

  describe('onApplicationBootstrap (recovery after a restart)', () => {
    it("removes the members that were connected to this node and announces 'User disconnected'", async () => {
      const roomId = (await sut.create('general', 'alice', null)).roomId;
      await sut.join(roomId, 'alice', 'node1');
      await sut.join(roomId, 'bob', 'node2');
      // A room hosted by node2 in which a user of ours is a member: not this host's to change.
      store.insertRoom(roomRecord({ roomId: 'replica', roomName: 'replica', hostNode: 'node2' }));
      store.addMember('replica', 'carol', 'node1', clock.iso());
      events.memberEvents.length = 0;

      await moduleRef.init();

      expect(store.listMembers(roomId).map((m) => m.username)).toEqual(['bob']);
      expect(store.listMembers('replica').map((m) => m.username)).toEqual(['carol']);
      expect(events.memberEvents).toEqual([
        {
          type: 'member_left',
          event: { room_id: roomId, username: 'alice', member_count: 1, timestamp: '2026-03-01T12:00:00.000Z', reason: 'User disconnected' },
          memberNode: 'node1',
        },
      ]);
    });

    it.each(['DELETION_PENDING', 'ROLLING_BACK'] as const)('puts a room left in %s back to ACTIVE and announces it', async (state) => {
      const room = await sut.create('general', 'alice', null);
      store.setRoomState(room.roomId, state, 'txn-1');
      events.roomsChanged.length = 0;

      await moduleRef.init();

      expect(store.getRoom(room.roomId)).toMatchObject({ state: 'ACTIVE', deletionTxn: null });
      expect(events.roomsChanged).toEqual([expect.objectContaining({ roomId: room.roomId, state: 'ACTIVE', deletionTxn: null })]);
      expect(events.deleted).toEqual([]);
    });

    it('completes a deletion that was COMMITTING: room gone, tombstone kept, deletion announced', async () => {
      const room = await sut.create('general', 'alice', null);
      await sut.join(room.roomId, 'bob', 'node2');
      sut.send(room.roomId, 'bob', 'hi', null);
      store.setRoomState(room.roomId, 'COMMITTING', 'txn-9');

      await moduleRef.init();

      expect(store.getRoom(room.roomId)).toBeNull();
      expect(store.listMembers(room.roomId)).toEqual([]);
      expect(store.getTombstone(room.roomId)).toMatchObject({ roomName: 'general', hostNode: 'node1', transactionId: 'txn-9' });
      expect(events.deleted).toEqual([{ room: expect.objectContaining({ roomId: room.roomId }), transactionId: 'txn-9' }]);
    });

    it('leaves ACTIVE rooms and other hosts\u2019 rooms alone', async () => {
      const room = await sut.create('general', 'alice', null);
      store.insertRoom(roomRecord({ roomId: 'replica', roomName: 'replica', hostNode: 'node2', state: 'DELETION_PENDING', deletionTxn: 'txn-2' }));
      events.roomsChanged.length = 0;

      await moduleRef.init();

      expect(store.getRoom(room.roomId)?.state).toBe('ACTIVE');
      expect(store.getRoom('replica')?.state).toBe('DELETION_PENDING');
      expect(events.roomsChanged).toEqual([]);
    });
  });
});
