import { Logger } from '@nestjs/common';
import type { ForwardItem } from '../../../common/protocol/peer-wire';
import { peek } from '../../../testing/deferred';
import { LogCluster } from '../../../testing/log-cluster';
import { UsernameGuard } from '../identity/username-guard';
import { HostPeerRequests } from './host-peer-requests.service';
import { MessageEdits } from './message-edits.service';
import { RoomDeletionCoordinator } from './room-deletion.coordinator';
import { RoomHostService } from './room-host.service';
import { ReadMarkers } from './read-markers.service';

const item = (content: string, over: Partial<ForwardItem> = {}): ForwardItem => ({ room_id: 'r?', username: 'bob', content, client_message_id: null, ...over });

describe(HostPeerRequests.name, () => {
  let cluster: LogCluster;
  let sut: HostPeerRequests;
  let roomId: string;
  const node = (id: string) => cluster.node(id);
  /** bob, a member through node2, forwards through it. */
  const forward = (...items: ForwardItem[]) => sut.sequenceAll(items.map((i) => ({ ...i, room_id: i.room_id === 'r?' ? roomId : i.room_id })));

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    cluster = await LogCluster.start(['node1', 'node2', 'node3'], {
      providers: [HostPeerRequests, RoomHostService, RoomDeletionCoordinator, MessageEdits, ReadMarkers, { provide: UsernameGuard, useValue: { assertFreeForPeer: async () => undefined } }],
    });
    sut = node('node1').get(HostPeerRequests);
    const host = node('node1').get(RoomHostService);
    roomId = (await host.create('general', 'alice', null)).roomId;
    await host.join(roomId, 'bob', 'node2');
    await cluster.settle();
  });

  afterEach(async () => {
    await cluster.close();
    jest.useRealTimers();
  });

  describe('forwarded messages', () => {
    it('answers a batch item by item, each once a majority stored it, numbered in the order given', async () => {
      cluster.network.cut.add('node2');
      cluster.network.cut.add('node3');
      const answering = forward(item('one'), item('two'));
      await cluster.settle();
      expect(await peek(answering)).toBe('pending');

      cluster.network.cut.delete('node3');
      await cluster.advance(2000);
      expect(await answering).toEqual([
        { success: true, message_id: expect.any(String), sequence_number: 1, timestamp: '2026-01-01T00:00:00.000Z' },
        { success: true, message_id: expect.any(String), sequence_number: 2, timestamp: '2026-01-01T00:00:00.000Z' },
      ]);
      expect(node('node3').store.messages.messagesAfter(roomId, 0, 10).map((m) => m.content)).toEqual(['one', 'two']);
    });

    it('an item no majority confirmed in time is answered retryably; the retry with the same client_message_id is the same message', async () => {
      cluster.network.cut.add('node2');
      cluster.network.cut.add('node3');
      const first = forward(item('hi', { client_message_id: 'c1' }));
      await cluster.advance(node('node1').config.quorumTimeoutMs + 200);
      expect(await first).toEqual([expect.objectContaining({ success: false, error_code: 'ADMIN_NODE_UNAVAILABLE' })]);

      cluster.network.cut.clear();
      const retry = forward(item('hi', { client_message_id: 'c1' }));
      await cluster.advance(2000);
      expect(await retry).toEqual([expect.objectContaining({ success: true, sequence_number: 1, duplicate: true })]);
      expect(node('node2').store.messages.messagesAfter(roomId, 0, 10)).toHaveLength(1);
    });

    it('a retry sent while the first still waits is answered with the first one\'s message', async () => {
      cluster.network.cut.add('node2');
      cluster.network.cut.add('node3');
      const first = forward(item('hi', { client_message_id: 'c1' }));
      const retry = forward(item('hi', { client_message_id: 'c1' }));
      cluster.network.cut.clear();
      await cluster.advance(2000);
      const [[a], [b]] = await Promise.all([first, retry]);
      expect(a).toMatchObject({ success: true, sequence_number: 1 });
      expect(b).toMatchObject({ success: true, sequence_number: 1, duplicate: true });
    });

    it('checks each item like a client\'s send, answering refusals as results (not faults) beside the items that succeed', async () => {
      const answers = await forward(item('ok'), item(''), item('x'.repeat(5001)), item('hi', { username: 'mallory' }), item('hi', { client_message_id: 'c'.repeat(200) }), { room_id: 5 } as never, item('hi', { room_id: 'nope' }));
      expect(answers.map((a) => (a.success ? 'ok' : a.error_code))).toEqual(['ok', 'INVALID_CONTENT', 'INVALID_CONTENT', 'NOT_MEMBER', 'INVALID_REQUEST', 'INVALID_REQUEST', 'ROOM_NOT_FOUND']);
    });

    it('a forward to a room that moved names its new host and epoch, so the sender can follow', async () => {
      cluster.network.cut.add('node1');
      for (const id of ['node2', 'node3']) node(id).peers.suspect('node1');
      await cluster.advance(2000);
      cluster.network.cut.delete('node1');
      for (const id of ['node2', 'node3']) node(id).peers.answering('node1');
      await cluster.advance(2000); // node1 hears the new host

      const [answer] = await forward(item('hi'));
      expect(answer).toMatchObject({ success: false, error_code: 'ADMIN_NODE_UNAVAILABLE', admin_node: 'node2', host_epoch: 2 });
    });
  });

  describe('members', () => {
    it('joins a member through its node, answering with the room as the host has it', async () => {
      await forward(item('before'));
      const joined = await sut.join(roomId, 'carol', 'node3', 'boot-3');
      expect(joined).toMatchObject({
        success: true,
        message: 'Successfully joined room',
        room_info: { room_id: roomId, members: ['bob', 'carol'], admin_node: 'node1' },
        messages: [expect.objectContaining({ content: 'before', sequence_number: 1 })],
        creator_id: 'alice',
        first_sequence: 1,
        last_sequence: 1,
      });
      expect((await sut.join(roomId, 'carol', 'node3', null)).message).toBe('Already in room, re-registered');
      expect(await sut.join('nope', 'carol', 'node3', null)).toMatchObject({ success: false, error_code: 'ROOM_NOT_FOUND', room_info: null });
      expect(await sut.join(roomId, '', 'node3', null)).toMatchObject({ success: false, error_code: 'INVALID_REQUEST' });
    });

    it('lets a node take out only the members connected through it; a disconnect of someone already gone is fine', async () => {
      expect(await sut.leave(roomId, 'bob', 'node3')).toMatchObject({ success: false, error_code: 'NOT_IN_ROOM' });
      expect(await sut.memberDisconnected(roomId, 'bob', 'node2', 'Inactivity')).toEqual({ success: true, message: 'Member removed successfully' });
      expect(await sut.memberDisconnected(roomId, 'bob', 'node2', null)).toEqual({ success: true, message: 'User not in room' });
      expect(node('node1').store.members.getMember(roomId, 'bob')).toBeNull();
    });
  });

  it('pages messages within 1..1000 and answers an unknown room with its code', async () => {
    await forward(item('one'), item('two'), item('three'));
    expect(sut.messages(roomId, 0, null, 2)).toMatchObject({ success: true, messages: [{ sequence_number: 1 }, { sequence_number: 2 }], first_sequence: 1, last_sequence: 3 });
    expect(sut.messages(roomId, 0, 3, 0).messages.map((m) => m.sequence_number)).toEqual([2]); // at least one
    expect(sut.messages('nope', 0, null, 10)).toEqual({ success: false, messages: [], first_sequence: 0, last_sequence: 0, error_code: 'ROOM_NOT_FOUND' });
  });

  it('deletes a room for its creator, and says why it does not for anyone else', async () => {
    expect(await sut.deleteRoom(roomId, 'bob', 'node2')).toMatchObject({ success: false, error_code: 'UNAUTHORIZED' });
    expect(await sut.deleteRoom(roomId, 'alice', 'node2')).toEqual({ success: true, transaction_id: expect.any(String) });
    expect(sut.hostedRooms()).toEqual([]);
  });

  describe('forwarded edits and deletions of messages', () => {
    const sent = async (content: string) => {
      const [r] = await forward(item(content));
      if (!r.success) throw new Error(r.error);
      return r;
    };

    it('writes an edit into the room\'s log without taking a sequence number, and answers with the message as it is now', async () => {
      const first = await sent('helo');
      const answer = await sut.editMessage(roomId, first.message_id, 'bob', 'hello');
      expect(answer).toEqual({ success: true, log_index: expect.any(Number), message: expect.objectContaining({ message_id: first.message_id, content: 'hello', sequence_number: 1, edited_at: expect.any(String) }) });
      expect((await sent('next')).sequence_number).toBe(2);
      await cluster.settle();
      expect(node('node3').store.messages.findById(roomId, first.message_id)).toMatchObject({ content: 'hello', editedAt: expect.any(String) });
    });

    it('lets the author or the room\'s creator delete; a repeat is answered again and writes nothing', async () => {
      const first = await sent('one');
      await node('node1').get(RoomHostService).join(roomId, 'alice', 'node1');
      const deleted = await sut.deleteMessage(roomId, first.message_id, 'alice');
      expect(deleted).toMatchObject({ success: true, message: { content: '', deleted: true } });
      const entries = node('node1').store.logs.lastIndex(roomId);
      expect(await sut.deleteMessage(roomId, first.message_id, 'alice')).toMatchObject({ success: true, log_index: 0 });
      expect(node('node1').store.logs.lastIndex(roomId)).toBe(entries);
    });

    it('an edit written right after a deletion of the same message is answered MESSAGE_NOT_FOUND, and changes nothing', async () => {
      const first = await sent('racing');
      const [deleted, edited] = await Promise.all([sut.deleteMessage(roomId, first.message_id, 'bob'), sut.editMessage(roomId, first.message_id, 'bob', 'too late')]);
      expect(deleted).toMatchObject({ success: true });
      expect(edited).toMatchObject({ success: false, error_code: 'MESSAGE_NOT_FOUND' });
      expect(node('node1').store.messages.findById(roomId, first.message_id)).toMatchObject({ content: '', deletedAt: expect.any(String) });
    });

    it('refuses in the result struct: not the author, an unknown message, bad content or id, not a member', async () => {
      const first = await sent('mine');
      await node('node1').get(RoomHostService).join(roomId, 'carol', 'node3');
      expect(await sut.editMessage(roomId, first.message_id, 'carol', 'x')).toMatchObject({ success: false, error_code: 'NOT_AUTHOR' });
      expect(await sut.deleteMessage(roomId, first.message_id, 'carol')).toMatchObject({ success: false, error_code: 'NOT_AUTHOR' });
      expect(await sut.editMessage(roomId, 'no-such-id', 'bob', 'x')).toMatchObject({ success: false, error_code: 'MESSAGE_NOT_FOUND' });
      expect(await sut.editMessage(roomId, first.message_id, 'bob', 'x'.repeat(5001))).toMatchObject({ success: false, error_code: 'INVALID_CONTENT' });
      expect(await sut.editMessage(roomId, first.message_id, 'bob', 42)).toMatchObject({ success: false, error_code: 'INVALID_CONTENT' });
      expect(await sut.deleteMessage(roomId, 'x'.repeat(65), 'bob')).toMatchObject({ success: false, error_code: 'INVALID_REQUEST' });
      expect(await sut.deleteMessage(roomId, first.message_id, 'mallory')).toMatchObject({ success: false, error_code: 'NOT_MEMBER' });
    });
  });
});
