import { sleep } from '../support/cluster';
import { describeInLab, FaultLab, faultSeed } from './fault-suite';

/**
 * A long pause of a room's host (a GC pause, a VM migration, a stalled disk), as first
 * found it: nodes in network namespaces, one member per node sending one message after the other,
 * each resending the SAME client_message_id after 1 s without message_sent. The host is stopped
 * with SIGSTOP for ~8 s, far past FAILOVER_TIMEOUT, so the others move the room to a new host;
 * then SIGCONT, while everyone keeps sending, and for a while after. Then the final check
 * (FaultLab.settleAndCheck): every ack kept at its sequence, no sequence acked for two messages,
 * every retried id stored once, identical histories, nothing shown vanished.
 * FAILOVER_SEED replays a run's choices (when the pause starts, its length, pacing, sizes).
 */

const SEED = faultSeed();

/** Detection + election on a loaded two-core machine (the kit's failover deadline is 10 s; five nodes get more). */
const FAILOVER_DEADLINE_MS = 20_000;

async function pauseTheHost(f: FaultLab, count: number, env: Record<string, string>, seed: number): Promise<void> {
  await f.start(env, seed);
  const room = await f.room('paused-host', 1);
  const chatters = [];
  for (let n = 1; n <= count; n++) chatters.push(await f.chatter(`n${n}`, n, room));
  const [onHost, ...elsewhere] = chatters;
  const survivors = f.nodes.slice(1);
  await f.acked(chatters, f.rng.int(3, 8), 0, 30_000, 'before the pause');

  const pauseMs = f.rng.int(7000, 9000);
  const stoppedAt = Date.now();
  f.pause(1);
  const host = await f.newHost(room, survivors, 'node1', 1, FAILOVER_DEADLINE_MS); // the scenario needs a failover during the pause
  const failedOverAt = Date.now();
  await f.acked(elsewhere, 3, failedOverAt, 30_000, `members of ${host} and its followers during the pause`, true);
  await sleep(Math.max(0, stoppedAt + pauseMs - Date.now())); // the length of the fault, not a wait for a condition
  const stoppedFor = Date.now() - stoppedAt;
  const sentBeforeCont = f.ledger.allAcks.length;
  f.resume(1);
  const continuedAt = Date.now();

  // everyone keeps sending through the old host's return, and for a while after
  await f.acked(chatters, 5, continuedAt, 40_000, 'after SIGCONT', true);
  await sleep(f.rng.int(2000, 4000));
  const fromOldHost = f.ledger.allAcks.slice(sentBeforeCont).filter((a) => a.label === onHost.name && a.at < continuedAt + 2000);
  console.log(
    `[pause ${count} nodes] seed ${seed}: node1 stopped ${stoppedFor} ms; ${host} took over after ${failedOverAt - stoppedAt} ms; ` +
      `${onHost.name} got ${fromOldHost.length} message_sent within 2 s of SIGCONT (${onHost.member.resends} resends on its connection): ${[...new Set(fromOldHost.map((a) => `${a.client_message_id}@${a.sequence_number}`))].join(' ')}`,
  );
  await f.settleAndCheck([room], `pause of the host, ${count} nodes`);
}

describeInLab('pause of the host past FAILOVER_TIMEOUT (nodes in network namespaces)', () => {
  describe('three nodes', () => {
    jest.setTimeout(240_000);
    const f = FaultLab.use(3);

    it('SIGSTOP of the host for ~8 s, then SIGCONT, members resending the same id: nothing acknowledged or shown is lost, no sequence acknowledged twice', () =>
      pauseTheHost(f, 3, { FAILOVER_TIMEOUT: '1', HEARTBEAT_INTERVAL: '0.5', HEARTBEAT_TIMEOUT: '0.5', PEER_CALL_TIMEOUT: '1' }, SEED));
  });

  describe('five nodes', () => {
    jest.setTimeout(300_000);
    const f = FaultLab.use(5);

    it('SIGSTOP of the host for ~8 s, then SIGCONT, members on all five nodes resending the same id: nothing acknowledged or shown is lost', () =>
      pauseTheHost(f, 5, { FAILOVER_TIMEOUT: '2', HEARTBEAT_INTERVAL: '0.5', HEARTBEAT_TIMEOUT: '0.5', PEER_CALL_TIMEOUT: '1' }, SEED + 1));
  });
});
