import { eventually } from '../support/cluster';
import { checkCluster, failoverSeed, readRooms, SeededRandom } from './failover-ledger';
import {
  endScenario,
  errorsOtherThanRetryable,
  failoverLine,
  hostSettled,
  joinDuringSwitch,
  knowsHost,
  listedHost,
  phase,
  probe,
  safeCount,
  scenario,
  settle,
  traffic,
  WRITABLE_WITHIN_MS,
} from './failover-scenario';

/**
 * Failover with real node processes on loopback: the host of a room is killed (kill -9, never
 * back), paused past FAILOVER_TIMEOUT (kill -STOP, then -CONT), killed twice in a row, and a
 * replica is killed again in the middle of its catch-up. Members on every node keep sending with
 * client_message_ids (retrying the same id until acknowledged, moving to a survivor when their
 * node is gone); afterwards checkCluster holds every acknowledged and shown message against every
 * node's chat.db and get_history. FAILOVER_SEED replays a run's choices (kill points, sizes).
 */

const SEED = failoverSeed();

afterEach(endScenario);

describe('failover: a room survives its host (3 real nodes, FAILOVER_TIMEOUT=1)', () => {
  jest.setTimeout(45000);

  it('kill -9 of the host mid-burst, never back: a survivor takes over at a new epoch and nothing acknowledged is lost', async () => {
    const rng = new SeededRandom(SEED);
    const s = await scenario([2, 2, 2]);
    const [n1, n2, n3] = s.cluster.nodes;
    const writable = await probe(s, n3);
    const perMember = 30;
    const sending = phase(s, s.members, perMember, 'burst', rng);
    await eventually(() => s.ledger.acks.size >= rng.int(10, 50), 15000, 2);
    const ackedBefore = s.ledger.acks.size;
    await n1.stop('SIGKILL');
    const newcomer = settle(joinDuringSwitch(s, n3)); // a join arriving while the room has no host
    const ms = await writable.writableAfter();
    console.log(`kill -9 of the host -> first ack on a survivor: ${ms} ms (${ackedBefore} acked before the kill)`);
    expect(ms).toBeLessThan(WRITABLE_WITHIN_MS);
    await sending;
    expect(ackedBefore).toBeLessThan(s.members.length * perMember); // the kill landed mid-burst

    const { host, epoch } = await hostSettled([n2, n3], s.room, ['node2', 'node3'], 1);
    const [hostNode, other] = host === 'node2' ? [n2, n3] : [n3, n2];
    expect(hostNode.output).toMatch(failoverLine('node1', 1, host, epoch));
    for (const m of [...s.on(2), ...s.on(3)]) {
      const told = s.ledger.hostChanges.some((h) => h.label === m.username && h.admin_node === host && h.host_epoch === epoch);
      expect({ who: m.username, told, reconnects: m.reconnects, silentDrops: m.timeouts }).toEqual({ who: m.username, told: true, reconnects: 0, silentDrops: 0 });
    }
    for (const m of s.on(1)) {
      expect({ who: m.username, movedToSurvivor: m.reconnects >= 1 && m.node !== n1, knowsHost: knowsHost(s, m, host, epoch) }).toEqual({ who: m.username, movedToSurvivor: true, knowsHost: true });
    }
    const health = (await (await fetch(`${hostNode.httpUrl}/health`)).json()) as { details: Record<string, Record<string, unknown>> };
    expect(health.details.failover).toMatchObject({ failovers: 1, suspected: ['node1'] });
    expect(errorsOtherThanRetryable(s)).toEqual([]);
    // list_rooms shows the rooms a node hosts (now the new host's); discover_rooms on any node names it as admin_node
    let listed: unknown[] = [];
    await eventually(async () => (listed = [await listedHost(hostNode, s.room), await listedHost(other, s.room)]) && JSON.stringify(listed) === JSON.stringify([{ list: host, discover: host }, { discover: host }]), 10000, 200).catch(() => {
      throw new Error(`list_rooms/discover_rooms on ${host}, ${other.spec.nodeId} name ${JSON.stringify(listed)} as the room's admin_node`);
    });

    await checkCluster([n2, n3], [s.room], s.ledger);
    // everyone, including those that moved off the dead node with since_sequence, was shown all of it
    const last = s.ledger.acks.size;
    await eventually(() => s.members.every((m) => s.ledger.resumePoint(m.username, s.room) === last), 10000);
    for (const m of s.on(1)) expect({ who: m.username, repeated: s.ledger.shownRepeats(m.username, s.room) }).toEqual({ who: m.username, repeated: [] });
    // the newcomer's join was retried through the switch; it joined at the new host and sees the room to its end
    const joined = await newcomer;
    expect(joined).toMatchObject({ ok: true, value: { admin_node: host } });
    await eventually(() => s.ledger.shownTo('n3-newcomer', s.room).at(-1) === last, 10000);
  });

  it('kill -STOP of the host past FAILOVER_TIMEOUT, then -CONT: the old host steps down, catches up, and its clients keep working', async () => {
    const rng = new SeededRandom(SEED + 1);
    // node1's members keep their connection through the pause: a reply may take as long as the pause
    const s = await scenario([2, 1, 1], (n) => (n === 1 ? { attemptTimeoutMs: 20000, deadlineMs: 30000 } : {}));
    const [n1, n2, n3] = s.cluster.nodes;
    const writable = await probe(s, n3);
    await phase(s, s.members, 5, 'warmup', rng);

    process.kill(n1.pid!, 'SIGSTOP');
    // sent to the paused host: it reads them only after -CONT, when it may still believe it hosts the room
    const parked = s.on(1).map((m) => settle(m.send(s.room, `${m.username} sent while its node was paused`, `${m.username}-paused`)));
    const ms = await writable.writableAfter();
    console.log(`kill -STOP of the host -> first ack on a survivor: ${ms} ms`);
    expect(ms).toBeLessThan(WRITABLE_WITHIN_MS);
    await phase(s, [...s.on(2), ...s.on(3)], 10, 'during-pause', rng);
    const { host, epoch } = await hostSettled([n2, n3], s.room, ['node2', 'node3'], 1);
    expect(s.ledger.ackOf(s.room, 'n1-a-paused')).toBeUndefined(); // node1 really was silent

    process.kill(n1.pid!, 'SIGCONT');
    await hostSettled([n1, n2, n3], s.room, host, epoch - 1);
    await Promise.all(parked);
    await checkCluster([n1, n2, n3], [s.room], s.ledger, { historyNode: n1 });
    // node1's own clients never left: what they sent while it was paused, and after, is acknowledged through it
    expect((await Promise.all(parked)).filter((r) => !r.ok)).toEqual([]);
    await phase(s, s.on(1), 5, 'after-cont', rng); // through node1, now forwarded to the new host
    for (const m of s.on(1)) expect({ who: m.username, node: m.node.spec.nodeId, reconnects: m.reconnects }).toEqual({ who: m.username, node: 'node1', reconnects: 0 });
    await checkCluster([n1, n2, n3], [s.room], s.ledger, { historyNode: n1 });
    expect(errorsOtherThanRetryable(s)).toEqual([]);
  });

  it('two failovers in a row: host killed, comes back as a replica, the second host killed: a third epoch', async () => {
    const rng = new SeededRandom(SEED + 2);
    const s = await scenario([1, 1, 1]);
    const [n1, n2, n3] = s.cluster.nodes;
    await phase(s, s.members, 5, 'epoch1', rng);

    const first = phase(s, s.members, 10, 'kill1', rng);
    await eventually(() => s.ledger.acks.size >= 15 + rng.int(1, 10), 15000, 2);
    await n1.stop('SIGKILL');
    await first;
    const second = await hostSettled([n2, n3], s.room, ['node2', 'node3'], 1);

    await n1.start();
    await hostSettled([n1, n2, n3], s.room, second.host, second.epoch - 1); // back as a replica, not as host
    await phase(s, s.members, 5, 'epoch2', rng);
    await checkCluster([n1, n2, n3], [s.room], s.ledger);

    const traffic2 = phase(s, s.members, 10, 'kill2', rng);
    const acked = s.ledger.acks.size;
    await eventually(() => s.ledger.acks.size >= acked + rng.int(1, 10), 15000, 2);
    const secondHost = s.cluster.nodes.find((n) => n.spec.nodeId === second.host)!;
    const survivors = s.cluster.nodes.filter((n) => n !== secondHost);
    await secondHost.stop('SIGKILL');
    await traffic2;
    const third = await hostSettled(survivors, s.room, survivors.map((n) => n.spec.nodeId), second.epoch);
    expect(survivors.find((n) => n.spec.nodeId === third.host)!.output).toMatch(failoverLine(second.host, second.epoch, third.host, third.epoch));
    // a member connected throughout to a node that never hosted the room is told of both moves, in order
    const bystander = [2, 3].find((k) => `node${k}` !== second.host && `node${k}` !== third.host);
    if (bystander !== undefined) {
      const watcher = s.on(bystander)[0];
      expect([...new Set(s.ledger.hostChanges.filter((h) => h.label === watcher.username).map((h) => `${h.admin_node}@${h.host_epoch}`))]).toEqual([`${second.host}@${second.epoch}`, `${third.host}@${third.epoch}`]);
    }
    await checkCluster(survivors, [s.room], s.ledger);
  });

  it('a replica killed again in the middle of its catch-up still ends with every message', async () => {
    const rng = new SeededRandom(SEED + 3);
    const s = await scenario([3, 3, 0]);
    const [n1, n2, n3] = s.cluster.nodes;
    await phase(s, s.members, 3, 'warmup', rng);
    await eventually(() => readRooms(n3, [s.room])[0].messages.length === 18, 10000);

    await n3.stop('SIGTERM');
    const bulk = 50 + rng.int(0, 30);
    const bulkStart = Date.now();
    await Promise.all(s.members.map((m) => traffic(m, s.room, bulk, 'bulk', new SeededRandom(rng.int(0, 2 ** 31)))));
    const total = s.ledger.acks.size;
    const bulkMs = Date.now() - bulkStart;
    // keep a trickle going while the replica comes and goes
    const trickle = phase(s, [s.members[0]], 20, 'trickle', rng);

    const killAt = 18 + rng.int(1, Math.floor((total - 18) / 3)); // somewhere in the first third of what it lacks
    const starting = n3.start().catch(() => undefined); // it is killed before it may report healthy
    const heldAtKill = await eventually(() => {
      const held = n3.running ? safeCount(n3, s.room) : 0;
      return held >= killAt && held < total ? held : 0;
    }, 20000, 2);
    await n3.stop('SIGKILL');
    await starting;
    const restarted = Date.now();
    await n3.start();
    await trickle;
    await checkCluster([n1, n2, n3], [s.room], s.ledger, { historyNode: n3 });
    console.log(`${total - 18} messages sent with the replica down in ${bulkMs} ms; replica killed mid-catch-up holding ${heldAtKill} of ${total}+; restarted and caught up in ${Date.now() - restarted} ms`);
  });
});
