import { sleep } from '../support/cluster';
import { describeInLab, FaultLab, faultSeed } from './fault-suite';

/**
 * Five nodes in network namespaces, a room hosted by node1. The network splits {node1, one
 * replica} from the other three, with members connected to nodes of both sides, all sending and
 * resending the same client_message_id after 1 s without message_sent. The split is held several
 * seconds past FAILOVER_TIMEOUT (the majority side elects a host of its own), then healed; everyone
 * keeps sending for a while. Final check (FaultLab.settleAndCheck): nothing acknowledged lost, no
 * sequence acknowledged twice, every retried id stored once, identical histories, and nothing a
 * member was shown vanished (the minority replica must not show what no majority stored).
 * FAILOVER_SEED replays the choices (which replica stays with the host, timings, sizes).
 */

const SEED = faultSeed();
const CLUSTER_ENV = { FAILOVER_TIMEOUT: '2', HEARTBEAT_INTERVAL: '0.5', HEARTBEAT_TIMEOUT: '0.5', PEER_CALL_TIMEOUT: '1' };
const FAILOVER_TIMEOUT_MS = 2000;

describeInLab('five nodes split 2 | 3 with the host on the small side (nodes in network namespaces)', () => {
  jest.setTimeout(300_000);
  const f = FaultLab.use(5);

  it('{host, one replica} against three, members on both sides: the three elect a host; after healing nothing acknowledged or shown is lost', async () => {
    await f.start(CLUSTER_ENV, SEED);
    const partner = f.rng.pick([2, 3, 4, 5]);
    const minority = [1, partner];
    const majority = [1, 2, 3, 4, 5].filter((n) => !minority.includes(n));
    const room = await f.room('split-2-3', 1);
    const chatters = [];
    for (let n = 1; n <= 5; n++) chatters.push(await f.chatter(`n${n}`, n, room));
    const small = chatters.filter((_, i) => minority.includes(i + 1));
    const large = chatters.filter((_, i) => majority.includes(i + 1));
    await f.acked(chatters, f.rng.int(3, 8), 0, 30_000, 'before the split');

    const holdMs = FAILOVER_TIMEOUT_MS + f.rng.int(5000, 8000);
    const cutAt = Date.now();
    f.lab.partition(minority, majority);
    const host = await f.newHost(room, majority.map((n) => f.node(n)), 'node1', 1, 20_000); // the scenario needs the majority to fail over
    const electedAt = Date.now();
    await f.acked(large, 3, electedAt, 30_000, `the majority side's members under ${host}`, true);
    await sleep(Math.max(0, cutAt + holdMs - Date.now())); // the length of the fault
    const heldFor = Date.now() - cutAt;
    const smallAcksDuring = small.flatMap((c) => c.acksSince(cutAt));

    f.lab.heal();
    const healedAt = Date.now();
    await f.acked(chatters, 5, healedAt, 40_000, 'after healing', true);
    await sleep(f.rng.int(2000, 4000));
    console.log(
      `[partition 2|3] seed ${SEED}: {${minority.join(',')}} | {${majority.join(',')}} held ${heldFor} ms; ${host} elected after ${electedAt - cutAt} ms; ` +
        `minority members acknowledged ${smallAcksDuring.length} during the split, shown ${small.reduce((k, c) => k + f.ledger.shown.filter((s) => s.label === c.name && s.room_id === room).length, 0)} messages in all`,
    );
    await f.settleAndCheck([room], '2 | 3 split with the host on the small side');
  });
});
