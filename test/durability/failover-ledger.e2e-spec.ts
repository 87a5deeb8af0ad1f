import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { TestCluster } from '../support/cluster';
import { AckLedger, checkCluster, clusterViolations, FailoverMember } from './failover-ledger';
import { createRoom } from '../support/rooms';

/**
 * The failover checker itself: quiet on a healthy cluster, loud on each kind of damage it is there
 * to find (a lost acked message, a replica that differs, two hosts in one epoch, a shown message
 * that is gone). Without this a fault test whose checker never fails would prove nothing.
 */
describe('failover ledger (the checker of the failover fault tests)', () => {
  jest.setTimeout(40000);
  let cluster: TestCluster;
  const ledger = new AckLedger();
  const members: FailoverMember[] = [];
  let room: string;

  beforeAll(async () => {
    cluster = await TestCluster.start(3);
  });
  afterAll(async () => {
    await Promise.all(members.map((m) => m.close().catch(() => undefined)));
    await cluster?.stop();
  });

  it('passes a cluster where every member on every node sent and was acknowledged', async () => {
    for (const i of [1, 2, 3]) members.push(await FailoverMember.connect(ledger, `user${i}`, cluster.nodes, cluster.node(i)));
    room = await createRoom(members[0].client, 'ledger-room', 'user1');
    for (const m of members) await m.join(room);
    await Promise.all(members.map((m) => m.burst(room, 15)));
    expect(ledger.acksIn(room).map((a) => a.sequence_number)).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
    await checkCluster(cluster.nodes, [room], ledger);
  });

  it('reports a lost acked message, a differing replica, a second host in one epoch and a vanished shown message', async () => {
    const victim = cluster.node(3);
    await victim.stop('SIGTERM');
    const db = new DatabaseSync(path.join(victim.env.DATA_DIR, 'chat.db'));
    db.prepare('DELETE FROM messages WHERE room_id = ? AND sequence_number = 45').run(room);
    db.prepare("UPDATE messages SET content = 'tampered' WHERE room_id = ? AND sequence_number = 7").run(room);
    db.prepare("UPDATE rooms SET host_node = 'node3' WHERE room_id = ?").run(room);
    db.close();
    await victim.start();
    const found = clusterViolations(cluster.nodes, [room], ledger).join('\n');
    expect(found).toMatch(/node3 .*last_sequence 45 but 44 messages/);
    expect(found).toMatch(/differ at sequence 7/);
    expect(found).toMatch(/TWO HOSTS IN ONE EPOCH/);
    const alone = clusterViolations([victim], [room], ledger).join('\n');
    expect(alone).toMatch(/acked user\d-.*\(seq 45\) missing/);
    expect(alone).toMatch(/was shown seq 7 .* the room holds/);
  });

  it('reports one sequence acknowledged for two different messages, once however often it is repeated', () => {
    const ledger2 = new AckLedger();
    const client = ledger2.watch(members[0].client, 'user1');
    const ack = (cmid: string, id: string) => client.ws.emit('message', Buffer.from(JSON.stringify({ type: 'message_sent', data: { room_id: room, client_message_id: cmid, sequence_number: 99, message_id: id } })));
    ack('a-1', 'm-a');
    ack('a-1', 'm-a'); // a retry acknowledged again: fine
    expect(ledger2.violations).toEqual([]);
    ack('b-1', 'm-b');
    ack('b-1', 'm-b');
    expect(ledger2.violations).toEqual([`ONE SEQUENCE ACKED FOR TWO MESSAGES: ${room} seq 99 acked to user1 for a-1/m-a, then to user1 for b-1/m-b`]);
    expect(ledger2.allAcks).toHaveLength(4);
  });
});
