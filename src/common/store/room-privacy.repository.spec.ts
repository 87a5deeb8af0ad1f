import { roomRecord as room } from '../../testing/records';
import { ChatStore } from './chat-store';
import { RoomPrivacyRepository } from './room-privacy.repository';

const T = '2026-01-01T00:05:00.000Z';

describe(RoomPrivacyRepository.name, () => {
  let store: ChatStore;
  let sut: RoomPrivacyRepository;
  beforeEach(() => {
    store = ChatStore.inMemory();
    sut = store.privacy;
    store.rooms.insertRoom(room());
  });
  afterEach(() => store.close());

  it('holds no row for a public room, and a private or direct one once marked', () => {
    expect(sut.privacyOf('r1')).toBeNull();
    sut.markPrivate('r1', false);
    expect(sut.privacyOf('r1')).toEqual({ direct: false });
    sut.markPrivate('r1', true);
    expect(sut.privacyOf('r1')).toEqual({ direct: true });
    expect(sut.privateRoomIds()).toEqual(['r1']);
  });

  it('records each invitation once', () => {
    sut.markPrivate('r1', false);
    expect(sut.invite('r1', 'bob', 'alice', T)).toBe(true);
    expect(sut.invite('r1', 'bob', 'carol', T)).toBe(false);
    expect([sut.isInvited('r1', 'bob'), sut.isInvited('r1', 'carol')]).toEqual([true, false]);
    expect(sut.invitees('r1')).toEqual(['bob']);
  });

  it('goes with its room (trigger of migration 8)', () => {
    sut.markPrivate('r1', false);
    sut.invite('r1', 'bob', 'alice', T);
    store.tombstones.deleteRoom({ roomId: 'r1', roomName: 'general', hostNode: 'node1', deletedAt: T, transactionId: null });
    expect(sut.privacyOf('r1')).toBeNull();
    expect(sut.isInvited('r1', 'bob')).toBe(false);
  });
});
