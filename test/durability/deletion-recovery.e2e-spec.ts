import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { readDb } from '../support/chat-db';
import { eventually, meshHealthy } from '../support/cluster';
import { createRoom, framesOf, join, useCluster } from '../support/rooms';

/**
 * The two-phase-commit state is durable: a host killed in the middle of a deletion finishes it
 * (COMMITTING) or cancels it (still preparing) when it restarts, and every node ends up agreeing.
 */
describe('durability: host killed (SIGKILL) during a room deletion', () => {
  jest.setTimeout(60000);
  // a failover timeout longer than the tests' restarts: the restarted host gets its room back
  // (a majority confirms it) and finishes or cancels the deletion itself (failover.e2e covers a moved room)
  const suite = useCluster(3, { FAILOVER_TIMEOUT: '30' });
  const open = (node: number) => suite.open(node);

  it('killed while waiting for PREPARE votes: after restart the room is ACTIVE everywhere and members are told it was cancelled', async () => {
    const owner = await open(1);
    const room = await createRoom(owner, 'half-deleted', 'owner'); // hosted by node1
    await join(owner, room, 'owner');
    const member = await open(2);
    await join(member, room, 'member');
    const m3 = await open(3);
    await join(m3, room, 'm3'); // node3 has a member: an unanswered PREPARE there is not counted READY
    await m3.close();

    // node3 stops answering (SIGSTOP): the host's PREPARE to it hangs until the peer call timeout
    const pid3 = suite.cluster.node(3).pid!;
    process.kill(pid3, 'SIGSTOP');
    try {
      owner.send('delete_room', { room_id: room, username: 'owner' });
      await eventually(() => framesOf(member, 'delete_room_initiated').length > 0, 5000, 5);
      await suite.cluster.node(1).stop('SIGKILL');
    } finally {
      process.kill(pid3, 'SIGCONT');
    }
    await suite.cluster.node(1).start();
    await meshHealthy(suite.cluster.nodes);

    // the deletion did not happen: the room works again, also from node2 (whose replica was DELETION_PENDING)
    const again = await open(1);
    await join(again, room, 'owner');
    await eventually(async () => {
      await member.drain(0);
      const r = await member.request('send_message', { room_id: room, username: 'member', content: 'still here?' }, 'message_sent', 'message_error');
      return r.type === 'message_sent';
    }, 10000, 200);
    // and the member who saw delete_room_initiated learns the outcome
    const cancelled = await eventually(() => framesOf(member, 'delete_room_cancelled').find((f) => f.data.room_id === room), 10000);
    expect(cancelled!.data.transaction_id).toBe(framesOf(member, 'delete_room_initiated')[0].data.transaction_id);
  });

  it('killed after deciding COMMIT: after restart the deletion is finished and reaches the other nodes', async () => {
    const owner = await open(1);
    // other names than the first test's: its connections are still open, so those names are taken
    const room = await createRoom(owner, 'committing', 'committer'); // hosted by node1
    await join(owner, room, 'committer');
    const member = await open(2);
    await join(member, room, 'member2');

    // Simulates a crash between the COMMIT decision and the local delete: the host's stored state is COMMITTING.
    await suite.cluster.node(1).stop('SIGKILL');
    const file = path.join(suite.cluster.node(1).env.DATA_DIR, 'chat.db');
    const db = new DatabaseSync(file);
    db.prepare("UPDATE rooms SET state = 'COMMITTING', deletion_txn = 'txn-crash' WHERE room_id = ?").run(room);
    db.close();
    await suite.cluster.node(1).start();
    await meshHealthy(suite.cluster.nodes);

    const deleted = await eventually(() => framesOf(member, 'room_deleted').find((f) => f.data.room_id === room), 10000);
    expect(deleted!.data).toMatchObject({ room_id: room, room_name: 'committing', transaction_id: 'txn-crash' });
    const probe = await open(2);
    const r = await probe.request('join_room', { room_id: room, username: 'late' }, 'join_room_success', 'join_room_error');
    expect(r.type).toBe('join_room_error');

    await suite.cluster.node(2).stop('SIGTERM');
    const snap = readDb(suite.cluster.node(2));
    expect(snap.rooms.find((x) => x.room_id === room)).toBeUndefined();
    expect(snap.tombstones.find((t) => t.room_id === room)).toBeDefined();
    await suite.cluster.node(2).start();
    await meshHealthy(suite.cluster.nodes);
  });
});
