import { directRoomFounder, directRoomId, directRoomName } from './direct-rooms';

describe('direct rooms', () => {
  it('derive one UUID-shaped id per pair, the same from either end, different for another pair', () => {
    const id = directRoomId('dave', 'erin');
    expect(id).toBe(directRoomId('erin', 'dave'));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(directRoomId('dave', 'frank')).not.toBe(id);
    // no separator ambiguity: ("a b", "c") and ("a", "b c") are different pairs
    expect(directRoomId('a b', 'c')).not.toBe(directRoomId('a', 'b c'));
  });

  it('name one founder among the nodes, whatever order the list comes in', () => {
    const id = directRoomId('dave', 'erin');
    const founder = directRoomFounder(id, ['node1', 'node2', 'node3']);
    expect(['node1', 'node2', 'node3']).toContain(founder);
    expect(directRoomFounder(id, ['node3', 'node1', 'node2'])).toBe(founder);
    expect(directRoomName('erin', 'dave')).toBe('dave ↔ erin');
  });
});
