import { searchResultHtml } from '../../web/src/render';
import { flush, joinFresh, msg, ROOM, setup } from './support/fake-session';

describe('ChatSession: read markers and search', () => {
  const marks = (t: ReturnType<typeof setup>) => t.sock().sent.filter((f) => f.type === 'mark_read').map((f) => f.data);
  const reads = (t: ReturnType<typeof setup>) => t.events.flatMap((e) => (e.kind === 'read' ? [{ lastRead: e.lastRead, unread: e.unread }] : []));

  it('tells the page the marker and unread count a join reply carries', async () => {
    const t = setup();
    t.session.connect();
    t.sock().open();
    const joining = t.session.join(ROOM, { name: 'general' });
    t.sock().push('join_room_success', { room_id: ROOM, room_name: 'general', description: null, members: ['alice'], member_count: 1, admin_node: 'node1', first_sequence: 1, last_sequence: 9, last_read: 6, unread_count: 2 });
    await joining;
    expect(reads(t)).toEqual([{ lastRead: 6, unread: { count: 2, upTo: 9 } }]);
  });

  it('marks a room read up to its newest message once, again only when newer ones came, at most once a second', async () => {
    const t = setup();
    await joinFresh(t, 3, [1, 2, 3]);
    t.session.markRead(ROOM);
    t.session.markRead(ROOM);
    expect(marks(t)).toEqual([{ room_id: ROOM, username: 'alice', sequence_number: 3 }]);
    // our other tab marked further: nothing to send for what it covers
    t.sock().push('read_marker', { room_id: ROOM, username: 'alice', sequence_number: 3 });
    t.sock().push('read_marker', { room_id: ROOM, username: 'bob', sequence_number: 3 });
    expect(reads(t)).toEqual([{ lastRead: 3, unread: undefined }]);
    t.sock().push('new_message', msg(4) as any);
    t.sock().push('new_message', msg(5) as any);
    t.session.markRead(ROOM);
    t.session.markRead(ROOM);
    // at most one mark a second: the newest goes at the end of the burst
    expect(marks(t).map((m) => m?.sequence_number)).toEqual([3]);
    t.clock.advance(1000);
    expect(marks(t).map((m) => m?.sequence_number)).toEqual([3, 5]);
  });

  it('says nothing about a refused mark, and stops marking on a node that does not know mark_read', async () => {
    const t = setup();
    await joinFresh(t, 3, [1, 2, 3]);
    t.sock().push('error', { success: false, message: 'You are not a member of this room', error_code: 'NOT_MEMBER', request: 'mark_read', room_id: ROOM });
    t.sock().push('error', { success: false, message: 'Unknown message type: mark_read', error_code: 'UNKNOWN_TYPE' });
    await flush();
    expect(t.notices()).toEqual([]);
    t.session.markRead(ROOM);
    expect(marks(t)).toEqual([]);
  });

  it('asks for a page of matches and hands back where the next starts; a refusal is a readable error', async () => {
    const t = setup();
    await joinFresh(t, 3, [1, 2, 3]);
    const searching = t.session.search(ROOM, 'pie', 40);
    expect(t.sock().last('search_messages').data).toEqual({ room_id: ROOM, username: 'alice', query: 'pie', before_sequence: 40 });
    const hit = { sequence_number: 12, message_id: 'm12', username: 'bob', content: 'apple pie', timestamp: '2026-01-01T00:00:00.000Z', snippet: 'apple «pie»' };
    t.sock().push('search_results', { room_id: ROOM, query: 'pie', results: [hit], next_before_sequence: 12 });
    expect(await searching).toEqual({ results: [hit], next: 12 });
    const refused = t.session.search(ROOM, '...');
    t.sock().push('error', { success: false, message: 'query must hold at least one word (letters or digits)', error_code: 'INVALID_REQUEST', request: 'search_messages', room_id: ROOM });
    await expect(refused).rejects.toThrow(/at least one word/);
  });

  it('renders a result escaped, with only the server\'s markers as <mark>', () => {
    const html = searchResultHtml({ sequence_number: 1, message_id: 'm', username: '<i>eve</i>', content: 'x', timestamp: '2026-01-01T00:00:00.000Z', snippet: '<script>«alert»</script>' }, 'UTC');
    expect(html).toContain('&lt;script&gt;<mark>alert</mark>&lt;/script&gt;');
    expect(html).toContain('&lt;i&gt;eve&lt;/i&gt;');
    expect(html).not.toContain('<script>');
    // a stray marker in the text itself cannot leave an element open
    expect(searchResultHtml({ sequence_number: 1, message_id: 'm', username: 'a', content: 'x', timestamp: '2026-01-01T00:00:00.000Z', snippet: 'a « b' }, 'UTC')).not.toContain('<mark>');
  });
});
