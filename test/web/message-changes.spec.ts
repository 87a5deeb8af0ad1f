import { messageHtml } from '../../web/src/render';
import { typingText } from '../../web/src/format';
import { flush, joinFresh, msg, ROOM, setup } from './support/fake-session';

describe('ChatSession: editing, deleting and typing', () => {
  const changes = (t: ReturnType<typeof setup>) => t.events.flatMap((e) => (e.kind === 'changed' ? [e.change] : []));

  it('edits and deletes with the requests the node expects, resolving on its answers', async () => {
    const t = setup();
    await joinFresh(t, 1, [1]);
    const editing = t.session.editMessage(ROOM, 'id-1', 'better');
    expect(t.sock().last().data).toEqual({ room_id: ROOM, username: 'alice', message_id: 'id-1', content: 'better' });
    t.sock().push('message_edited', { room_id: ROOM, message_id: 'id-1', sequence_number: 1, username: 'alice', content: 'better', edited_at: 'E' });
    t.sock().push('edit_message_success', { room_id: ROOM, message_id: 'id-1', sequence_number: 1, edited_at: 'E' });
    await expect(editing).resolves.toBeUndefined();
    expect(changes(t)).toEqual([{ message_id: 'id-1', sequence_number: 1, username: 'alice', content: 'better', edited_at: 'E' }]);

    const deleting = t.session.deleteMessage(ROOM, 'id-1');
    expect(t.sock().last()).toEqual({ type: 'delete_message', data: { room_id: ROOM, username: 'alice', message_id: 'id-1' } });
    t.sock().push('message_deleted', { room_id: ROOM, message_id: 'id-1', sequence_number: 1, username: 'alice', deleted_by: 'alice', deleted_at: 'D' });
    t.sock().push('delete_message_success', { room_id: ROOM, message_id: 'id-1', sequence_number: 1, deleted_at: 'D' });
    await expect(deleting).resolves.toBeUndefined();
    expect(changes(t)[1]).toEqual({ message_id: 'id-1', sequence_number: 1, username: 'alice', content: '', deleted: true, deleted_at: 'D' });
  });

  it('an edit of a message held back for a gap changes it where it waits', async () => {
    const t = setup();
    await joinFresh(t, 1, [1]);
    t.sock().push('new_message', msg(3) as unknown as Record<string, unknown>); // 2 is missing: 3 waits
    t.sock().push('message_edited', { room_id: ROOM, message_id: 'id-3', sequence_number: 3, username: 'bob', content: 'fixed', edited_at: 'E' });
    t.sock().push('new_message', msg(2) as unknown as Record<string, unknown>);
    await flush();
    const shownThree = t.events.flatMap((e) => (e.kind === 'messages' ? e.messages : [])).find((m) => m.sequence_number === 3);
    expect(shownThree).toMatchObject({ content: 'fixed', edited_at: 'E' });
    expect(changes(t)).toEqual([]);
  });

  it('turns a refusal into a readable error', async () => {
    const t = setup();
    await joinFresh(t, 1, [1]);
    const editing = t.session.editMessage(ROOM, 'id-1', 'mine now');
    t.sock().push('error', { success: false, message: 'Only the author of a message may edit it', error_code: 'NOT_AUTHOR', request: 'edit_message', room_id: ROOM, message_id: 'id-1' });
    await expect(editing).rejects.toThrow('Only the author of a message may edit it');
  });

  it('tells the room it is typing at most every two seconds', async () => {
    const t = setup();
    await joinFresh(t, 0, []);
    const typed = () => t.sock().sent.filter((f) => f.type === 'typing');
    t.session.typing(ROOM);
    t.session.typing(ROOM);
    expect(typed()).toEqual([{ type: 'typing', data: { room_id: ROOM, username: 'alice' } }]);
    t.clock.advance(2000);
    t.session.typing(ROOM);
    expect(typed()).toHaveLength(2);
  });

  it('stops telling a node that does not know typing (an earlier version), without a notice or failing another request', async () => {
    const t = setup();
    await joinFresh(t, 0, []);
    // the discovery the session made on connecting is still waiting for its answer
    t.session.typing(ROOM);
    t.sock().push('error', { success: false, message: 'Unknown message type: typing', error_code: 'UNKNOWN_TYPE' });
    t.sock().push('global_rooms_list', { rooms: [], nodes_available: ['node1'] });
    await flush();
    expect(t.session.lastRoomsList).toEqual({ rooms: [], nodes_available: ['node1'] });
    t.clock.advance(5000);
    t.session.typing(ROOM);
    expect(t.sock().sent.filter((f) => f.type === 'typing')).toHaveLength(1);
    expect(t.notices()).toEqual([]);
  });

  it('shows who is typing until the notice expires or their message arrives', async () => {
    const t = setup();
    const room = await joinFresh(t, 0, []);
    t.sock().push('user_typing', { room_id: ROOM, username: 'bob', expires_in_ms: 4000 });
    t.sock().push('user_typing', { room_id: ROOM, username: 'carol', expires_in_ms: 4000 });
    t.sock().push('user_typing', { room_id: ROOM, username: 'alice', expires_in_ms: 4000 }); // ourselves: never shown
    expect([...room.typing]).toEqual(['bob', 'carol']);
    t.clock.advance(3000);
    t.sock().push('user_typing', { room_id: ROOM, username: 'carol', expires_in_ms: 4000 }); // still typing
    t.clock.advance(1000);
    expect([...room.typing]).toEqual(['carol']);
    t.sock().push('new_message', msg(1, 'carol') as unknown as Record<string, unknown>);
    await flush();
    expect([...room.typing]).toEqual([]);
    expect(t.events.filter((e) => e.kind === 'typing')).toHaveLength(4);
  });
});

describe('rendering edited and deleted messages', () => {
  const base = { message_id: 'm"1', room_id: 'r', username: 'alice', content: '<i>hi</i>', sequence_number: 3, timestamp: '2026-01-02T03:04:05.000Z' };

  it('offers Edit and Delete on our own messages only, Delete on all in a room we created', () => {
    const own = messageHtml(base, { self: 'alice' });
    expect(own).toContain('data-edit="m&quot;1"');
    expect(own).toContain('data-delete="m&quot;1"');
    const other = messageHtml({ ...base, username: 'bob' }, { self: 'alice' });
    expect(other).not.toContain('data-edit');
    expect(other).not.toContain('data-delete');
    const moderated = messageHtml({ ...base, username: 'bob' }, { self: 'alice', roomCreator: 'alice' });
    expect(moderated).not.toContain('data-edit');
    expect(moderated).toContain('data-delete');
  });

  it('marks an edited message and shows a deleted one as a tombstone, without its text or actions', () => {
    expect(messageHtml({ ...base, edited_at: '2026-01-02T03:05:00.000Z' }, { self: 'x' })).toContain('(edited)');
    const gone = messageHtml({ ...base, content: '', deleted: true, deleted_at: 'D' }, { self: 'alice' });
    expect(gone).toContain('class="msg mine deleted"');
    expect(gone).toContain('message deleted');
    expect(gone).not.toContain('data-edit');
    expect(gone).not.toContain('(edited)');
    expect(messageHtml(base, { self: 'x' })).toContain('&lt;i&gt;hi&lt;/i&gt;');
  });

  it('says who is typing in plain text', () => {
    expect(typingText([])).toBe('');
    expect(typingText(['bob'])).toBe('bob is typing…');
    expect(typingText(['bob', 'carol'])).toBe('bob and carol are typing…');
    expect(typingText(['a', 'b', 'c', 'd', 'e'])).toBe('a, b and 3 others are typing…');
  });
});
