import { appendMessages as append, messageRecord as msg, roomRecord as room } from '../../testing/records';
import { ChatStore } from './chat-store';
import { MessageRepository } from './message.repository';

describe(MessageRepository.name, () => {
  let store: ChatStore;
  let sut: MessageRepository;
  beforeEach(() => {
    store = ChatStore.inMemory();
    sut = store.messages;
    store.rooms.insertRoom(room());
  });
  afterEach(() => store.close());

  it('stores every message applied (not only the last 100) and counts the last as the room\'s', () => {
    const stored = append(store, 250);
    expect(store.rooms.getRoom('r1')!.lastSequence).toBe(250);
    const all = sut.messagesAfter('r1', 0, 1000);
    expect(all).toHaveLength(250);
    expect(all.map((m) => m.content)).toEqual(stored.map((m) => m.content));
    expect(sut.firstSequence('r1')).toBe(1);
  });

  it('keeps rooms apart', () => {
    store.rooms.insertRoom(room({ roomId: 'r2', roomName: 'other' }));
    append(store, 3);
    append(store, 1, { roomId: 'r2' });
    expect(store.rooms.getRoom('r1')!.lastSequence).toBe(3);
    expect(store.rooms.getRoom('r2')!.lastSequence).toBe(1);
    expect(sut.messagesAfter('r2', 0, 10)).toHaveLength(1);
  });

  it('leaves the room\'s last sequence where it was when an insert is refused (a client_message_id already used)', () => {
    append(store, 1, { clientMessageId: 'c-1' });
    store.rooms.getRoom('r1'); // cached
    expect(() => sut.insertMessage(msg(2, { clientMessageId: 'c-1' }))).toThrow(/UNIQUE/);
    expect(store.rooms.getRoom('r1')!.lastSequence).toBe(1);
    expect(sut.messagesAfter('r1', 0, 10)).toHaveLength(1);
  });

  it('finds a message by client_message_id per room and username', () => {
    const [m] = append(store, 1, { clientMessageId: 'x' });
    expect(sut.findByClientMessageId('r1', 'alice', 'x')).toEqual(m);
    expect(sut.findByClientMessageId('r1', 'bob', 'x')).toBeNull();
    // another user may reuse the same client id
    const [b] = append(store, 1, { username: 'bob', clientMessageId: 'x' });
    expect(sut.findByClientMessageId('r1', 'bob', 'x')).toEqual(b);
  });

  it('pages history before and after a sequence number, ascending', () => {
    append(store, 250);
    const last = sut.messagesBefore('r1', 251, 100);
    expect(last.map((m) => m.sequenceNumber)).toEqual(Array.from({ length: 100 }, (_, i) => 151 + i));
    const older = sut.messagesBefore('r1', 151, 100);
    expect(older[0].sequenceNumber).toBe(51);
    expect(older.at(-1)!.sequenceNumber).toBe(150);
    expect(sut.messagesBefore('r1', 51, 100).map((m) => m.sequenceNumber)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(sut.messagesAfter('r1', 240, 5).map((m) => m.sequenceNumber)).toEqual([241, 242, 243, 244, 245]);
    expect(sut.messagesAfter('r1', 250, 5)).toEqual([]);
  });

  it('retention: trimBefore removes only the room\'s messages below the sequence, once; the room\'s last sequence stays', () => {
    store.rooms.insertRoom(room({ roomId: 'r2', roomName: 'other' }));
    append(store, 25);
    append(store, 5, { roomId: 'r2' });
    expect(sut.trimBefore('r1', 16)).toBe(15);
    expect(sut.trimBefore('r1', 16)).toBe(0); // applied again (a replay after a crash): nothing more goes
    expect(sut.messagesAfter('r1', 0, 100).map((m) => m.sequenceNumber)).toEqual(Array.from({ length: 10 }, (_, i) => 16 + i));
    expect(sut.firstSequence('r1')).toBe(16);
    expect(store.rooms.getRoom('r1')!.lastSequence).toBe(25);
    expect(sut.messagesAfter('r2', 0, 100)).toHaveLength(5);
    // the next message still takes the next number
    append(store, 1);
    expect(sut.messagesBefore('r1', 100, 100).map((m) => m.sequenceNumber)).toEqual(Array.from({ length: 11 }, (_, i) => 16 + i));
  });

  it('firstSequence: 0 for a room that never had a message; past the last when retention removed them all', () => {
    expect(sut.firstSequence('r1')).toBe(0);
    append(store, 4);
    expect(sut.trimBefore('r1', 5)).toBe(4);
    expect(sut.firstSequence('r1')).toBe(5);
    expect(sut.messagesBefore('r1', 5, 10)).toEqual([]);
  });

  it('firstSequenceSince: the first message in sequence order stamped at or after a time', () => {
    append(store, 2, { timestamp: '2026-01-01T00:00:00.000Z' });
    append(store, 2, { timestamp: '2026-01-03T00:00:00.000Z' });
    append(store, 1, { timestamp: '2026-01-02T00:00:00.000Z' }); // a host with a clock behind: kept, it comes later
    expect(sut.firstSequenceSince('r1', '2026-01-01T00:00:00.000Z')).toBe(1);
    expect(sut.firstSequenceSince('r1', '2026-01-01T00:00:00.001Z')).toBe(3);
    expect(sut.firstSequenceSince('r1', '2026-01-02T12:00:00.000Z')).toBe(3);
    expect(sut.firstSequenceSince('r1', '2026-01-04T00:00:00.000Z')).toBeNull();
  });

  it('finds a message by id, edits it, makes it a tombstone; a tombstone takes no edit and keeps its sequence number', () => {
    const [first, second] = append(store, 2);
    expect(sut.findById('r1', first.messageId)).toEqual(first); // never changed: no editedAt or deletedAt keys
    expect(sut.edit('r1', 1, 'edited', 'E')).toBe(true);
    expect(sut.findById('r1', first.messageId)).toEqual({ ...first, content: 'edited', editedAt: 'E' });
    expect(sut.markDeleted('r1', 1, 'D')).toBe(true);
    expect(sut.markDeleted('r1', 1, 'D2')).toBe(false);
    expect(sut.edit('r1', 1, 'again', 'E2')).toBe(false);
    expect(sut.messagesAfter('r1', 0, 10)).toEqual([{ ...first, content: '', editedAt: 'E', deletedAt: 'D' }, second]);
    expect(store.rooms.getRoom('r1')!.lastSequence).toBe(2);
    expect(sut.findById('r1', 'nope')).toBeNull();
  });
});
