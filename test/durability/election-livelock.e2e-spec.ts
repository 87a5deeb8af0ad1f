import { sleep } from '../support/cluster';
import { describeInLab, FaultLab, faultSeed } from './fault-suite';

/**
 * An election must not livelock: a vote that arrives after the candidate gave up on it must not
 * leave the room without a host while a majority is up and connected. Three nodes in network
 * namespaces, a room hosted by node1, members on node2 and node3 (resending the same id after 1 s
 * without message_sent). Schedule (FAILOVER_TIMEOUT 6 s, peer calls time out after 0.5 s):
 *   1. the link node1-node3 is cut: node3 stops hearing the host (node1 + node2 keep the room);
 *   2. node1 is killed with kill -9; node2 will suspect it FAILOVER_TIMEOUT later and ask node3
 *      for its vote;
 *   3. node3 is stopped (SIGSTOP) from before that request until well after its answer is due,
 *      but for less than FAILOVER_TIMEOUT, so node2 keeps asking it; then continued.
 * node3 then answers the votes it was asked while stopped, long after node2 stopped waiting.
 * node2 and node3 are up and connected from then on: the room must become writable again.
 * FAILOVER_SEED replays the choices (pause start and length within those bounds, pacing).
 */

const SEED = faultSeed();
const FAILOVER_TIMEOUT_MS = 6000;
const CLUSTER_ENV = {
  FAILOVER_TIMEOUT: String(FAILOVER_TIMEOUT_MS / 1000),
  PEER_CALL_TIMEOUT: '0.5',
  HEARTBEAT_INTERVAL: '0.5',
  // a 4.5 s pause must not make node3 "failed" for node2 (it would not be asked at all)
  HEARTBEAT_TIMEOUT: '2',
  MAX_HEARTBEAT_FAILURES: '4',
};

describeInLab('an election whose vote arrives late (nodes in network namespaces)', () => {
  jest.setTimeout(240_000);
  const f = FaultLab.use(3);

  it('a vote answered after the candidate timed out does not leave the room hostless while two of three nodes are up', async () => {
    await f.start(CLUSTER_ENV, SEED);
    const room = await f.room('late-vote', 1);
    const chatters = [await f.chatter('n2-a', 2, room), await f.chatter('n3-a', 3, room)];
    await f.acked(chatters, f.rng.int(3, 8), 0, 30_000, 'before the faults');

    f.lab.cut(1, 3);
    await sleep(FAILOVER_TIMEOUT_MS + 1000); // node3 suspects node1 by now (the length of a fault)
    const killedAt = Date.now();
    await f.node(1).stop('SIGKILL');
    // node2 suspects node1 4.8-6 s after the kill (silence counts from its last answer, probes go 5 times per
    // FAILOVER_TIMEOUT); node3 stops before that and stays stopped past the first vote's 0.5 s, but its own
    // silence (at most the pause + 1.2 s) stays under FAILOVER_TIMEOUT so that node2 keeps asking it
    const stopAt = killedAt + FAILOVER_TIMEOUT_MS - f.rng.int(2000, 2500);
    const stopFor = f.rng.int(4000, 4500);
    await sleep(stopAt - Date.now());
    f.pause(3);
    await sleep(stopFor);
    f.resume(3);
    const resumedAt = Date.now();

    const host = await f.newHost(room, [f.node(2), f.node(3)], 'node1', 1, 30_000).catch((e: Error) => {
      f.problems.push(`room hostless with node2 and node3 up: ${e.message}`);
      return 'none';
    });
    await f.acked(chatters, 3, resumedAt, 30_000, 'node2 and node3 after node3 continued', true);
    const claims = (f.node(2).output.match(/Claim of room \S+ at epoch \d+: no majority[^\n]*/g) ?? []).slice(-2);
    console.log(`[late vote] seed ${SEED}: node3 stopped ${stopAt - killedAt} ms after the kill for ${stopFor} ms; host afterwards ${host}; node2's last claims: ${claims.join(' || ').slice(0, 600)}`);
    await f.settleAndCheck([room], 'late vote');
  });
});
