import { eventually, meshHealthy, sleep } from './support/cluster';
import { createRoom, join, requestJoin, retrying, useCluster } from './support/rooms';
import type { Frame, TestClient } from './support/test-client';

/**
 * Moderation on three real nodes. The room is hosted by node1 (alice, its creator, is on node1);
 * mod (a moderator alice appoints) and carol are on node2, bob on node3: every moderation request
 * through node2 or node3 is forwarded to node1, written into the room's log as one entry and
 * applied on every node, so a ban refuses a join anywhere and survives the host's death.
 */
describe('moderation across three nodes', () => {
  const ctx = useCluster(3);
  const node = (n: number) => ctx.cluster.node(n);
  let roomId: string;
  let alice: TestClient;
  let mod: TestClient;
  let carol: TestClient;
  let bob: TestClient;

  const moderate = (c: TestClient, type: string, data: Record<string, unknown>) => c.request(type, { room_id: roomId, ...data }, `${type}_success`, 'error');
  const eventOf = (c: TestClient, type: string, member: string, since = 0) =>
    eventually(() => c.frames.slice(since).find((f) => f.type === type && f.data.room_id === roomId && f.data.member === member), 5000);
  const send = (c: TestClient, username: string, content: string) => c.request('send_message', { room_id: roomId, username, content }, 'message_sent', 'message_error');

  beforeAll(async () => {
    await meshHealthy(ctx.cluster.nodes);
    alice = await ctx.open(1);
    roomId = await createRoom(alice, 'moderated', 'alice');
    await join(alice, roomId, 'alice');
    mod = await ctx.open(2);
    await join(mod, roomId, 'mod');
    carol = await ctx.open(2);
    await join(carol, roomId, 'carol');
    bob = await ctx.open(3);
    await join(bob, roomId, 'bob');
    const appointed = await moderate(alice, 'add_moderator', { username: 'alice', member: 'mod' });
    expect(appointed).toEqual({ type: 'add_moderator_success', data: { room_id: roomId, member: 'mod' } });
    for (const c of [alice, mod, carol, bob]) expect((await eventOf(c, 'moderator_added', 'mod'))?.data).toMatchObject({ by: 'alice', timestamp: expect.any(String) });
  });

  it("refuses a non-moderator's moderation, a moderator's action on the creator, and appointments by anyone but the creator", async () => {
    for (const type of ['kick_member', 'ban_member', 'unban_member']) {
      expect((await moderate(bob, type, { username: 'bob', member: 'carol' })).data).toMatchObject({ success: false, error_code: 'NOT_MODERATOR', request: type, room_id: roomId, member: 'carol' });
    }
    expect((await moderate(bob, 'mute_member', { username: 'bob', member: 'carol', seconds: 5 })).data).toMatchObject({ error_code: 'NOT_MODERATOR' });
    expect((await moderate(mod, 'ban_member', { username: 'mod', member: 'alice' })).data).toMatchObject({ error_code: 'NOT_MODERATOR' });
    expect((await moderate(mod, 'add_moderator', { username: 'mod', member: 'carol' })).data).toMatchObject({ error_code: 'NOT_MODERATOR' });
    expect((await moderate(mod, 'mute_member', { username: 'mod', member: 'carol', seconds: 0 })).data).toMatchObject({ error_code: 'INVALID_REQUEST' });
    // carol is still in and can talk
    expect((await send(carol, 'carol', 'still here')).type).toBe('message_sent');
  });

  it('a kick through a non-host node removes the member on every node; everyone sees the reason; they may join again', async () => {
    const marks = [alice, mod, carol, bob].map((c) => c.frames.length);
    const kicked = await moderate(mod, 'kick_member', { username: 'mod', member: 'bob', reason: 'spamming links' });
    expect(kicked).toEqual({ type: 'kick_member_success', data: { room_id: roomId, member: 'bob' } });
    for (const [i, c] of [alice, mod, carol, bob].entries()) {
      expect((await eventOf(c, 'member_kicked', 'bob', marks[i]))?.data).toEqual({ room_id: roomId, member: 'bob', by: 'mod', reason: 'spamming links', member_count: 3, timestamp: expect.any(String) });
    }
    // bob's connection on node3 is out of the room: nothing more reaches it, its sends are refused
    expect((await send(bob, 'bob', 'am I in?')).type).toBe('message_error');
    const sent = await send(alice, 'alice', 'after the kick');
    await eventually(() => carol.frames.some((f) => f.type === 'new_message' && f.data.message_id === sent.data.message_id), 5000);
    expect(bob.frames.some((f) => f.type === 'new_message' && f.data.message_id === sent.data.message_id)).toBe(false);
    await join(bob, roomId, 'bob');
    expect((await send(bob, 'bob', 'back again')).type).toBe('message_sent');
  });

  it('a ban placed through node1 refuses a join on node3 (and node2) until an unban', async () => {
    const mark = carol.frames.length;
    const banned = await moderate(alice, 'ban_member', { username: 'alice', member: 'bob', reason: 'repeat offender' });
    expect(banned.type).toBe('ban_member_success');
    expect((await eventOf(carol, 'member_banned', 'bob', mark))?.data).toMatchObject({ by: 'alice', reason: 'repeat offender', member_count: 3 });
    await eventually(() => bob.frames.some((f) => f.type === 'member_banned' && f.data.member === 'bob'), 5000);
    // a join through node2 (as after a reload; node2 applied the ban, carol there saw it) names the
    // moderators, and the banned names to a moderator only
    expect((await join(mod, roomId, 'mod')).data).toMatchObject({ creator_id: 'alice', moderators: ['mod'], banned: ['bob'] });
    const plain = await join(carol, roomId, 'carol');
    expect(plain.data.moderators).toEqual(['mod']);
    expect(plain.data).not.toHaveProperty('banned');
    for (const n of [3, 2]) {
      const again = await retrying(async () => requestJoin(await ctx.open(n), roomId, 'bob'));
      expect(again.data).toMatchObject({ room_id: roomId, error_code: 'BANNED' });
    }
    // the creator (or a moderator) lifts it
    expect((await moderate(alice, 'unban_member', { username: 'alice', member: 'bob' })).type).toBe('unban_member_success');
    await eventOf(mod, 'member_unbanned', 'bob');
    await join(await ctx.open(3), roomId, 'bob');
  });

  it('a mute through a non-host node refuses sends and edits until it expires', async () => {
    const own = await send(carol, 'carol', 'before the mute');
    const muted = await moderate(mod, 'mute_member', { username: 'mod', member: 'carol', seconds: 2 });
    expect(muted.data).toEqual({ room_id: roomId, member: 'carol', muted_until: expect.any(String) });
    expect((await eventOf(alice, 'member_muted', 'carol'))?.data).toMatchObject({ by: 'mod', muted_until: muted.data.muted_until });
    const refused = await send(carol, 'carol', 'can I talk?');
    expect(refused).toMatchObject({ type: 'message_error', data: { room_id: roomId, error_code: 'MUTED' } });
    const edit = await carol.request('edit_message', { room_id: roomId, username: 'carol', message_id: own.data.message_id, content: 'edited' }, 'edit_message_success', 'error');
    expect(edit.data).toMatchObject({ error_code: 'MUTED', request: 'edit_message' });
    await sleep(Math.max(0, Date.parse(String(muted.data.muted_until)) - Date.now()) + 100);
    expect((await send(carol, 'carol', 'free to talk')).type).toBe('message_sent');
  });

  it('a moderator deletes another member\'s message, not the creator\'s', async () => {
    const carols = await send(carol, 'carol', 'delete me');
    expect((await mod.request('delete_message', { room_id: roomId, username: 'mod', message_id: carols.data.message_id }, 'delete_message_success', 'error')).type).toBe('delete_message_success');
    const alices = await send(alice, 'alice', 'the creator speaks');
    expect((await mod.request('delete_message', { room_id: roomId, username: 'mod', message_id: alices.data.message_id }, 'delete_message_success', 'error')).data).toMatchObject({ error_code: 'NOT_AUTHOR' });
  });

  it('a member joining later through node3 is shown the kick and the ban made through node1 (join_room_success moderation_log)', async () => {
    const roomId2 = await createRoom(alice, 'moderation-log', 'alice');
    await join(alice, roomId2, 'alice');
    const frank = await ctx.open(2);
    await join(frank, roomId2, 'frank');
    const gina = await ctx.open(3);
    await join(gina, roomId2, 'gina');
    const mark = alice.frames.length;
    const act = (type: string, member: string, reason: string) => alice.request(type, { room_id: roomId2, username: 'alice', member, reason }, `${type}_success`, 'error');
    expect((await act('kick_member', 'frank', 'off topic')).type).toBe('kick_member_success');
    expect((await act('ban_member', 'gina', 'spam <b>again</b>')).type).toBe('ban_member_success');
    const live = alice.frames.slice(mark).filter((f) => (f.type === 'member_kicked' || f.type === 'member_banned') && f.data.room_id === roomId2);
    expect(live.map((f) => f.type)).toEqual(['member_kicked', 'member_banned']);
    // node3 has applied both (gina there was told she is banned)
    await eventually(() => gina.frames.some((f) => f.type === 'member_banned' && f.data.room_id === roomId2), 5000);
    const hank = await join(await ctx.open(3), roomId2, 'hank');
    // each notice: the live event's fields, with its type
    expect(hank.data.moderation_log).toEqual(live.map((f) => ({ type: f.type, ...f.data })));
    expect(hank.data.moderation_log).toEqual([
      { type: 'member_kicked', room_id: roomId2, member: 'frank', by: 'alice', reason: 'off topic', member_count: 2, timestamp: expect.any(String) },
      { type: 'member_banned', room_id: roomId2, member: 'gina', by: 'alice', reason: 'spam <b>again</b>', member_count: 1, timestamp: expect.any(String) },
    ]);
    // the same list through the host
    expect((await join(await ctx.open(1), roomId2, 'ivy')).data.moderation_log).toEqual(hank.data.moderation_log);
  });

  it('refuses every moderation request in a direct room (INVALID_STATE, the generic error frame)', async () => {
    const jo = await ctx.open(2);
    const direct = await retrying(() => jo.request('open_direct', { username: 'jo', with: 'kim' }, 'join_room_success', 'error'));
    expect(direct.data).toMatchObject({ direct: true, moderation_log: [] });
    const directId = String(direct.data.room_id);
    const kim = await ctx.open(3);
    await join(kim, directId, 'kim');
    for (const [type, extra] of [['kick_member', {}], ['ban_member', {}], ['unban_member', {}], ['mute_member', { seconds: 5 }], ['add_moderator', {}]] as const) {
      const refused = await jo.request(type, { room_id: directId, username: 'jo', member: 'kim', ...extra }, `${type}_success`, 'error');
      expect(refused).toMatchObject({ type: 'error', data: { success: false, error_code: 'INVALID_STATE', request: type, room_id: directId, member: 'kim' } });
    }
    expect((await jo.request('send_message', { room_id: directId, username: 'jo', content: 'still friends' }, 'message_sent', 'message_error')).type).toBe('message_sent');
  });

  it('a ban acknowledged right before the host is killed is in force on the new host', async () => {
    const dave = await ctx.open(3);
    await join(dave, roomId, 'dave');
    expect((await moderate(alice, 'ban_member', { username: 'alice', member: 'dave' })).type).toBe('ban_member_success');
    await node(1).stop('SIGKILL');
    const reader = await ctx.open(3);
    const newHost = await eventually(async () => {
      const reply = await join(reader, roomId, 'reader');
      return reply.data.admin_node !== 'node1' ? String(reply.data.admin_node) : null;
    }, 20000, 200);
    expect(['node2', 'node3']).toContain(newHost);
    for (const n of [2, 3]) {
      const refused: Frame = await retrying(async () => requestJoin(await ctx.open(n), roomId, 'dave'));
      expect(refused.data).toMatchObject({ error_code: 'BANNED' });
    }
  });
});
