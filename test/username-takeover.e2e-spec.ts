import { readDb } from './support/chat-db';
import { eventually } from './support/cluster';
import { createRoom, join, useCluster } from './support/rooms';
import type { TestClient } from './support/test-client';

/**
 * AUTH_MODE=open (the default) on three real nodes: a name held by a live connection cannot be
 * used by any other connection on any node, and is free again once that connection has closed.
 */
describe('open mode: no takeover of a live username', () => {
  const env = useCluster(3);
  const nodes = () => env.cluster.nodes.filter((n) => n.running);
  /** Every running node's replica lists exactly `usernames` as members of the room, through `nodeId`. */
  const membersEverywhere = (roomId: string) =>
    nodes().map((n) => readDb(n).members.filter((m) => m.room_id === roomId).map((m) => `${m.username}@${m.node_id}`).sort());
  const waitMembers = (roomId: string, expected: string[]) =>
    eventually(() => membersEverywhere(roomId).every((list) => JSON.stringify(list) === JSON.stringify([...expected].sort())), 10000);
  /** The join's reply frame (success or error), without throwing. */
  const tryJoin = (c: TestClient, roomId: string, username: string) =>
    c.request('join_room', { room_id: roomId, username }, 'join_room_success', 'join_room_error');

  it('refuses a second connection as a live member, on the same node and on the others, and leaves the room as it was', async () => {
    const alice = await env.open(1);
    const roomId = await createRoom(alice, 'takeover-join', 'alice');
    const other = await createRoom(await env.open(2), 'takeover-elsewhere', 'zed'); // hosted on node2
    await join(alice, roomId, 'alice');
    await waitMembers(roomId, ['alice@node1']);

    for (const node of [1, 2, 3]) {
      const intruder = await env.open(node);
      for (const target of [roomId, other]) {
        const reply = await tryJoin(intruder, target, 'alice');
        expect(reply).toMatchObject({ type: 'join_room_error', data: { room_id: target, error_code: 'USERNAME_TAKEN' } });
        expect(reply.data.error).toMatch(/in use by another live connection/);
      }
      const send = await intruder.request('send_message', { room_id: roomId, username: 'alice', content: 'not me' }, 'message_error', 'message_sent');
      expect(send.data.error_code).toBe('USERNAME_TAKEN');
      const leave = await intruder.request('leave_room', { room_id: roomId, username: 'alice' }, 'error', 'leave_room_success');
      expect(leave.data.error_code).toBe('USERNAME_TAKEN');
      const created = await intruder.request('create_room', { room_name: `as-alice-${node}`, creator_id: 'alice' }, 'room_created');
      expect(created.data).toMatchObject({ success: false, message: expect.stringMatching(/in use/) });
    }

    await waitMembers(roomId, ['alice@node1']);
    await waitMembers(other, []);
    // the holder is untouched: it still chats
    const sent = await alice.request('send_message', { room_id: roomId, username: 'alice', content: 'still me' }, 'message_sent', 'message_error');
    expect(sent.type).toBe('message_sent');
  });

  it('lets a client that reconnects after its old connection closed take its name again, on another node', async () => {
    const first = await env.open(1);
    const roomId = await createRoom(first, 'takeover-reconnect', 'rita');
    await join(first, roomId, 'rita');
    await waitMembers(roomId, ['rita@node1']);

    await first.close();
    const again = await env.open(2);
    const reply = await tryJoin(again, roomId, 'rita');
    expect(reply.type).toBe('join_room_success');
    await waitMembers(roomId, ['rita@node2']);
    // and the old node's late disconnect notice did not remove the new membership
    const sent = await again.request('send_message', { room_id: roomId, username: 'rita', content: 'back' }, 'message_sent', 'message_error');
    expect(sent.type).toBe('message_sent');
  });

  it('refuses the discover + delete attack on a room whose creator is online elsewhere; the room is intact on every node', async () => {
    const bob = await env.open(1);
    const roomId = await createRoom(bob, 'takeover-delete', 'bob');
    await join(bob, roomId, 'bob');
    await bob.request('send_message', { room_id: roomId, username: 'bob', content: 'keep me' }, 'message_sent');
    await waitMembers(roomId, ['bob@node1']);

    const attacker = await env.open(2);
    const found = await attacker.request('discover_rooms', undefined, 'global_rooms_list');
    const target = (found.data.rooms as { room_id: string; creator_id: string }[]).find((r) => r.room_id === roomId);
    expect(target?.creator_id).toBe('bob');
    const reply = await attacker.request('delete_room', { room_id: roomId, username: target!.creator_id }, 'delete_room_failed', 'delete_room_success');
    expect(reply).toMatchObject({ type: 'delete_room_failed', data: { room_id: roomId, error_code: 'USERNAME_TAKEN' } });

    for (const node of nodes()) {
      const db = readDb(node);
      expect(db.rooms.find((r) => r.room_id === roomId)).toMatchObject({ state: 'ACTIVE', last_sequence: 1 });
      expect(db.tombstones.some((t) => t.room_id === roomId)).toBe(false);
    }
    await waitMembers(roomId, ['bob@node1']);
    const history = await bob.request('get_history', { room_id: roomId }, 'history');
    expect(history.data.messages.map((m: { content: string }) => m.content)).toEqual(['keep me']);
    expect(bob.frames.some((f) => f.type === 'delete_room_initiated' || f.type === 'room_deleted')).toBe(false);
  });

  it('frees the names held through a node that was killed: its clients can rejoin through another node', async () => {
    const victim = await env.open(3);
    const roomId = await createRoom(await env.open(2), 'takeover-killed', 'host2');
    await join(victim, roomId, 'kim');
    await waitMembers(roomId, ['kim@node3']);

    await env.cluster.node(3).stop('SIGKILL');
    const moved = await env.open(1);
    const reply = await tryJoin(moved, roomId, 'kim');
    expect(reply.type).toBe('join_room_success');
    await waitMembers(roomId, ['kim@node1']);
  });
});
