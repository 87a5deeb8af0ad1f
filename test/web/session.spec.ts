import { ChatSession } from '../../web/src/session/chat-session';
import { Backoff } from '../../web/src/reconnect';
import { Clock, FakeSocket, flush, joinFresh, msg, ROOM, setup } from './support/fake-session';

describe('ChatSession', () => {
  it('connects to the first node and discovers rooms on open', async () => {
    const t = setup();
    t.session.connect();
    expect(t.sock().url).toBe('ws://n1:1/');
    t.sock().open();
    expect(t.session.status).toBe('open');
    expect(t.sock().last().type).toBe('discover_rooms');
    const rooms = { rooms: [{ room_id: ROOM, room_name: 'g', description: null, member_count: 0, admin_node: 'node1', creator_id: 'x' }], nodes_available: ['node1'], nodes_unavailable: ['node3'] };
    t.sock().push('global_rooms_list', rooms);
    await flush();
    expect(t.session.lastRoomsList?.nodes_unavailable).toEqual(['node3']);
  });

  it('joins, shows the replayed history from its start and then live messages in order', async () => {
    const t = setup();
    const history = Array.from({ length: 100 }, (_, i) => 51 + i);
    const room = await joinFresh(t, 150, history);
    expect(room.description).toBe('about things');
    expect([...room.members].sort()).toEqual(['alice', 'bob']);
    expect(t.shown()).toEqual(history);
    expect(room.hasOlder).toBe(true);
    t.sock().push('new_message', msg(152) as any);
    t.sock().push('new_message', msg(151) as any);
    t.sock().push('new_message', msg(151) as any);
    expect(t.shown().slice(-2)).toEqual([151, 152]);
    expect(room.buffer.lastSeq).toBe(152);
  });

  it('maps a join error to a readable message', async () => {
    const t = setup();
    t.session.connect();
    t.sock().open();
    const p = t.session.join(ROOM, { name: 'g', adminNode: 'node2' });
    t.sock().push('join_room_error', { room_id: ROOM, error: 'Administrator node unavailable', error_code: 'ADMIN_NODE_UNAVAILABLE' });
    await expect(p).rejects.toThrow(/host node node2 is down/);
    expect(t.session.rooms.has(ROOM)).toBe(false);
  });

  it('reconnects to the next node after a failed retry and resumes from the last sequence, without duplicates', async () => {
    const t = setup();
    await joinFresh(t, 3, [1, 2, 3]);
    t.sock().close(); // node 1 drops
    expect(t.session.status).toBe('reconnecting');
    t.clock.advance(100); // retry same node
    expect(t.sock().url).toBe('ws://n1:1/');
    t.sock().close(); // refused
    t.clock.advance(200);
    expect(t.sock().url).toBe('ws://n2:2/');
    t.sock().open();
    const join = t.sock().last('join_room');
    expect(join.data).toEqual({ room_id: ROOM, username: 'alice', since_sequence: 3 });
    t.sock().push('join_room_success', { room_id: ROOM, room_name: 'general', description: null, members: ['alice', 'bob'], member_count: 2, admin_node: 'node1', first_sequence: 1, last_sequence: 5 });
    for (const s of [3, 4, 5]) t.sock().push('new_message', msg(s) as any);
    t.sock().push('new_message', msg(5) as any);
    await flush();
    expect(t.shown()).toEqual([1, 2, 3, 4, 5]);
    expect(t.notices().some((n) => /Reconnected to n2:2/.test(n))).toBe(true);
  });

  it('asks the node it opened on for the cluster and reconnects to the nodes it learned', async () => {
    const asked: string[] = [];
    const t = setup(['n1:1'], async (node) => (asked.push(node), ['n1:1', 'n2:2']));
    t.session.connect();
    t.sock().open();
    await flush();
    expect(asked).toEqual(['n1:1']);
    expect(t.events.filter((e) => e.kind === 'nodes')).toEqual([{ kind: 'nodes', nodes: ['n1:1', 'n2:2'] }]);
    t.sock().close(); // node 1 drops
    t.clock.advance(100); // retry same node
    t.sock().close(); // refused
    t.clock.advance(200);
    expect(t.sock().url).toBe('ws://n2:2/');
  });

  it('keeps its node list when asking for the cluster fails', async () => {
    const t = setup(['n1:1'], () => Promise.reject(new Error('offline')));
    t.session.connect();
    t.sock().open();
    await flush();
    t.sock().close();
    t.clock.advance(100);
    t.sock().close();
    t.clock.advance(200);
    expect(t.sock().url).toBe('ws://n1:1/');
    expect(t.events.some((e) => e.kind === 'nodes')).toBe(false);
  });

  it('re-sends an unconfirmed message after reconnect with the same client_message_id', async () => {
    const t = setup();
    await joinFresh(t, 0, []);
    const cid = t.session.sendMessage(ROOM, 'hello');
    expect(t.sock().last('send_message').data).toMatchObject({ room_id: ROOM, username: 'alice', content: 'hello', client_message_id: cid });
    t.sock().close();
    await flush();
    expect(t.session.rooms.get(ROOM)!.outbox.get(cid)?.state).toBe('sending');
    t.clock.advance(100);
    t.sock().open();
    t.sock().push('join_room_success', { room_id: ROOM, room_name: 'general', description: null, members: ['alice'], member_count: 1, admin_node: 'node1', first_sequence: 0, last_sequence: 0 });
    t.clock.advance(1);
    const resent = t.sock().last('send_message');
    expect(resent.data).toMatchObject({ content: 'hello', client_message_id: cid });
    t.sock().push('new_message', msg(1, 'alice') as any);
    t.sock().push('message_sent', { room_id: ROOM, message_id: 'id-1', sequence_number: 1, timestamp: 'x', client_message_id: cid, duplicate: true });
    await flush();
    expect(t.session.rooms.get(ROOM)!.outbox.size).toBe(0);
    expect(t.shown()).toEqual([1]);
  });

  it('reports message errors with clear text', async () => {
    const t = setup();
    await joinFresh(t, 0, []);
    const cid = t.session.sendMessage(ROOM, 'x');
    t.sock().push('message_error', { room_id: ROOM, error: 'Message content too long (max 5000 characters)', error_code: 'INVALID_CONTENT' });
    await flush();
    expect(t.session.rooms.get(ROOM)!.outbox.get(cid)?.state).toBe('failed');
    expect(t.notices().pop()).toMatch(/too long/);
    t.session.sendMessage(ROOM, 'y');
    t.sock().push('message_error', { room_id: ROOM, error: 'Administrator node unavailable', error_code: 'ADMIN_NODE_UNAVAILABLE' });
    await flush();
    expect(t.notices().pop()).toMatch(/unavailable: its host node node1 is down/);
    expect(t.session.rooms.get(ROOM)!.status).toBe('unavailable');
    t.sock().push('room_available', { room_id: ROOM, admin_node: 'node1' });
    expect(t.session.rooms.get(ROOM)!.status).toBe('joined');
  });

  it('keeps the notice that a room moved when room_available follows room_host_changed', async () => {
    const t = setup();
    await joinFresh(t, 2, [1, 2]);
    t.sock().push('room_unavailable', { room_id: ROOM, admin_node: 'node1', reason: 'Host node node1 is unreachable' });
    await flush();
    expect(t.session.rooms.get(ROOM)!.status).toBe('unavailable');
    t.sock().push('room_host_changed', { room_id: ROOM, admin_node: 'node2', host_epoch: 2 });
    await flush();
    expect(t.notices().pop()).toMatch(/moved to node2/);
    t.sock().push('room_available', { room_id: ROOM, admin_node: 'node2' });
    await flush();
    expect(t.session.rooms.get(ROOM)!.status).toBe('joined');
    expect(t.notices().pop()).toMatch(/moved to node2/);
  });

  it('fills a persistent gap from get_history', async () => {
    const t = setup();
    await joinFresh(t, 2, [1, 2]);
    t.sock().push('new_message', msg(5) as any);
    expect(t.shown()).toEqual([1, 2]);
    t.clock.advance(500);
    const req = t.sock().last('get_history');
    expect(req.data).toEqual({ room_id: ROOM, after_sequence: 2, limit: 200 });
    t.sock().push('history', { room_id: ROOM, messages: [msg(3), msg(4), msg(5)], has_more: false, first_sequence: 1, last_sequence: 5 });
    await flush();
    expect(t.shown()).toEqual([1, 2, 3, 4, 5]);
  });

  it('loads older history above the oldest message shown', async () => {
    const t = setup();
    const room = await joinFresh(t, 150, Array.from({ length: 100 }, (_, i) => 51 + i));
    const p = t.session.loadOlder(ROOM);
    expect(t.sock().last('get_history').data).toEqual({ room_id: ROOM, before_sequence: 51, limit: 50 });
    t.sock().push('history', { room_id: ROOM, messages: Array.from({ length: 50 }, (_, i) => msg(1 + i)), has_more: true, first_sequence: 1, last_sequence: 150 });
    expect(await p).toBe(50);
    expect(room.oldestShown).toBe(1);
    expect(room.hasOlder).toBe(false);
  });

  it('tracks members and handles the two-phase-commit deletion events', async () => {
    const t = setup();
    const room = await joinFresh(t, 0, []);
    t.sock().push('member_joined', { room_id: ROOM, username: 'carol', member_count: 3, timestamp: 't' });
    t.sock().push('member_left', { room_id: ROOM, username: 'bob', member_count: 2, timestamp: 't', reason: 'User disconnected' });
    expect([...room.members].sort()).toEqual(['alice', 'carol']);
    t.session.deleteRoom(ROOM);
    expect(t.sock().last('delete_room').data).toEqual({ room_id: ROOM, username: 'alice' });
    t.sock().push('delete_room_initiated', { room_id: ROOM, initiator: 'alice', status: 'in_progress', transaction_id: 'tx' });
    expect(room.deleting).toBe(true);
    t.sock().push('delete_room_failed', { room_id: ROOM, reason: 'Node node3 timed out', error_code: 'DELETION_FAILED' });
    expect(room.deleting).toBe(false);
    expect(t.notices().pop()).toMatch(/Deleting “general” failed: Node node3 timed out/);
    t.session.deleteRoom(ROOM);
    t.sock().push('delete_room_initiated', { room_id: ROOM, initiator: 'alice', status: 'in_progress', transaction_id: 'tx2' });
    t.sock().push('delete_room_success', { room_id: ROOM, transaction_id: 'tx2', message: 'Room deleted successfully' });
    t.sock().push('room_deleted', { room_id: ROOM, room_name: 'general', message: "Room 'general' has been deleted" });
    expect(t.session.rooms.has(ROOM)).toBe(false);
    expect(t.events.some((e) => e.kind === 'gone' && e.room.status === 'deleted')).toBe(true);
  });

  it('shows room_deleted to other members', async () => {
    const t = setup();
    await joinFresh(t, 0, []);
    t.sock().push('delete_room_initiated', { room_id: ROOM, initiator: 'bob', status: 'in_progress' });
    expect(t.session.rooms.get(ROOM)!.notice).toMatch(/bob is deleting/);
    t.sock().push('room_deleted', { room_id: ROOM, room_name: 'general' });
    expect(t.notices().pop()).toMatch(/“general” has been deleted/);
    expect(t.session.rooms.has(ROOM)).toBe(false);
  });

  it('treats its own member_left for inactivity as removal, and re-joins after a stale disconnect', async () => {
    const t = setup();
    const room = await joinFresh(t, 2, [1, 2]);
    t.sock().push('member_left', { room_id: ROOM, username: 'alice', member_count: 1, timestamp: 't', reason: 'Node unreachable' });
    expect(t.sock().last('join_room').data).toEqual({ room_id: ROOM, username: 'alice', since_sequence: 2 });
    t.sock().push('join_room_success', { room_id: ROOM, room_name: 'general', description: null, members: ['alice'], member_count: 1, admin_node: 'node1', first_sequence: 1, last_sequence: 2 });
    await flush();
    expect(room.status).toBe('joined');
    t.sock().push('member_left', { room_id: ROOM, username: 'alice', member_count: 0, timestamp: 't', reason: 'Inactivity' });
    expect(room.status).toBe('removed');
    expect(t.notices().pop()).toMatch(/removed .* inactivity/);
  });

  it('matches a generic error to the oldest pending request', async () => {
    const t = setup();
    t.session.connect();
    t.sock().open();
    t.sock().push('global_rooms_list', { rooms: [] });
    const p = t.session.createRoom('x', null);
    t.sock().push('error', { success: false, message: 'Username does not match this connection', error_code: 'UNAUTHORIZED' });
    await expect(p).rejects.toThrow(/does not match/);
    const q = t.session.createRoom('general', null);
    t.sock().push('room_created', { success: false, message: "Room with name 'general' already exists" });
    await expect(q).rejects.toThrow(/already exists/);
  });

  it('close() stops reconnecting', () => {
    const t = setup();
    t.session.connect();
    t.sock().open();
    t.session.close();
    t.clock.advance(10000);
    expect(t.sockets.length).toBe(1);
    expect(t.session.status).toBe('closed');
  });
});

describe('ChatSession.reconnectNow', () => {
  it('skips the backoff wait and tries the planned node', () => {
    const t = setup();
    t.session.connect();
    t.sock().open();
    t.sock().close();
    t.clock.advance(100);
    t.sock().close(); // same node refused; next planned: n2 after 200 ms
    expect(t.sockets.length).toBe(2);
    t.session.reconnectNow();
    expect(t.sockets.length).toBe(3);
    expect(t.sock().url).toBe('ws://n2:2/');
    t.clock.advance(1000);
    expect(t.sockets.length).toBe(3);
  });
});

describe('ChatSession deletion by the creator', () => {
  it('names the room once when room_deleted arrives before delete_room_success', async () => {
    const t = setup();
    await joinFresh(t, 0, []);
    t.session.deleteRoom(ROOM);
    t.sock().push('delete_room_initiated', { room_id: ROOM, initiator: 'alice', status: 'in_progress', transaction_id: 'tx' });
    t.sock().push('room_deleted', { room_id: ROOM, room_name: 'general', message: "Room 'general' has been deleted", transaction_id: 'tx' });
    t.sock().push('delete_room_success', { room_id: ROOM, transaction_id: 'tx', message: 'Room deleted successfully' });
    const notices = t.events.filter((e) => e.kind === 'notice') as { text: string; key?: string }[];
    expect(notices.map((n) => n.text)).toEqual(['Room “general” deleted: every node committed.']);
    expect(notices[0].key).toBe(`delete:${ROOM}`);
    expect(t.session.rooms.has(ROOM)).toBe(false);
  });
});

describe('ChatSession identity', () => {
  it('sends its token on every (re)connect URL, to every node', () => {
    const clock = new Clock();
    const sockets: FakeSocket[] = [];
    const session = new ChatSession({
      username: 'alice',
      token: 'a.b+c/d',
      nodes: ['n1:1', 'n2:2'],
      createSocket: (url) => (sockets.push(new FakeSocket(url)), sockets[sockets.length - 1]),
      backoff: new Backoff({ initialMs: 100, jitter: 0 }),
      setTimeout: clock.setTimeout,
      clearTimeout: clock.clearTimeout,
      onEvent: () => undefined,
    });
    session.connect();
    sockets[0].open();
    sockets[0].close();
    clock.advance(100);
    sockets[1].close();
    clock.advance(200);
    expect(sockets.map((s) => s.url)).toEqual(['ws://n1:1/?token=a.b%2Bc%2Fd', 'ws://n1:1/?token=a.b%2Bc%2Fd', 'ws://n2:2/?token=a.b%2Bc%2Fd']);
  });

  it('retries a rejoin refused with USERNAME_TAKEN (its previous socket is not seen closed yet)', async () => {
    const t = setup();
    await joinFresh(t, 3, [1, 2, 3]);
    t.sock().close();
    t.clock.advance(100);
    t.sock().open();
    t.sock().push('join_room_error', { room_id: ROOM, error: 'in use', error_code: 'USERNAME_TAKEN' });
    await flush();
    expect(t.session.rooms.get(ROOM)!.status).toBe('unavailable');
    const joinsBefore = t.sock().sent.filter((f) => f.type === 'join_room').length;
    t.clock.advance(3000);
    expect(t.sock().sent.filter((f) => f.type === 'join_room')).toHaveLength(joinsBefore + 1);
    t.sock().push('join_room_success', { room_id: ROOM, room_name: 'general', description: null, members: ['alice'], member_count: 1, admin_node: 'node1', first_sequence: 1, last_sequence: 3 });
    expect(t.session.rooms.get(ROOM)!.status).toBe('joined');
  });

  it('opens a direct conversation: the room is known from the reply and takes the replay that follows it; a refusal is readable', async () => {
    const t = setup();
    t.session.connect();
    t.sock().open();
    const opening = t.session.openDirect('bob');
    expect(t.sock().last()).toEqual({ type: 'open_direct', data: { username: 'alice', with: 'bob', history_limit: 100 } });
    t.sock().push('join_room_success', { room_id: ROOM, room_name: 'alice ↔ bob', description: null, members: ['alice', 'bob'], member_count: 2, admin_node: 'node1', first_sequence: 1, last_sequence: 2 });
    t.sock().push('new_message', msg(1) as any);
    t.sock().push('new_message', msg(2) as any);
    const room = await opening;
    expect(room.id).toBe(ROOM);
    expect(room.name).toBe('alice ↔ bob');
    expect(t.session.rooms.get(ROOM)).toBe(room);
    expect(room.buffer.lastSeq).toBe(2);
    const refused = t.session.openDirect('alice');
    t.sock().push('error', { success: false, message: 'A direct conversation needs two different users', error_code: 'INVALID_REQUEST', request: 'open_direct', with: 'alice' });
    await expect(refused).rejects.toThrow(/two different users/);
  });
});
