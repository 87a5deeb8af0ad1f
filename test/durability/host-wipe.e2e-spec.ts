import { describeInLab, FaultLab, faultSeed } from './fault-suite';

/**
 * A host whose disk is replaced: three nodes in network namespaces, a room hosted by node1,
 * members on node2 and node3 sending (resending the same client_message_id after 1 s without
 * message_sent). node1 is killed with kill -9, its DATA_DIR emptied, and it is started again
 * within FAILOVER_TIMEOUT, so its peers never suspect it. The room must keep working for the
 * members on the other nodes (failed over by them, never answered ROOM_NOT_FOUND), nothing
 * acknowledged may be lost, and the wiped node must catch up to the identical history.
 * FAILOVER_SEED replays the choices (when the kill lands, pacing, sizes).
 */

const SEED = faultSeed();
/** Long enough that a restart (about 1-3 s here, more on a loaded machine) fits well inside it. */
const FAILOVER_TIMEOUT_S = 8;
const CLUSTER_ENV = { FAILOVER_TIMEOUT: String(FAILOVER_TIMEOUT_S), HEARTBEAT_INTERVAL: '0.5', HEARTBEAT_TIMEOUT: '0.5', PEER_CALL_TIMEOUT: '1' };

describeInLab('a host restarted with an empty data directory (nodes in network namespaces)', () => {
  jest.setTimeout(240_000);
  const f = FaultLab.use(3);

  it('kill -9 of the host, DATA_DIR emptied, back within FAILOVER_TIMEOUT: the others keep the room writable, nothing acknowledged is lost, the wiped node catches up', async () => {
    await f.start(CLUSTER_ENV, SEED);
    const room = await f.room('wiped-host', 1);
    const chatters = [await f.chatter('n2-a', 2, room), await f.chatter('n2-b', 2, room), await f.chatter('n3-a', 3, room), await f.chatter('n3-b', 3, room)];
    await f.acked(chatters, f.rng.int(3, 10), 0, 30_000, 'before the wipe');

    const killedAt = Date.now();
    await f.killAndWipe(1);
    await f.node(1).start();
    const restartMs = Date.now() - killedAt;
    // the scenario: back before anyone could suspect it (else this is a plain failover, tested elsewhere)
    expect({ restartMs, withinFailoverTimeout: restartMs < FAILOVER_TIMEOUT_S * 1000 }).toEqual({ restartMs, withinFailoverTimeout: true });

    const writable = await f.acked(chatters, 5, Date.now(), FAILOVER_TIMEOUT_S * 1000 + 30_000, 'members on node2 and node3 after the host came back empty', true);
    const notFound = f.ledger.errors.filter((e) => e.data.error_code === 'ROOM_NOT_FOUND');
    if (notFound.length > 0) f.problems.push(`${notFound.length} send(s) refused with ROOM_NOT_FOUND after the wipe, first: ${notFound[0].label} ${JSON.stringify(notFound[0].data)}`);
    console.log(
      `[host wipe] seed ${SEED}: node1 killed, wiped and back in ${restartMs} ms; room writable for the others afterwards: ${writable}; ` +
        `hosts now ${JSON.stringify(f.hostsOf(room))}; ${notFound.length} ROOM_NOT_FOUND`,
    );
    await f.settleAndCheck([room], 'host restarted with an empty DATA_DIR');
  });
});
