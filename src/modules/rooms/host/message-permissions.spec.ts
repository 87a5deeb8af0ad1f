import { messageChangeRefusal } from './message-permissions';

describe('messageChangeRefusal: who may change a message', () => {
  const room = { creatorId: 'alice' };
  const bobs = { username: 'bob' };

  it('lets the author edit and delete', () => {
    expect(messageChangeRefusal('edit', 'bob', bobs, room)).toBeNull();
    expect(messageChangeRefusal('delete', 'bob', bobs, room)).toBeNull();
  });

  it('lets the room\'s creator delete anyone\'s message, not edit it', () => {
    expect(messageChangeRefusal('delete', 'alice', bobs, room)).toBeNull();
    expect(messageChangeRefusal('edit', 'alice', bobs, room)).toMatchObject({ code: 'NOT_AUTHOR', message: 'Only the author of a message may edit it' });
  });

  it('refuses any other member', () => {
    expect(messageChangeRefusal('edit', 'carol', bobs, room)?.code).toBe('NOT_AUTHOR');
    expect(messageChangeRefusal('delete', 'carol', bobs, room)).toMatchObject({ code: 'NOT_AUTHOR', message: "Only the author of a message, the room's creator or a moderator may delete it" });
  });

  it("lets a moderator delete anyone's message but the creator's, and edit none", () => {
    expect(messageChangeRefusal('delete', 'mod', bobs, room, true)).toBeNull();
    expect(messageChangeRefusal('delete', 'mod', { username: 'alice' }, room, true)?.code).toBe('NOT_AUTHOR');
    expect(messageChangeRefusal('edit', 'mod', bobs, room, true)?.code).toBe('NOT_AUTHOR');
  });
});
