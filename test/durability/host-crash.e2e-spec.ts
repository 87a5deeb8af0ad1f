import type { TestClient } from '../support/test-client';
import { eventually, meshHealthy } from '../support/cluster';
import { createRoom, expectContiguous, framesOf, fullHistory, join, receivedUpTo, useCluster } from '../support/rooms';

/**
 * kill -9 of a room's host in the middle of a burst of sends: every acknowledged message survives
 * with its sequence number, the sequence continues without reuse, replicas catch up, and the
 * members whose connections ended with the crash are removed and announced.
 */
describe('durability: host killed (SIGKILL) mid-burst', () => {
  jest.setTimeout(60000);
  const suite = useCluster(2);
  const open = (node: number) => suite.open(node);

  let roomId: string;
  let bob: TestClient;
  /** client_message_id -> the message_sent it got before the crash, and the content sent with it. */
  const acked = new Map<string, { message_id: string; sequence_number: number; content: string }>();
  let lastAfterRestart = 0;


  it('keeps every acknowledged message, in order, and continues the sequence after restart', async () => {
    const alice = await open(1); // on the host
    roomId = await createRoom(alice, 'crash-room', 'alice');
    await join(alice, roomId, 'alice');
    bob = await open(2); // on the member node: sends are forwarded to the host
    await join(bob, roomId, 'bob');
    const carol = await open(2);
    await join(carol, roomId, 'carol');

    const contentOf = new Map<string, string>();
    const burst = (client: TestClient, user: string, n: number) => {
      for (let i = 0; i < n; i++) {
        const id = `${user}-${i}`;
        const content = `${user} message ${i} ${'x'.repeat(i % 50)}`;
        contentOf.set(id, content);
        client.send('send_message', { room_id: roomId, username: user, content, client_message_id: id });
      }
    };
    burst(alice, 'alice', 300);
    burst(bob, 'bob', 150);

    const ackCount = () => framesOf(alice, 'message_sent').length + framesOf(bob, 'message_sent').length;
    await eventually(() => ackCount() >= 100, 15000, 2);
    await suite.cluster.node(1).stop('SIGKILL');
    const killedAt = ackCount();

    // Only what was acknowledged before the crash counts; bob's queued sends fail (host unavailable).
    for (const f of [...framesOf(alice, 'message_sent'), ...framesOf(bob, 'message_sent')]) {
      const id = f.data.client_message_id as string;
      acked.set(id, { message_id: f.data.message_id, sequence_number: f.data.sequence_number, content: contentOf.get(id)! });
    }
    expect(acked.size).toBe(killedAt);
    expect(acked.size).toBeLessThan(450); // the kill really landed mid-burst

    // Wait until node2 has given up on the host (bob's queued sends are refused), then carol leaves by disconnecting.
    await eventually(() => framesOf(bob, 'room_unavailable').length > 0, 10000);
    await eventually(() => framesOf(bob, 'message_sent').length + framesOf(bob, 'message_error').length >= 150, 20000);
    for (const f of framesOf(bob, 'message_error')) expect(f.data.error_code).toBe('ADMIN_NODE_UNAVAILABLE');
    await carol.close();

    await suite.cluster.node(1).start();

    await meshHealthy(suite.cluster.nodes);

    const dave = await open(1);
    const joined = await join(dave, roomId, 'dave', 0);
    const last = joined.data.last_sequence as number;
    const history = last > 0 ? (await receivedUpTo(dave, roomId, last)).filter((m) => m.sequence_number <= last) : [];
    const maxAcked = Math.max(...[...acked.values()].map((a) => a.sequence_number));
    expect(last).toBeGreaterThanOrEqual(maxAcked);
    expectContiguous(history, 1, last);
    const bySeq = new Map(history.map((m) => [m.sequence_number, m]));
    for (const [id, a] of acked) {
      const m = bySeq.get(a.sequence_number);
      expect({ id, message_id: m?.message_id, content: m?.content }).toEqual({ id, message_id: a.message_id, content: a.content });
    }
    // message ids are unique: no sequence number was handed out twice
    expect(new Set(history.map((m) => m.message_id)).size).toBe(history.length);
    // each user's messages are stored in the order that user sent them
    for (const user of ['alice', 'bob']) {
      const idx = history.filter((m) => m.username === user).map((m) => Number(m.content.split(' ')[2]));
      expect(idx).toEqual([...idx].sort((x, y) => x - y));
    }

    // The sequence continues at last + 1 (nothing reused, nothing skipped).
    const sent = await dave.request('send_message', { room_id: roomId, username: 'dave', content: 'after restart' }, 'message_sent', 'message_error');
    expect(sent.type).toBe('message_sent');
    expect(sent.data.sequence_number).toBe(last + 1);
    lastAfterRestart = last + 1;

    // A forwarded send from the member node works again and continues the same sequence.
    await eventually(() => framesOf(bob, 'room_available').length > 0, 10000);
    await bob.drain(0); // the replies to the burst are still queued
    const fromBob = await bob.request('send_message', { room_id: roomId, username: 'bob', content: 'bob after restart' }, 'message_sent', 'message_error');
    expect({ type: fromBob.type, data: fromBob.data }).toMatchObject({ type: 'message_sent' });
    expect(fromBob.data.sequence_number).toBe(last + 2);
    lastAfterRestart = last + 2;
  });

  it('the member node\'s replica holds the same history, and its connected member misses nothing', async () => {
    expect(lastAfterRestart).toBeGreaterThan(0);
    const onHost = await fullHistory(suite.cluster.node(1), roomId, 'erin');
    const onReplica = await fullHistory(suite.cluster.node(2), roomId, 'frank');
    expectContiguous(onHost.messages, 1, lastAfterRestart);
    expect(onReplica.messages.map((m) => [m.sequence_number, m.message_id, m.content])).toEqual(
      onHost.messages.map((m) => [m.sequence_number, m.message_id, m.content]),
    );
    // bob stayed connected to node2 the whole time: he got every message exactly once, in order
    const got = await receivedUpTo(bob, roomId, lastAfterRestart);
    expectContiguous(got, 1, lastAfterRestart);
  });

  it('announces that the member connected to the killed host is gone (member_left to the others)', async () => {
    const left = await eventually(() => framesOf(bob, 'member_left').find((f) => f.data.username === 'alice'), 10000);
    expect(left!.data).toMatchObject({ room_id: roomId, username: 'alice', reason: 'User disconnected' });
    const probe = await open(2);
    const joined = await join(probe, roomId, 'probe-1');
    expect(joined.data.members).not.toContain('alice');
  });

  it('removes a member whose connection (on another node) ended while the host was down', async () => {
    // carol was connected to node2 and disconnected while node1 (the host) was down.
    const members = await eventually(async () => {
      const probe = await open(2);
      const joined = await join(probe, roomId, `probe-${Math.random().toString(36).slice(2, 8)}`);
      await probe.close();
      const list = joined.data.members as string[];
      return list.includes('carol') ? null : list;
    }, 10000, 500);
    expect(members).not.toContain('carol');
    expect(framesOf(bob, 'member_left').some((f) => f.data.username === 'carol')).toBe(true);
  });
});

