import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NodeProcess } from '../../src/cluster/node-process';
import { meshHealthy, TestCluster } from '../support/cluster';
import { createRoom, join } from '../support/rooms';
import { describeWithTool } from '../support/system-tools';
import { TestClient } from '../support/test-client';
import { within } from './chatter';
import { AckLedger, checkCluster, FailoverMember, SeededRandom } from './failover-ledger';
import { Burster, buildShim, cutPower, describeCut, powerCutSeed, shimEnv, shimSelfTest, snapshots, type CutReport } from './power-cut/power-cut';

/**
 * Power cuts: a message is acknowledged only once a majority of nodes has it on disk (fsynced), so
 * cutting the power of any set of nodes keeps every acknowledged message. kill -9 cannot show
 * that (the page cache outlives the process); here every node runs with durable-shadow.c
 * preloaded (built with gcc), which copies each file of DATA_DIR aside at every fsync/fdatasync,
 * so the copy is what a power cut leaves when no dirty page reached the disk by itself. A cut is
 * kill -9 of the nodes at once, then each DATA_DIR replaced by its copy (files never synced, the
 * -shm at least, are gone); then the nodes start again.
 *
 * One cluster of three, one room per test, hosted by a seeded node: members on every node send
 * bursts with client_message_ids; at a seeded number of acknowledgements the power goes (the host;
 * the host and a follower; all three, twice); after the restart a new member sends once more,
 * then every acknowledged and every shown message of every room so far must be on every node's database
 * exactly once at its sequence, identical everywhere, contiguous, and in get_history
 * (checkCluster). POWERCUT_SEED replays a run's choices (the seed is printed); the last run's node
 * logs and data, each cut's live and durable directories and the ledger are kept in $TMPDIR/power-cut/.
 *
 * It fails against a broken build. With StoreTransactions.syncCommitted calling back on the next
 * turn and leaving its fdatasync running unawaited (answers to peers and the host's own count no
 * longer wait for the disk; nothing else changed), 4 runs of this suite out of 4 failed (seeds
 * 1560625648, 1134973933, 1882227411, 892534257): two in the first cut of all three nodes
 * ("acked all-n2-34-3 at seq 368 (...) but the room holds all-after-1/... there", "acked ...
 * stored 0 times", "ONE SEQUENCE ACKED FOR TWO MESSAGES": the acknowledged tail was on no disk,
 * and its sequence numbers were handed out again; "all-n2 was shown seq 189 ..., the room holds
 * nothing there"), two already in the cut of the host and a follower (the two came back with the
 * same short log, one of them was elected, and it handed out again sequence numbers the third
 * node held acknowledged messages at); each later test then fails too, its check covering the
 * earlier rooms. The cut of the host alone passed, as it must: the followers kept what it lost. With one cut of all three nodes instead of two, 6 runs of 9 failed:
 * whether acknowledged messages are still unsynced at the cut depends on how far behind this
 * process reads, hence the second. Earlier versions of this test missed it: a shim that published
 * its copy as the sync began, with senders that waited for every answer before the next burst, let
 * the broken build pass 6 runs of 6 (the copy was in place before any answer went out);
 * publishing only once the real sync returned, and killing from the frame handler that sees the
 * N-th ack, caught 4 runs of 7 (the waiting senders had left the nodes idle, everything synced,
 * by then); senders that keep sending are what the suite has now.
 */
const SEED = powerCutSeed();
const EVIDENCE = path.join(os.tmpdir(), 'power-cut');

describeWithTool('gcc')('durability: power cut (what was not fsynced is lost)', () => {
  jest.setTimeout(90_000);
  const rng = new SeededRandom(SEED);
  const ledger = new AckLedger();
  const rooms: string[] = [];
  const cuts: CutReport[] = [];
  const clients: TestClient[] = [];
  const members: FailoverMember[] = [];
  let shim: { so: string; dir: string };
  let cluster: TestCluster;

  beforeAll(async () => {
    shim = buildShim();
    cluster = await TestCluster.start(3, { ...shimEnv(shim.so), RATE_LIMITS: 'off', LOG_LEVEL: 'INFO' });
  });
  afterAll(async () => {
    await Promise.all([...clients.map((c) => c.close().catch(() => undefined)), ...members.map((m) => m.close().catch(() => undefined))]);
    if (cluster) {
      await Promise.all(cluster.nodes.map((n) => n.stop('SIGKILL'))); // nothing changes under the copy
      try {
        fs.rmSync(EVIDENCE, { recursive: true, force: true });
        fs.cpSync(cluster.root, EVIDENCE, { recursive: true });
        fs.writeFileSync(path.join(EVIDENCE, 'ledger.json'), JSON.stringify({ seed: SEED, rooms, cuts, acks: ledger.allAcks, shown: ledger.shown, errors: ledger.errors }, null, 1));
        console.log(`[power-cut] seed ${SEED}: node data and logs, each cut's live and durable copies, the ledger: kept in ${EVIDENCE}`);
      } catch (e) {
        console.warn(`[power-cut] could not keep the evidence in ${EVIDENCE}: ${(e as Error).message}`);
      }
    }
    await cluster?.stop();
    if (shim) fs.rmSync(shim.dir, { recursive: true, force: true });
  });

  const node = (n: number): NodeProcess => cluster.node(n);

  /** A burster on every node sending to `room` (joined first). */
  async function bursters(room: string, name: string): Promise<Burster[]> {
    return Promise.all(
      cluster.nodes.map(async (n, i) => {
        const client = ledger.watch(await TestClient.connect(n.url), `${name}-n${i + 1}`);
        clients.push(client);
        await join(client, room, `${name}-n${i + 1}`);
        return new Burster(client, room, `${name}-n${i + 1}`, new SeededRandom(rng.int(1, 2 ** 31)));
      }),
    );
  }

  /**
   * kill -9 of `down` the moment `room` has `count` acknowledgements: from the clients' frame
   * handler, so the cut lands while the nodes still write and sync what comes after.
   */
  function killAtAcks(room: string, count: number, senders: Burster[], down: NodeProcess[]): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      const check = (raw: Buffer) => {
        if (done || !raw.includes('message_sent') || ledger.acksIn(room).length < count) return;
        done = true;
        for (const n of down) process.kill(n.pid!, 'SIGKILL');
        resolve();
      };
      for (const s of senders) s.client.ws.on('message', check);
    });
  }

  /** Room hosted on a seeded node, bursts from every node, a cut of `victims(host)` at a seeded ack count, restart, check. */
  async function powerCut(name: string, victims: (host: number) => number[]): Promise<void> {
    const host = rng.int(1, 3);
    const creator = ledger.watch(await TestClient.connect(node(host).url), `${name}-creator`);
    clients.push(creator);
    const room = await createRoom(creator, `${name}-room`, `${name}-creator`);
    rooms.push(room);
    const senders = await bursters(room, name);
    const cutAt = rng.int(30, 400);
    const down = victims(host);
    const syncsBefore = down.map((n) => snapshots(node(n))['fdatasync chat.db-wal'] ?? 0);
    await within(killAtAcks(room, cutAt, senders, down.map(node)), 30_000, `${cutAt} acknowledgements in ${room}`);
    const report = await cutPower(down.map(node));
    const acked = ledger.acksIn(room).length;
    const lastAcked = Math.max(...ledger.acksIn(room).map((a) => a.sequence_number));
    cuts.push(...report);
    console.log(`[power-cut] ${name}: room on node${host}, power cut of ${down.map((n) => `node${n}`).join('+')} at ${acked} acks; ${report.map(describeCut).join('; ')}`);
    // the write-ahead log of every node cut was snapshotted at group-commit syncs during the bursts
    down.forEach((n, i) => expect({ node: n, walSyncs: (snapshots(node(n))['fdatasync chat.db-wal'] ?? 0) > syncsBefore[i] }).toEqual({ node: n, walSyncs: true }));

    await Promise.all(down.map((n) => node(n).start(30_000)));
    await meshHealthy(cluster.nodes, 30_000);
    // the room takes messages again and its sequence goes on after everything acknowledged
    const after = await FailoverMember.connect(ledger, `${name}-after`, cluster.nodes, node(rng.int(1, 3)), { deadlineMs: 40_000 });
    members.push(after);
    await after.join(room);
    const last = await after.send(room, `${name}: after the power cut`);
    await Promise.all(senders.map((s) => s.stop()));
    await checkCluster(cluster.nodes, rooms, ledger, { timeoutMs: 30_000 });
    expect(last.sequence_number).toBeGreaterThan(lastAcked);
    console.log(`[power-cut] ${name}: ${ledger.acksIn(room).length} acknowledged messages of ${room} on every node after the cut`);
  }

  it('the shim keeps what was synced (SQLite fsync, libuv fdatasync) and loses what was not', () => {
    expect(shimSelfTest(shim.so)).toEqual({ live: ['full', 'fdatasync', 'not synced'], durable: ['full', 'fdatasync'] });
  });

  it('cut of the host: every acknowledged message is on every node after the restart', () => powerCut('host', (host) => [host]));

  it('cut of the host and one follower at once: still every acknowledged message', () =>
    powerCut('pair', (host) => [host, rng.pick([1, 2, 3].filter((n) => n !== host))]));

  it('cut of all three nodes at once: still every acknowledged message', () => powerCut('all', () => [1, 2, 3]));

  it('cut of all three nodes at once, again (another room, another moment)', () => powerCut('again', () => [1, 2, 3]));

  it('the cuts were real: every node synced through the shim, and each cut took the -shm and nothing more than was live', () => {
    expect(cuts.length).toBe(9);
    for (const n of cluster.nodes) {
      const s = snapshots(n);
      // libuv's fdatasync (the room logs' group commit) and SQLite's own fsync (FULL commits, checkpoints)
      expect({ node: n.spec.nodeId, groupCommits: (s['fdatasync chat.db-wal'] ?? 0) > 0, sqliteSyncs: (s['fsync chat.db-wal'] ?? 0) > 0 }).toEqual({ node: n.spec.nodeId, groupCommits: true, sqliteSyncs: true });
    }
    // never more on the copy than was live, and the -shm (never synced) always gone
    for (const c of cuts) {
      expect(c.durable.entries).toBeLessThanOrEqual(c.live.entries);
      expect(c.dropped).toContain('chat.db-shm');
    }
    const lost = cuts.reduce((k, c) => k + c.live.entries - c.durable.entries + c.live.messages - c.durable.messages, 0);
    // how much a cut drops depends on where the nodes were (the shim's self-test shows it drops what was not synced)
    console.log(`[power-cut] seed ${SEED}: the 9 node cuts dropped ${lost} unsynced log entries and messages in all; snapshots per node: ${cluster.nodes.map((n) => `${n.spec.nodeId} ${JSON.stringify(snapshots(n))}`).join('; ')}`);
  });
});
