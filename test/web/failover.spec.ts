// The web client's side of room failover (issue 11): a room moving to a new host, sends refused as
// retryable while the host switches, and resuming on another node after the page's own node died.
import type { Frame } from '../../web/src/protocol';
import { flush, joinFresh, msg, ROOM, setup } from './support/fake-session';

const sends = (t: ReturnType<typeof setup>): Frame[] => t.sockets.flatMap((s) => s.sent.filter((f) => f.type === 'send_message'));
/** Joined, with the join reply's deferred outbox resend already run (so counts below start clean). */
async function joined(t: ReturnType<typeof setup>, last: number, history: number[]) {
  const room = await joinFresh(t, last, history);
  t.clock.advance(0);
  return room;
}
const switching = { room_id: ROOM, error: 'Administrator node unavailable', error_code: 'ADMIN_NODE_UNAVAILABLE', retryable: true, retry_after_ms: 200 };

describe('ChatSession room failover', () => {
  it('shows the new host on room_host_changed, clears the outage and tells the user where the room went', async () => {
    const t = setup();
    const room = await joined(t, 2, [1, 2]);
    t.sock().push('global_rooms_list', { rooms: [{ room_id: ROOM, room_name: 'general', description: null, member_count: 2, admin_node: 'node1', creator_id: 'alice' }], nodes_unavailable: [] });
    await flush();
    t.sock().push('room_unavailable', { room_id: ROOM, admin_node: 'node1', reason: 'Host node unreachable' });
    expect(room.status).toBe('unavailable');
    expect(room.notice).toMatch(/host node node1 is down/);

    t.sock().push('room_host_changed', { room_id: ROOM, admin_node: 'node2', host_epoch: 2 });
    expect(room.adminNode).toBe('node2');
    expect(room.hostEpoch).toBe(2);
    expect(room.status).toBe('joined');
    expect(room.notice).toBeNull();
    const notice = t.events.filter((e) => e.kind === 'notice').pop();
    // Same key as the outage toast, so "host is down" is replaced rather than left standing.
    expect(notice).toMatchObject({ level: 'info', text: 'Room “general” moved to node2.', key: `avail:${ROOM}` });
    // ...and a line in the room's log stays after the toast is gone.
    expect(t.events.filter((e) => e.kind === 'system').map((e) => (e as { text: string }).text)).toEqual(['The room moved to node2 (its host node1 stopped answering)']);
    expect(t.session.lastRoomsList?.rooms[0].admin_node).toBe('node2');
    expect(t.events.filter((e) => e.kind === 'rooms').pop()).toMatchObject({ list: { rooms: [{ admin_node: 'node2' }] } });
  });

  it('ignores a repeated or older host announcement, and a late outage report about the old host', async () => {
    const t = setup();
    const room = await joined(t, 0, []);
    t.sock().push('room_host_changed', { room_id: ROOM, admin_node: 'node2', host_epoch: 3 });
    const noticesAfterMove = t.notices().length;
    t.sock().push('room_host_changed', { room_id: ROOM, admin_node: 'node2', host_epoch: 3 });
    t.sock().push('room_host_changed', { room_id: ROOM, admin_node: 'node3', host_epoch: 2 });
    expect(room.adminNode).toBe('node2');
    expect(room.hostEpoch).toBe(3);
    expect(t.notices()).toHaveLength(noticesAfterMove);
    // The heartbeat monitor may report the dead old host after the room already moved on.
    t.sock().push('room_unavailable', { room_id: ROOM, admin_node: 'node1', reason: 'Host node unreachable' });
    expect(room.status).toBe('joined');
    expect(room.adminNode).toBe('node2');
    // ...but an outage of the current host still shows.
    t.sock().push('room_unavailable', { room_id: ROOM, admin_node: 'node2', reason: 'Host node unreachable' });
    expect(room.status).toBe('unavailable');
  });

  it('keeps a message refused as retryable queued and resends it with the same client_message_id after retry_after_ms', async () => {
    const t = setup();
    const room = await joined(t, 0, []);
    const cid = t.session.sendMessage(ROOM, 'during the switch');
    t.sock().push('message_error', { ...switching, client_message_id: cid });
    await flush();
    const out = room.outbox.get(cid)!;
    expect(out.state).toBe('sending');
    expect(out.note).toMatch(/waiting for the room’s host/);
    expect(room.status).toBe('joined'); // the composer stays usable
    expect(t.events.filter((e) => e.kind === 'notice').pop()).toMatchObject({ level: 'info', text: expect.stringMatching(/waiting for its host/) });
    expect(sends(t)).toHaveLength(1);
    t.clock.advance(199);
    expect(sends(t)).toHaveLength(1);
    t.clock.advance(1);
    expect(sends(t)).toHaveLength(2);
    expect(sends(t).map((f) => f.data!.client_message_id)).toEqual([cid, cid]);
    t.sock().push('message_error', { ...switching, client_message_id: cid });
    await flush();
    t.clock.advance(200);
    expect(sends(t)).toHaveLength(3);
    t.sock().push('message_sent', { room_id: ROOM, message_id: 'id-1', sequence_number: 1, timestamp: 't', client_message_id: cid });
    t.sock().push('new_message', msg(1, 'alice') as any);
    await flush();
    expect(room.outbox.size).toBe(0);
    expect(t.shown()).toEqual([1]);
    t.clock.advance(5000);
    expect(sends(t)).toHaveLength(3); // nothing left to resend
  });

  it('sends a waiting message to the new host at once when the room moves, not again when its retry was due', async () => {
    const t = setup();
    const room = await joined(t, 0, []);
    const cid = t.session.sendMessage(ROOM, 'queued');
    t.sock().push('message_error', { ...switching, retry_after_ms: 1000, client_message_id: cid });
    await flush();
    t.sock().push('room_host_changed', { room_id: ROOM, admin_node: 'node2', host_epoch: 2 });
    expect(sends(t)).toHaveLength(2);
    expect(room.outbox.get(cid)!.note).toBeUndefined();
    t.clock.advance(1000);
    expect(sends(t)).toHaveLength(2);
  });

  it('follows a retryable refusal that names the new host: shows it and resends there at once', async () => {
    const t = setup();
    const room = await joined(t, 0, []);
    const cid = t.session.sendMessage(ROOM, 'to wherever the room is');
    t.sock().push('message_error', { ...switching, retry_after_ms: 1000, admin_node: 'node3', host_epoch: 2, client_message_id: cid });
    await flush();
    expect(room.adminNode).toBe('node3');
    expect(t.notices().pop()).toBe('Room “general” moved to node3.');
    expect(sends(t)).toHaveLength(2); // resent without waiting retry_after_ms
    // The same news again is no news: the next refusal waits as usual.
    t.sock().push('message_error', { ...switching, retry_after_ms: 1000, admin_node: 'node3', host_epoch: 2, client_message_id: cid });
    await flush();
    expect(sends(t)).toHaveLength(2);
    t.clock.advance(1000);
    expect(sends(t)).toHaveLength(3);
  });

  it('ignores a late retryable refusal of a message another attempt already got confirmed', async () => {
    const t = setup();
    const room = await joined(t, 0, []);
    const cid = t.session.sendMessage(ROOM, 'twice in flight');
    t.sock().push('room_host_changed', { room_id: ROOM, admin_node: 'node2', host_epoch: 2 }); // resends: two attempts in flight
    expect(sends(t)).toHaveLength(2);
    t.sock().push('message_sent', { room_id: ROOM, message_id: 'id-1', sequence_number: 1, timestamp: 't', client_message_id: cid });
    t.sock().push('message_error', { ...switching, client_message_id: cid });
    await flush();
    expect(room.outbox.size).toBe(0);
    t.clock.advance(5000);
    expect(sends(t)).toHaveLength(2);
    expect(t.notices().some((n) => /waiting for its host/.test(n))).toBe(false);
  });

  it('gives up after a minute of retryable refusals and marks the message failed (the user can retry)', async () => {
    const t = setup();
    const room = await joined(t, 0, []);
    const cid = t.session.sendMessage(ROOM, 'no majority anywhere');
    for (let i = 0; i < 40; i++) {
      t.sock().push('message_error', { ...switching, retry_after_ms: 2000, client_message_id: cid });
      await flush();
      if (room.outbox.get(cid)!.state === 'failed') break;
      t.clock.advance(2000);
    }
    const out = room.outbox.get(cid)!;
    expect(out.state).toBe('failed');
    expect(out.error).toMatch(/unavailable/);
    expect(sends(t).length).toBeGreaterThanOrEqual(30);
    expect(sends(t).length).toBeLessThanOrEqual(31);
    t.session.retryMessage(ROOM, cid, true);
    expect(room.outbox.get(cid)!.state).toBe('sending');
    expect(room.outbox.get(cid)!.retryWaitedMs).toBe(0);
  });

  it('a first join refused as retryable during the switch is tried again and then succeeds; a plain refusal is not', async () => {
    const t = setup();
    t.session.connect();
    t.sock().open();
    const joins = () => t.sock().sent.filter((f) => f.type === 'join_room').length;
    const p = t.session.join(ROOM, { name: 'general', adminNode: 'node1' });
    t.sock().push('join_room_error', { room_id: ROOM, error: 'Administrator node unavailable', error_code: 'ADMIN_NODE_UNAVAILABLE', retryable: true, retry_after_ms: 500 });
    await flush();
    expect(joins()).toBe(1);
    t.clock.advance(500);
    await flush();
    expect(joins()).toBe(2);
    expect(t.sock().last('join_room').data).toEqual({ room_id: ROOM, username: 'alice', history_limit: 100 });
    t.sock().push('join_room_success', { room_id: ROOM, room_name: 'general', description: null, members: ['alice'], member_count: 1, admin_node: 'node2', host_epoch: 2, first_sequence: 0, last_sequence: 0 });
    const room = await p;
    expect(room.adminNode).toBe('node2');
    expect(room.status).toBe('joined');

    const OTHER = '22222222-2222-4222-8222-222222222222';
    const q = t.session.join(OTHER, { name: 'gone' });
    t.sock().push('join_room_error', { room_id: OTHER, error: 'Room not found', error_code: 'ROOM_NOT_FOUND' });
    await expect(q).rejects.toThrow(/no longer exists/);
  });

  it('gives up a retryable first join after about ten seconds and says why', async () => {
    const t = setup();
    t.session.connect();
    t.sock().open();
    const p = t.session.join(ROOM, { name: 'general', adminNode: 'node1' });
    let settled = false;
    p.catch(() => undefined).finally(() => (settled = true));
    for (let i = 0; i < 30 && !settled; i++) {
      t.sock().push('join_room_error', { room_id: ROOM, error: 'no majority', error_code: 'ADMIN_NODE_UNAVAILABLE', retryable: true, retry_after_ms: 1000 });
      await flush();
      t.clock.advance(1000);
      await flush();
    }
    await expect(p).rejects.toThrow(/host node node1 is down/);
    expect(t.sock().sent.filter((f) => f.type === 'join_room')).toHaveLength(11);
    expect(t.session.rooms.has(ROOM)).toBe(false);
  });

  it('after its own node dies, resumes on another node from since_sequence, waits out a retryable join refusal and shows the new host', async () => {
    const t = setup();
    const room = await joined(t, 3, [1, 2, 3]);
    const cid = t.session.sendMessage(ROOM, 'typed as the node died');
    t.sock().close(); // n1 is killed
    t.clock.advance(100);
    t.sock().close(); // n1 refuses
    t.clock.advance(200);
    expect(t.sock().url).toBe('ws://n2:2/');
    t.sock().open();
    expect(t.sock().last('join_room').data).toEqual({ room_id: ROOM, username: 'alice', since_sequence: 3 });
    t.sock().push('join_room_error', { room_id: ROOM, error: 'Administrator node unavailable', error_code: 'ADMIN_NODE_UNAVAILABLE', retryable: true, retry_after_ms: 250 });
    await flush();
    expect(room.status).toBe('unavailable');
    expect(room.notice).toMatch(/waiting for its host/);
    const joins = () => t.sock().sent.filter((f) => f.type === 'join_room').length;
    t.clock.advance(249);
    expect(joins()).toBe(1);
    t.clock.advance(1); // sooner than the 3 s wait for a host that is simply down
    expect(joins()).toBe(2);
    expect(t.sock().last('join_room').data).toEqual({ room_id: ROOM, username: 'alice', since_sequence: 3 });
    t.sock().push('join_room_success', { room_id: ROOM, room_name: 'general', description: null, members: ['alice', 'bob'], member_count: 2, admin_node: 'node2', host_epoch: 2, first_sequence: 1, last_sequence: 4 });
    t.sock().push('new_message', msg(4) as any);
    t.clock.advance(1);
    expect(room.status).toBe('joined');
    expect(room.adminNode).toBe('node2');
    expect(room.hostEpoch).toBe(2);
    expect(room.notice).toBeNull();
    expect(t.shown()).toEqual([1, 2, 3, 4]);
    expect(t.sock().last('send_message').data).toMatchObject({ content: 'typed as the node died', client_message_id: cid });
    // The room list fetched on reconnect, while the room was between hosts, lacked it: it is fetched again.
    const discovers = () => t.sock().sent.filter((f) => f.type === 'discover_rooms').length;
    const before = discovers();
    t.clock.advance(200);
    expect(discovers()).toBe(before + 1);
    // A late announcement of the epoch the join already reported changes nothing.
    t.sock().push('room_host_changed', { room_id: ROOM, admin_node: 'node2', host_epoch: 2 });
    expect(t.notices().some((n) => /moved to/.test(n))).toBe(false);
  });
});
