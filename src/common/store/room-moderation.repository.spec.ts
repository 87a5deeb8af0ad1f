import { roomRecord as room } from '../../testing/records';
import { ChatStore } from './chat-store';
import { RoomModerationRepository } from './room-moderation.repository';

const T = '2026-01-01T00:05:00.000Z';

describe(RoomModerationRepository.name, () => {
  let store: ChatStore;
  let sut: RoomModerationRepository;
  beforeEach(() => {
    store = ChatStore.inMemory();
    sut = store.moderation;
    store.rooms.insertRoom(room());
  });
  afterEach(() => store.close());

  it('keeps moderators, bans and mutes of one user independently', () => {
    expect([sut.isModerator('r1', 'bob'), sut.isBanned('r1', 'bob'), sut.mutedUntil('r1', 'bob')]).toEqual([false, false, null]);
    sut.addModerator('r1', 'mod');
    sut.setBanned('r1', 'bob', true);
    sut.muteUntil('r1', 'bob', T);
    expect([sut.isModerator('r1', 'mod'), sut.isBanned('r1', 'bob'), sut.mutedUntil('r1', 'bob'), sut.isModerator('r1', 'bob')]).toEqual([true, true, T, false]);
    sut.setBanned('r1', 'bob', false);
    expect([sut.isBanned('r1', 'bob'), sut.mutedUntil('r1', 'bob')]).toEqual([false, T]);
    expect(sut.moderators('r1')).toEqual(['mod']);
  });

  it('goes with its room (trigger of migration 9)', () => {
    sut.addModerator('r1', 'mod');
    sut.setBanned('r1', 'bob', true);
    store.tombstones.deleteRoom({ roomId: 'r1', roomName: 'general', hostNode: 'node1', deletedAt: T, transactionId: null });
    expect([sut.isModerator('r1', 'mod'), sut.isBanned('r1', 'bob')]).toEqual([false, false]);
  });
});
