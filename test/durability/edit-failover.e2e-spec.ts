import { eventually } from '../support/cluster';
import { checkCluster, failoverSeed, isRetryable, readRooms, SeededRandom, type AckRecord, type FailoverMember, type StoredMessage } from './failover-ledger';
import { endScenario, errorsOtherThanRetryable, hostSettled, scenario, settle, type Scenario } from './failover-scenario';

/**
 * Edits and deletions across a failover: members on every node send messages and edit or delete
 * their own acknowledged ones in a burst; the room's host is killed (kill -9, never back) in the
 * middle. Every member retries what was not answered (sends with the same client_message_id,
 * edits and deletions as the same request) on a survivor; then checkCluster holds every acked
 * edit (its content or a later edit's, edited_at set), every acked deletion (a tombstone at its
 * sequence), and everything shown, identical on both survivors' chat.db and get_history.
 * FAILOVER_SEED replays a run's choices.
 */

const SEED = failoverSeed(Math.floor(Math.random() * 2 ** 31));

afterEach(endScenario);

/** `count` rounds: send one message, then (seeded) edit it once or twice, delete it, or change an older one of this member's. */
async function editTraffic(s: Scenario, member: FailoverMember, count: number, rng: SeededRandom): Promise<{ edits: number; deletions: number }> {
  const mine: AckRecord[] = [];
  const done = { edits: 0, deletions: 0 };
  for (let i = 0; i < count; i++) {
    const ack = await member.send(s.room, `${member.username} #${i} ${'.'.repeat(rng.int(0, 100))}`, `${member.username}-m-${i}`);
    mine.push(ack);
    const target = rng.chance(0.3) && mine.length > 1 ? mine[rng.int(0, mine.length - 2)] : ack;
    const edits = rng.int(0, 2);
    for (let e = 0; e < edits; e++) {
      await member.change(s.room, target.message_id, `${target.content} (edit ${e} by ${member.username} at round ${i})`);
      done.edits++;
    }
    if (rng.chance(0.3)) {
      await member.change(s.room, target.message_id);
      done.deletions++;
      mine.splice(mine.indexOf(target), 1); // no edits of a deleted message
    }
  }
  return done;
}

describe('failover: edits and deletions survive the host (3 real nodes, FAILOVER_TIMEOUT=1)', () => {
  jest.setTimeout(60000);

  it('kill -9 of the host mid-burst of sends, edits and deletions, never back: every acknowledged edit and deletion is in force on every survivor', async () => {
    const rng = new SeededRandom(SEED);
    const s = await scenario([2, 2, 2]);
    const [n1, n2, n3] = s.cluster.nodes;
    const rounds = 20;
    const burst = Promise.all(s.members.map((m) => editTraffic(s, m, rounds, new SeededRandom(rng.int(0, 2 ** 31)))));
    const outcome = settle(burst);
    const answered = () => s.ledger.acks.size + [...s.ledger.edits.editAcks.values()].reduce((n, a) => n + a.length, 0) + s.ledger.edits.deleteAcks.size;
    const killAt = rng.int(15, 50);
    await eventually(() => answered() >= killAt, 20000, 2);
    const before = { sends: s.ledger.acks.size, answered: answered() };
    await n1.stop('SIGKILL');
    console.log(`seed ${SEED}: host killed after ${before.answered} answers (${before.sends} sends acked)`);

    const result = await outcome;
    expect(result).toMatchObject({ ok: true });
    const totals = result.ok ? result.value.reduce((t, v) => ({ edits: t.edits + v.edits, deletions: t.deletions + v.deletions }), { edits: 0, deletions: 0 }) : { edits: 0, deletions: 0 };
    console.log(`seed ${SEED}: ${s.ledger.summary()}; ${s.ledger.edits.summary()}; per member ${JSON.stringify(totals)}`);
    expect(before.sends).toBeLessThan(s.members.length * rounds); // the kill landed mid-burst
    expect(totals.edits).toBeGreaterThan(0);
    expect(totals.deletions).toBeGreaterThan(0);
    expect(errorsOtherThanRetryable(s)).toEqual([]);
    expect(s.ledger.edits.errors.filter((e) => !isRetryable(e.data))).toEqual([]);

    await hostSettled([n2, n3], s.room, ['node2', 'node3'], 1);
    await checkCluster([n2, n3], [s.room], s.ledger);

    // the check bites: an acked deletion undone, an acked edit reverted, a tombstone moved out of its sequence
    const [copy] = readRooms(n2, [s.room]);
    const deletedAcked = copy.messages.find((m) => m.deleted_at && s.ledger.edits.deleteAcks.has(`${s.room}\u0000${m.message_id}`))!;
    const editedOnly = copy.messages.find((m) => m.edited_at && !m.deleted_at && s.ledger.edits.editAcks.has(`${s.room}\u0000${m.message_id}`));
    const tamper = (f: (m: StoredMessage) => StoredMessage | undefined) => copy.messages.map(f).filter((m): m is StoredMessage => m !== undefined);
    expect(s.ledger.edits.violations(s.room, copy.messages)).toEqual([]);
    expect(s.ledger.edits.violations(s.room, tamper((m) => (m === deletedAcked ? { ...m, deleted_at: null } : m)))).not.toEqual([]);
    expect(s.ledger.edits.violations(s.room, tamper((m) => (m === deletedAcked ? undefined : m)))).not.toEqual([]);
    if (editedOnly) expect(s.ledger.edits.violations(s.room, tamper((m) => (m === editedOnly ? { ...m, content: 'reverted', edited_at: null } : m)))).not.toEqual([]);
  });
});
