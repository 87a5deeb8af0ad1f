import { readDb } from '../support/chat-db';
import { eventually, meshHealthy } from '../support/cluster';
import { createRoom, framesOf, join, useCluster } from '../support/rooms';

/**
 * A deletion is one entry in the room's log: a host killed in the middle of one leaves a cluster
 * that agrees either way. Killed before a majority stored it, the entry commits with the next
 * host or is dropped; killed after, every node applies it. Nobody is told of a deletion that did
 * not happen, and no node keeps a room the others deleted.
 */
describe('durability: host killed (SIGKILL) during a room deletion', () => {
  jest.setTimeout(60000);
  const suite = useCluster(3, { FAILOVER_TIMEOUT: '1' });
  const open = (node: number) => suite.open(node);
  const roomOn = (node: number, room: string) => readDb(suite.cluster.node(node)).rooms.some((r) => r.room_id === room);
  const tombstoneOn = (node: number, room: string) => readDb(suite.cluster.node(node)).tombstones.some((t) => t.room_id === room);

  it('killed before a majority stored the deletion: the nodes agree (deleted everywhere or nowhere), and a success was never reported for a room that lives on', async () => {
    const owner = await open(1);
    const room = await createRoom(owner, 'half-deleted', 'owner'); // hosted by node1
    await join(owner, room, 'owner');
    const member = await open(2);
    await join(member, room, 'member');

    // both followers stop answering: the host writes the deletion, nobody else stores it
    const paused = [2, 3].map((n) => suite.cluster.node(n).pid!);
    for (const pid of paused) process.kill(pid, 'SIGSTOP');
    try {
      owner.send('delete_room', { room_id: room, username: 'owner' });
      await eventually(() => framesOf(owner, 'delete_room_initiated').length > 0, 5000, 5);
      await suite.cluster.node(1).stop('SIGKILL');
    } finally {
      for (const pid of paused) process.kill(pid, 'SIGCONT');
    }
    expect(framesOf(owner, 'delete_room_success')).toEqual([]);
    await suite.cluster.node(1).start();
    await meshHealthy(suite.cluster.nodes);

    // whichever way it went, every node ends the same: a room that works, or a tombstone
    const settled = await eventually(() => {
      const live = [1, 2, 3].map((n) => roomOn(n, room));
      const gone = [1, 2, 3].map((n) => tombstoneOn(n, room));
      if (live.every(Boolean) && !gone.some(Boolean)) return 'active';
      if (gone.every(Boolean) && !live.some(Boolean)) return 'deleted';
      return null;
    }, 20000, 100);
    if (settled === 'active') {
      await eventually(async () => {
        await member.drain(0);
        const r = await member.request('send_message', { room_id: room, username: 'member', content: 'still here?' }, 'message_sent', 'message_error');
        return r.type === 'message_sent';
      }, 10000, 200);
      expect(framesOf(member, 'room_deleted')).toEqual([]);
    } else {
      await eventually(() => framesOf(member, 'room_deleted').some((f) => f.data.room_id === room), 10000);
    }
    console.log(`deletion written by a host killed before a majority stored it: ${settled} on every node`);
  });

  it('killed right after the deletion committed: it reaches every node, and a restarted host keeps its tombstone', async () => {
    const owner = await open(1);
    const room = await createRoom(owner, 'committing', 'committer'); // hosted by node1
    await join(owner, room, 'committer');
    const member = await open(3);
    await join(member, room, 'member3');

    const done = await owner.request('delete_room', { room_id: room, username: 'committer' }, 'delete_room_success', 'delete_room_failed');
    expect(done.type).toBe('delete_room_success');
    await suite.cluster.node(1).stop('SIGKILL');
    await eventually(() => framesOf(member, 'room_deleted').some((f) => f.data.room_id === room), 10000);
    await suite.cluster.node(1).start();
    await meshHealthy(suite.cluster.nodes);
    for (const n of [1, 2, 3]) {
      const probe = await open(n);
      const r = await probe.request('join_room', { room_id: room, username: `late${n}` }, 'join_room_success', 'join_room_error');
      expect({ n, type: r.type, code: r.data.error_code }).toEqual({ n, type: 'join_room_error', code: 'ROOM_NOT_FOUND' });
    }
    await eventually(() => [1, 2, 3].every((n) => tombstoneOn(n, room) && !roomOn(n, room)), 10000, 100);
  });
});
