import { readDb } from '../support/chat-db';
import { eventually, meshHealthy } from '../support/cluster';
import { createRoom, expectContiguous, framesOf, fullHistory, join, sendPipelined, useCluster } from '../support/rooms';

/**
 * A member node (hosting none of the rooms involved) is killed with SIGKILL while traffic goes on
 * in rooms hosted elsewhere, a room is created and another deleted while it is down. When it comes
 * back it catches up from the hosts on its own: its database holds every message in order, the
 * new room, and the deletion.
 */
describe('durability: member node killed (SIGKILL) during traffic catches up', () => {
  jest.setTimeout(60000);
  const suite = useCluster(3);
  const open = (node: number) => suite.open(node);


  it('replica on the restarted node holds every message, the rooms created and the deletions made while it was down', async () => {
    const node3 = suite.cluster.node(3);
    const alice = await open(1);
    const room = await createRoom(alice, 'busy', 'alice'); // hosted by node1
    const doomed = await createRoom(alice, 'doomed', 'alice'); // hosted by node1, deleted while node3 is down
    await join(alice, room, 'alice');
    const bob = await open(2);
    await join(bob, room, 'bob');

    // node3 knows both rooms and has some of the traffic before it dies
    const zoe = await open(3);
    await join(zoe, room, 'zoe');
    await join(zoe, doomed, 'zoe');
    await sendPipelined(zoe, room, 'zoe', 5, 'zoe-before');
    await zoe.close();

    // traffic from the host and from a forwarding node; node3 is killed in the middle of it
    for (let i = 0; i < 150; i++) alice.send('send_message', { room_id: room, username: 'alice', content: `a-${i}` });
    for (let i = 0; i < 150; i++) bob.send('send_message', { room_id: room, username: 'bob', content: `b-${i}` });
    await eventually(() => framesOf(alice, 'message_sent').length + framesOf(bob, 'message_sent').length >= 60, 15000, 2);
    await node3.stop('SIGKILL');
    await eventually(() => framesOf(alice, 'message_sent').length === 150 && framesOf(bob, 'message_sent').length === 150, 20000);
    expect(framesOf(alice, 'message_error')).toEqual([]);
    expect(framesOf(bob, 'message_error')).toEqual([]);

    // a room created on node2 while node3 is down, with messages
    const newRoom = await createRoom(bob, 'born-while-down', 'bob');
    await join(bob, newRoom, 'bob');
    await sendPipelined(bob, newRoom, 'bob', 20, 'new');

    // the deletion of a room node3 holds a replica of
    const del = await alice.request('delete_room', { room_id: doomed, username: 'alice' }, 'delete_room_success', 'delete_room_failed');
    expect(del.type).toBe('delete_room_success');

    const lastRoom = 305;
    const onHost = await fullHistory(suite.cluster.node(1), room, 'hostview');
    expectContiguous(onHost.messages, 1, lastRoom);

    // node3 returns and catches up by itself (no client asks it anything)
    await node3.start();
    await meshHealthy(suite.cluster.nodes);
    await eventually(() => /Caught up with node1/.test(node3.output) && /Caught up with node2/.test(node3.output), 10000);
    await node3.stop('SIGTERM');
    const db = readDb(node3);
    expect(db.messages(room).map((m) => [m.sequence_number, m.message_id, m.content])).toEqual(
      onHost.messages.map((m) => [m.sequence_number, m.message_id, m.content]),
    );
    expect(db.rooms.find((r) => r.room_id === room)).toMatchObject({ host_node: 'node1', last_sequence: lastRoom, state: 'ACTIVE' });
    expect(db.rooms.find((r) => r.room_id === newRoom)).toMatchObject({ host_node: 'node2', last_sequence: 20 });
    expect(db.messages(newRoom).map((m) => m.content)).toEqual(Array.from({ length: 20 }, (_, i) => `new-${i}`));
    expect(db.rooms.find((r) => r.room_id === doomed)).toBeUndefined();
    expect(db.messages(doomed)).toEqual([]);
    expect(db.tombstones.find((t) => t.room_id === doomed)).toMatchObject({ room_name: 'doomed', host_node: 'node1' });
    // zoe's connections died with node3: she is no member anywhere any more
    expect(db.members.filter((m) => m.username === 'zoe')).toEqual([]);

    // and its clients see it: everything in order, the new room, and the deleted room is gone
    await node3.start();
    await meshHealthy(suite.cluster.nodes);
    const seen = await fullHistory(node3, room, 'late');
    expect(seen.messages.map((m) => [m.sequence_number, m.message_id])).toEqual(onHost.messages.map((m) => [m.sequence_number, m.message_id]));
    const seenNew = await fullHistory(node3, newRoom, 'late');
    expectContiguous(seenNew.messages, 1, 20);
    const probe = await open(3);
    const refused = await probe.request('join_room', { room_id: doomed, username: 'late2' }, 'join_room_success', 'join_room_error');
    expect(refused.type).toBe('join_room_error');
    expect(refused.data.error_code).toBe('ROOM_NOT_FOUND');

    // live traffic reaches node3 again
    const live = await open(3);
    await join(live, room, 'live', lastRoom);
    await alice.drain(0);
    const sent = await alice.request('send_message', { room_id: room, username: 'alice', content: 'welcome back' }, 'message_sent', 'message_error');
    expect(sent.data.sequence_number).toBe(lastRoom + 1);
    const got = await live.nextOf('new_message', 10000);
    expect(got.data).toMatchObject({ sequence_number: lastRoom + 1, content: 'welcome back' });
  });
});
