import { roomRecord as room } from '../../testing/records';
import { ChatStore } from './chat-store';
import { MODERATION_NOTICES_KEPT, RoomModerationRepository } from './room-moderation.repository';

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

  it('keeps the moderation notices in log order, the same entry written again once, only the latest MODERATION_NOTICES_KEPT', () => {
    sut.recordNotice('r1', 7, 'member_kicked', { room_id: 'r1', member: 'bob', by: 'mod', reason: 'rude', member_count: 1, timestamp: T });
    sut.recordNotice('r1', 3, 'moderator_added', { room_id: 'r1', member: 'mod', by: 'alice', timestamp: T });
    sut.recordNotice('r1', 7, 'member_kicked', { room_id: 'r1', member: 'bob', by: 'mod', reason: 'rude', member_count: 1, timestamp: T });
    expect(sut.notices('r1')).toEqual([
      { event: 'moderator_added', data: { room_id: 'r1', member: 'mod', by: 'alice', timestamp: T } },
      { event: 'member_kicked', data: { room_id: 'r1', member: 'bob', by: 'mod', reason: 'rude', member_count: 1, timestamp: T } },
    ]);
    for (let i = 10; i < 10 + MODERATION_NOTICES_KEPT + 5; i++) sut.recordNotice('r1', i, 'member_muted', { room_id: 'r1', member: `u${i}`, by: 'mod', timestamp: T });
    const kept = sut.notices('r1');
    expect(kept).toHaveLength(MODERATION_NOTICES_KEPT);
    expect(kept[0].data.member).toBe('u15');
    expect(kept.at(-1)!.data.member).toBe(`u${9 + MODERATION_NOTICES_KEPT + 5}`);
    expect(sut.notices('r2')).toEqual([]);
  });

  it('the notices go with their room (trigger of migration 11)', () => {
    sut.recordNotice('r1', 3, 'moderator_added', { room_id: 'r1', member: 'mod', by: 'alice', timestamp: T });
    store.tombstones.deleteRoom({ roomId: 'r1', roomName: 'general', hostNode: 'node1', deletedAt: T, transactionId: null });
    expect(sut.notices('r1')).toEqual([]);
  });
});
