import { messageHtml } from '../../web/src/render';
import { flush, msg, ROOM, setup } from './support/fake-session';

/** A join of the room as `me` (alice), with the reply's extra keys. */
async function joined(t: ReturnType<typeof setup>, extra: Record<string, unknown>, creator = 'carol') {
  t.session.connect();
  t.sock().open();
  const joining = t.session.join(ROOM, { name: 'general' });
  t.sock().push('join_room_success', { room_id: ROOM, room_name: 'general', description: null, members: ['alice', 'bob', 'carol', 'dave'], member_count: 4, admin_node: 'node1', creator_id: creator, first_sequence: 0, last_sequence: 0, ...extra });
  return joining;
}

describe('ChatSession: moderation and invitations', () => {
  it("learns who moderates from the join reply (a reload forgets nothing), and the banned names when it is a moderator's", async () => {
    const t = setup();
    const room = await joined(t, { moderators: ['alice', 'dave'], banned: ['mallory'] });
    expect([...room.moderators]).toEqual(['alice', 'dave']);
    expect([...room.banned]).toEqual(['mallory']);
    expect(t.session.mayModerate(room)).toBe(true);
    // a moderator acts on members, not on the creator, another moderator or themselves
    expect(['bob', 'carol', 'dave', 'alice'].map((m) => t.session.mayActOn(room, m))).toEqual([true, false, false, false]);
  });

  it('a reply without the keys (an older server) keeps what the events taught; a reply without banned means none we may see', async () => {
    const t = setup();
    const room = await joined(t, {});
    expect(t.session.mayModerate(room)).toBe(false);
    t.sock().push('moderator_added', { room_id: ROOM, member: 'bob', by: 'carol', timestamp: '2026-01-01T00:00:00Z' });
    expect([...room.moderators]).toEqual(['bob']);
    const again = setup();
    const other = await joined(again, { moderators: ['bob'] });
    expect([...other.banned]).toEqual([]);
  });

  it('as the creator: acts on a moderator too; bans and unbans keep the Banned list', async () => {
    const t = setup();
    const room = await joined(t, { moderators: ['dave'], banned: [] }, 'alice');
    expect(t.session.mayActOn(room, 'dave')).toBe(true);
    t.sock().push('member_banned', { room_id: ROOM, member: 'bob', by: 'alice', reason: 'spam', member_count: 3, timestamp: '2026-01-01T00:00:00Z' });
    expect([...room.banned]).toEqual(['bob']);
    expect(room.members.has('bob')).toBe(false);
    t.sock().push('member_unbanned', { room_id: ROOM, member: 'bob', by: 'dave', timestamp: '2026-01-01T00:00:01Z' });
    expect([...room.banned]).toEqual([]);
    const lines = t.events.flatMap((e) => (e.kind === 'system' ? [e.text] : []));
    expect(lines).toEqual(['bob was banned from the room by alice: spam.', 'bob was unbanned by dave.']);
  });

  it("shows a join reply's moderation_log as the live events' lines, keyed like them; unknown or broken items are skipped", async () => {
    const t = setup();
    await joined(t, {
      moderators: ['bob'],
      moderation_log: [
        { type: 'moderator_added', room_id: ROOM, member: 'bob', by: 'carol', timestamp: '2026-01-01T00:00:00.000Z' },
        { type: 'member_kicked', room_id: ROOM, member: 'dave<b>', by: 'bob', reason: 'spam', member_count: 3, timestamp: '2026-01-01T00:00:01.000Z' },
        { type: 'member_banned', room_id: ROOM, member: 'alice', by: 'carol', member_count: 2, timestamp: '2026-01-01T00:00:02.000Z' },
        { type: 'something_new', room_id: ROOM, member: 'x', by: 'y', timestamp: '2026-01-01T00:00:03.000Z' },
        { type: 'member_unbanned', room_id: ROOM, by: 'carol', timestamp: '2026-01-01T00:00:04.000Z' },
      ],
    });
    const notices = t.events.flatMap((e) => (e.kind === 'notices' ? e.notices : []));
    expect(notices).toEqual([
      { key: 'moderator_added|bob|2026-01-01T00:00:00.000Z', text: 'bob is now a moderator (appointed by carol).', timestamp: '2026-01-01T00:00:00.000Z' },
      { key: 'member_kicked|dave<b>|2026-01-01T00:00:01.000Z', text: 'dave<b> was removed from the room by bob: spam.', timestamp: '2026-01-01T00:00:01.000Z' },
      { key: 'member_banned|alice|2026-01-01T00:00:02.000Z', text: 'You were banned from the room by carol.', timestamp: '2026-01-01T00:00:02.000Z' },
    ]);
    // the same action seen live carries the same key (the page shows it once)
    t.sock().push('member_muted', { room_id: ROOM, member: 'dave', by: 'bob', muted_until: '2026-01-01T01:00:00.000Z', timestamp: '2026-01-01T00:00:05.000Z' });
    expect(t.events.flatMap((e) => (e.kind === 'system' ? [e.key] : []))).toEqual(['member_muted|dave|2026-01-01T00:00:05.000Z']);
  });

  it('sends the reason of a kick or ban and the chosen length of a mute; appointing and unbanning carry neither', async () => {
    const t = setup();
    await joined(t, { moderators: [], banned: [] }, 'alice');
    const acts = [
      t.session.moderate(ROOM, 'kick_member', 'bob', { reason: '  spamming links ', seconds: 300 }),
      t.session.moderate(ROOM, 'ban_member', 'carol', { reason: '' }),
      t.session.moderate(ROOM, 'mute_member', 'dave', { reason: 'ignored', seconds: 900 }),
      t.session.moderate(ROOM, 'add_moderator', 'dave', { reason: 'ignored', seconds: 900 }),
      t.session.moderate(ROOM, 'unban_member', 'carol'),
    ];
    const sent = t.sock().sent.filter((f) => f.type.endsWith('_member') || f.type === 'add_moderator');
    expect(sent.map((f) => [f.type, f.data])).toEqual([
      ['kick_member', { room_id: ROOM, username: 'alice', member: 'bob', reason: 'spamming links' }],
      ['ban_member', { room_id: ROOM, username: 'alice', member: 'carol' }],
      ['mute_member', { room_id: ROOM, username: 'alice', member: 'dave', seconds: 900 }],
      ['add_moderator', { room_id: ROOM, username: 'alice', member: 'dave' }],
      ['unban_member', { room_id: ROOM, username: 'alice', member: 'carol' }],
    ]);
    for (const type of ['kick_member', 'ban_member', 'mute_member', 'add_moderator', 'unban_member']) t.sock().push(`${type}_success`, { room_id: ROOM, member: 'x' });
    await Promise.all(acts);
    const refused = t.session.moderate(ROOM, 'kick_member', 'carol');
    t.sock().push('error', { success: false, message: "Only the room's creator may act on another moderator", error_code: 'NOT_MODERATOR', request: 'kick_member', room_id: ROOM, member: 'carol' });
    await expect(refused).rejects.toThrow("Only the room's creator may act on another moderator");
  });

  it('a member appointed while in the room joins again from where it is, so the reply tells it the bans made before', async () => {
    const t = setup();
    const room = await joined(t, { moderators: [] });
    t.sock().push('new_message', msg(1) as unknown as Record<string, unknown>);
    t.sock().push('moderator_added', { room_id: ROOM, member: 'alice', by: 'carol', timestamp: '2026-01-01T00:00:00Z' });
    expect(t.sock().last('join_room').data).toEqual({ room_id: ROOM, username: 'alice', since_sequence: 1 });
    t.sock().push('join_room_success', { room_id: ROOM, room_name: 'general', description: null, members: ['alice', 'bob'], member_count: 2, admin_node: 'node1', creator_id: 'carol', first_sequence: 1, last_sequence: 1, moderators: ['alice'], banned: ['mallory'] });
    await flush();
    expect([...room.banned]).toEqual(['mallory']);
    expect(room.status).toBe('joined');
  });

  it('knows a private room from the join reply, and invites with invite_user; a refusal is a readable error', async () => {
    const t = setup();
    const room = await joined(t, { moderators: [], private: true });
    expect([room.private, room.direct]).toEqual([true, false]);
    const inviting = t.session.invite(ROOM, 'erin');
    expect(t.sock().last('invite_user').data).toEqual({ room_id: ROOM, username: 'alice', member: 'erin' });
    t.sock().push('invite_user_success', { room_id: ROOM, member: 'erin' });
    await inviting;
    const refused = t.session.invite(ROOM, 'erin');
    t.sock().push('error', { success: false, message: 'Invitations are for private rooms', error_code: 'INVALID_STATE', request: 'invite_user', room_id: ROOM, member: 'erin' });
    await expect(refused).rejects.toThrow('Only a private room takes invitations.');
  });

  it("a moderator's page offers Delete on every message but the creator's", () => {
    const base = { message_id: 'm1', room_id: ROOM, content: 'hi', sequence_number: 1, timestamp: '2026-01-01T00:00:00Z' };
    const opts = { self: 'alice', roomCreator: 'carol', moderator: true };
    expect(messageHtml({ ...base, username: 'bob' }, opts)).toContain('data-delete');
    expect(messageHtml({ ...base, username: 'carol' }, opts)).not.toContain('data-delete');
    expect(messageHtml({ ...base, username: 'bob' }, { ...opts, moderator: false })).not.toContain('data-delete');
  });
});
