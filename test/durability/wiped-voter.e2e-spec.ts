import { eventually } from '../support/cluster';
import { describeInLab, FaultLab, faultSeed } from './fault-suite';

/**
 * A node that lost its disk must not vote again in an epoch it voted in before: that is how a room
 * gets two hosts at one epoch. Three nodes in network namespaces, a room hosted by node1, members
 * on node2 and node3 (resending the same id after 1 s without message_sent). Schedule:
 *   1. node1 is stopped (SIGSTOP): node2 and node3 move the room to node2 at epoch 2 (node3 votes);
 *   2. node3 is killed with kill -9 and its DATA_DIR emptied; node1, still stopped, is killed too;
 *   3. the network splits {node1, node3} | {node2};
 *   4. node3 (empty) and node1 (its disk intact, still naming itself host at epoch 1) start again:
 *      node1 claims its room back at epoch 2, and node3 learns the room from it.
 * Then the split heals. Never may two nodes name two hosts for one epoch (sampled on every node's
 * copy throughout), and the final check holds every ack. FAILOVER_SEED replays the choices.
 */

const SEED = faultSeed();
const CLUSTER_ENV = { FAILOVER_TIMEOUT: '1', HEARTBEAT_INTERVAL: '0.5', HEARTBEAT_TIMEOUT: '0.5', PEER_CALL_TIMEOUT: '1' };

describeInLab('a voter that lost its disk (nodes in network namespaces)', () => {
  jest.setTimeout(240_000);
  const f = FaultLab.use(3);

  it('a wiped node does not vote again in an epoch it voted in: never two hosts for one epoch, nothing acknowledged lost', async () => {
    await f.start(CLUSTER_ENV, SEED);
    const room = await f.room('wiped-voter', 1);
    const chatters = [await f.chatter('n2-a', 2, room), await f.chatter('n3-a', 3, room)];
    await f.acked(chatters, f.rng.int(3, 8), 0, 30_000, 'before the faults');

    f.pause(1);
    const second = await f.newHost(room, [f.node(2), f.node(3)], 'node1', 1, 20_000); // node3 voted for it
    await f.acked(chatters, 3, Date.now(), 30_000, `members under ${second}`);

    await f.killAndWipe(3);
    await f.node(1).stop('SIGKILL');
    f.resume(1);
    f.lab.partition([1, 3], [2]);
    await f.node(3).start();
    await f.node(1).start();
    // node1 gets its room back only with node3's vote; bounded, and no failure if it does not (a correct node3 does not vote yet)
    const reclaimed = await eventually(() => /^node1@/.test(f.hostsOf(room).node1 ?? '') && Number(f.hostsOf(room).node1.split('@')[1]) > 1, 20_000, 50).then(
      () => f.hostsOf(room).node1,
      () => 'no',
    );
    // the copies are sampled every 50 ms (watchHostClaims): give the sampler a moment to see both
    await eventually(() => f.ledger.violations.some((v) => /TWO HOSTS/.test(v)), 2000, 50).catch(() => undefined);
    const clash = f.ledger.violations.filter((v) => /TWO HOSTS/.test(v));
    console.log(`[wiped voter] seed ${SEED}: ${second} elected while node1 was stopped; during the split node1 re-claimed: ${reclaimed}; hosts ${JSON.stringify(f.hostsOf(room))}; ${clash.length} two-hosts violation(s)`);
    await f.settleAndCheck([room], 'wiped voter');
  });
});
