import { appendMessages as append, roomRecord as room } from '../../testing/records';
import { ChatStore } from './chat-store';
import { ReadMarkerRepository } from './read-marker.repository';

const T = '2026-01-01T00:05:00.000Z';

describe(ReadMarkerRepository.name, () => {
  let store: ChatStore;
  let sut: ReadMarkerRepository;
  beforeEach(() => {
    store = ChatStore.inMemory();
    sut = store.readMarkers;
    store.rooms.insertRoom(room());
  });
  afterEach(() => store.close());

  it('starts at 0 with every message unread, and counts what is after the marker, deleted messages not', () => {
    append(store, 5);
    expect(sut.readState('r1', 'bob')).toEqual({ lastRead: 0, unreadCount: 5 });
    expect(sut.advance('r1', 'bob', 2, T)).toBe(true);
    store.messages.markDeleted('r1', 4, T);
    expect(sut.readState('r1', 'bob')).toEqual({ lastRead: 2, unreadCount: 2 });
    expect(sut.readState('r1', 'carol')).toEqual({ lastRead: 0, unreadCount: 4 });
  });

  it('only moves forward: a lower or equal sequence writes nothing', () => {
    expect(sut.advance('r1', 'bob', 3, T)).toBe(true);
    expect(sut.advance('r1', 'bob', 1, T)).toBe(false);
    expect(sut.advance('r1', 'bob', 3, T)).toBe(false);
    expect(sut.lastRead('r1', 'bob')).toBe(3);
    expect(sut.advance('r1', 'bob', 4, T)).toBe(true);
    expect(sut.lastRead('r1', 'bob')).toBe(4);
  });

  it('goes with its room', () => {
    sut.advance('r1', 'bob', 3, T);
    store.tombstones.deleteRoom({ roomId: 'r1', roomName: 'general', hostNode: 'node1', deletedAt: T, transactionId: null });
    expect(sut.lastRead('r1', 'bob')).toBe(0);
  });
});
