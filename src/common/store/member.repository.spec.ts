import { roomRecord as room } from '../../testing/records';
import { ChatStore } from './chat-store';
import { MemberRepository } from './member.repository';

describe(MemberRepository.name, () => {
  let store: ChatStore;
  let sut: MemberRepository;
  beforeEach(() => {
    store = ChatStore.inMemory();
    sut = store.members;
    store.rooms.insertRoom(room());
  });
  afterEach(() => store.close());

  it('adds, moves, lists and removes members', () => {
    expect(sut.addMember('r1', 'alice', 'node1', 't1')).toBe(true);
    expect(sut.addMember('r1', 'bob', 'node2', 't2')).toBe(true);
    expect(sut.addMember('r1', 'alice', 'node3', 't3')).toBe(false);
    expect(sut.getMember('r1', 'alice')).toMatchObject({ nodeId: 'node3', joinedAt: 't1' });
    expect(sut.memberCount('r1')).toBe(2);
    expect(sut.membersOnNode('node2', 'node1').map((m) => m.username)).toEqual(['bob']);
    expect(sut.membersOnNode('node2', 'node9')).toEqual([]);
    expect(sut.removeMember('r1', 'bob')).toBe(true);
    expect(sut.removeMember('r1', 'bob')).toBe(false);
    sut.replaceMembers('r1', [{ roomId: 'r1', username: 'carol', nodeId: 'node2', joinedAt: 't4', bootId: null }]);
    expect(sut.listMembers('r1').map((m) => m.username)).toEqual(['carol']);
  });

  it("keeps the member node's boot id of the latest join", () => {
    sut.addMember('r1', 'alice', 'node2', 't1', 'boot-a');
    expect(sut.getMember('r1', 'alice')?.bootId).toBe('boot-a');
    sut.addMember('r1', 'alice', 'node2', 't2', 'boot-b');
    expect(sut.getMember('r1', 'alice')?.bootId).toBe('boot-b');
    sut.addMember('r1', 'alice', 'node3', 't3');
    expect(sut.getMember('r1', 'alice')).toMatchObject({ nodeId: 'node3', bootId: null });
  });
});
