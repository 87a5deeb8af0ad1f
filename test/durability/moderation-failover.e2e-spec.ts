import type { NodeProcess } from '../../src/cluster/node-process';
import { eventually, meshHealthy } from '../support/cluster';
import { TestClient } from '../support/test-client';
import { checkCluster, failoverSeed, isRetryable, readRooms, readRoomStates, SeededRandom, type FailoverMember, type RoomStateCopy } from './failover-ledger';
import { endScenario, errorsOtherThanRetryable, hostSettled, scenario, settle, type Scenario } from './failover-scenario';
import { inviteProbeViolations, roomStateProbeViolations } from './room-state-probes';

/**
 * Bans, moderators, read markers and invitations across a failover and across a node that was
 * down: members on every node send messages and, in the same burst, the room's creator appoints
 * moderators, the creator and the moderators ban and unban names (each name by one of them; two
 * of the names are members connected to node2 and node3), everyone marks what they read, and
 * everyone invites guests into a private room. Every request is retried until answered (on a
 * survivor, as the same request). Then checkCluster holds every acknowledged change in force and
 * identical in every node's chat.db (AckLedger.roomState), and probes through the protocol show
 * the nodes act on it: a banned name's join is refused with BANNED, a moderator may moderate,
 * join_room_success and discover_rooms carry the read markers, an invited name joins the private
 * room. FAILOVER_SEED replays a run's choices.
 */

const SEED = failoverSeed(Math.floor(Math.random() * 2 ** 31));

afterEach(endScenario);

interface World {
  s: Scenario;
  creator: FailoverMember;
  privateRoom: string;
  /** Names the creator appoints, in order (members first, then names nobody uses yet). */
  appoint: string[];
  /** Each possible moderator's own names to ban and unban (nobody else acts on them). */
  targets: Map<string, string[]>;
  /** Members joined on node2 and node3 as plain clients, for the creator to ban while they are in the room. */
  victims: TestClient[];
}

interface Counts {
  appointed: number;
  bans: number;
  unbans: number;
  marks: number;
  invites: number;
}

/** The scenario's room and a private one (both hosted by node1), every member invited to it and in it, and the victims in the public room. */
async function world(perNode: number[]): Promise<World> {
  const s = await scenario(perNode);
  const creator = s.members[0];
  const created = await creator.client.request('create_room', { room_name: 'failover-private', creator_id: creator.username, private: true }, 'room_created');
  const privateRoom = created.data.room_id as string;
  expect(privateRoom).toEqual(expect.any(String));
  await creator.join(privateRoom);
  for (const m of s.members.slice(1)) {
    await creator.request('invite_user', { room_id: privateRoom, username: creator.username, member: m.username }, 'invite_user_success', (d) => d.member === m.username);
    await m.join(privateRoom);
  }
  const victims: TestClient[] = [];
  for (const n of [2, 3]) {
    const victim = await TestClient.connect(s.cluster.node(n).url);
    victim.ws.on('error', () => undefined);
    const joined = await victim.request('join_room', { room_id: s.room, username: `victim-${n}` }, 'join_room_success', 'join_room_error');
    expect(joined.type).toBe('join_room_success');
    victims.push(victim);
  }
  const moderators = [creator.username, ...s.members.filter((m) => /^n[123]-a$/.test(m.username) && m !== creator).map((m) => m.username), 'n1-b'];
  const targets = new Map(moderators.map((u) => [u, [1, 2, 3].map((k) => `x-${u}-${k}`)]));
  targets.get(creator.username)!.push('victim-2', 'victim-3');
  return { s, creator, privateRoom, appoint: [...moderators.slice(1), 'mod-p', 'mod-q'], targets, victims };
}

/**
 * `rounds` rounds of one member: a message, then (seeded) what it may do: the creator appoints the
 * next moderator; a moderator (once its appointment was answered) bans or unbans one of its names;
 * a read marker up to about what it sent (now and then past the end); an invitation of a guest.
 */
async function stateTraffic(w: World, member: FailoverMember, rounds: number, rng: SeededRandom): Promise<Counts> {
  const { s } = w;
  const n: Counts = { appointed: 0, bans: 0, unbans: 0, marks: 0, invites: 0 };
  const me = { room_id: s.room, username: member.username };
  const isModerator = () => member === w.creator || s.ledger.roomState.acked('moderator', s.room, member.username).length > 0;
  for (let i = 0; i < rounds; i++) {
    const ack = await member.send(s.room, `${member.username} #${i} ${'.'.repeat(rng.int(0, 60))}`, `${member.username}-s-${i}`);
    if (member === w.creator && w.appoint.length > 0 && (i < 3 || rng.chance(0.5))) {
      const name = w.appoint.shift()!;
      await member.request('add_moderator', { ...me, member: name }, 'add_moderator_success', (d) => d.member === name);
      n.appointed++;
    }
    const mine = w.targets.get(member.username);
    if (mine && isModerator() && (i === 0 || rng.chance(0.6))) {
      const target = i === 0 && member === w.creator ? 'victim-2' : rng.pick(mine);
      const answers = s.ledger.roomState.acked('ban', s.room, target);
      const type = answers.at(-1)?.value === true ? 'unban_member' : 'ban_member';
      const reason = type === 'ban_member' && rng.chance(0.5) ? { reason: `round ${i} of ${member.username}` } : {};
      await member.request(type, { ...me, member: target, ...reason }, `${type}_success`, (d) => d.member === target);
      if (type === 'ban_member') n.bans++;
      else n.unbans++;
    }
    if (rng.chance(0.7)) {
      const upTo = rng.chance(0.1) ? ack.sequence_number + 50 : rng.int(Math.max(1, ack.sequence_number - 3), ack.sequence_number);
      await member.request('mark_read', { ...me, sequence_number: upTo }, 'mark_read_success', (d) => d.username === member.username);
      n.marks++;
    }
    if (rng.chance(0.25)) {
      const guest = `g-${member.username}-${i}`;
      await member.request('invite_user', { room_id: w.privateRoom, username: member.username, member: guest }, 'invite_user_success', (d) => d.member === guest);
      n.invites++;
    }
  }
  return n;
}

const sum = (all: Counts[]): Counts => all.reduce((t, c) => ({ appointed: t.appointed + c.appointed, bans: t.bans + c.bans, unbans: t.unbans + c.unbans, marks: t.marks + c.marks, invites: t.invites + c.invites }));

/** Every member's burst at once; resolves with the totals (fails the test on a refusal or a request never answered). */
async function burst(w: World, rounds: number, rng: SeededRandom, whileRunning: () => Promise<void>): Promise<Counts> {
  const all = settle(Promise.all(w.s.members.map((m) => stateTraffic(w, m, rounds, new SeededRandom(rng.int(0, 2 ** 31))))));
  await whileRunning();
  const result = await all;
  expect(result).toMatchObject({ ok: true });
  const totals = result.ok ? sum(result.value) : sum([{ appointed: 0, bans: 0, unbans: 0, marks: 0, invites: 0 }]);
  console.log(`seed ${SEED}: ${w.s.ledger.summary()}; ${w.s.ledger.roomState.summary()}; totals ${JSON.stringify(totals)}`);
  expect(errorsOtherThanRetryable(w.s)).toEqual([]);
  expect(w.s.ledger.roomState.errors.filter((e) => !isRetryable(e.data))).toEqual([]);
  expect(totals.appointed * totals.bans * totals.marks).toBeGreaterThan(0);
  return totals;
}

/** The databases first (checkCluster, both rooms), then the protocol probes through `via` (the members' own clients are closed for them). */
async function checkEverything(w: World, nodes: NodeProcess[], via: NodeProcess[]): Promise<void> {
  await checkCluster(nodes, [w.s.room, w.privateRoom], w.s.ledger, { historyRooms: [w.s.room] });
  await Promise.all([...w.victims, ...w.s.members].map((c) => c.close().catch(() => undefined)));
  expect(await roomStateProbeViolations(via, w.s.room, w.s.ledger.roomState)).toEqual([]);
  expect(await inviteProbeViolations(via, w.privateRoom, w.s.ledger.roomState)).toEqual([]);
}

describe('failover: bans, moderators, read markers and invitations survive the host and reach a node that was down (3 real nodes, FAILOVER_TIMEOUT=1)', () => {
  jest.setTimeout(90000);

  it('kill -9 of the host right after some of them were acknowledged: every acknowledged change is in force on every survivor, and on the host once it is back', async () => {
    const rng = new SeededRandom(SEED);
    const w = await world([2, 2, 2]);
    const { s } = w;
    const [n1, n2, n3] = s.cluster.nodes;
    const before = s.ledger.roomState.answered(); // the setup's invitations
    const killAt = before + rng.int(3, 15);
    let killedAfter = 0;
    await burst(w, 12, rng, async () => {
      await eventually(() => s.ledger.roomState.answered() >= killAt, 20000, 2);
      await n1.stop('SIGKILL');
      killedAfter = s.ledger.roomState.answered() - before;
      console.log(`seed ${SEED}: host killed after ${killedAfter} room-state answers (${s.ledger.acks.size} sends acked)`);
    });
    expect(s.ledger.roomState.answered() - before).toBeGreaterThan(killedAfter); // the kill landed mid-burst

    await hostSettled([n2, n3], s.room, ['node2', 'node3'], 1);
    await hostSettled([n2, n3], w.privateRoom, ['node2', 'node3'], 1);
    await checkEverything(w, [n2, n3], [n2, n3]);

    // the check bites: an acked ban lifted, an acked moderator gone, an acked marker moved back, an acked invitation gone
    const [copy] = readRoomStates(n2, [s.room]);
    const last = readRooms(n2, [s.room])[0].messages.length;
    const bites = (change: (c: RoomStateCopy) => RoomStateCopy) => s.ledger.roomState.violations(s.room, [change(structuredClone(copy))], last);
    expect(bites((c) => c)).toEqual([]);
    const bannedRow = copy.moderation.find((r) => r.banned && s.ledger.roomState.expected('ban', s.room, r.username)?.join() === 'true');
    if (bannedRow) expect(bites((c) => ({ ...c, moderation: c.moderation.map((r) => (r.username === bannedRow.username ? { ...r, banned: false } : r)) }))).not.toEqual([]);
    expect(bites((c) => ({ ...c, moderation: c.moderation.map((r) => ({ ...r, moderator: false })) }))).not.toEqual([]);
    expect(bites((c) => ({ ...c, markers: c.markers.map((m) => ({ ...m, sequence_number: 0 })) }))).not.toEqual([]);
    const [privateCopy] = readRoomStates(n2, [w.privateRoom]);
    expect(s.ledger.roomState.violations(w.privateRoom, [{ ...privateCopy, invites: privateCopy.invites.filter((r) => r.invited_by === r.username) }], 0)).not.toEqual([]);

    // the killed host comes back and catches up with everything acknowledged while it was dead
    await n1.start();
    await meshHealthy(s.cluster.nodes);
    await checkEverything(w, s.cluster.nodes, [n1]);
  });

  it('a node down (stopped) while the changes are made holds every acknowledged one once it is back: its chat.db, and joins through it', async () => {
    const rng = new SeededRandom(SEED ^ 0x5eed);
    const w = await world([2, 2, 2]);
    const { s } = w;
    const [n1, n2, n3] = s.cluster.nodes;
    const signal = rng.pick(['SIGTERM', 'SIGKILL'] as const);
    await n3.stop(signal);
    console.log(`seed ${SEED}: node3 stopped (${signal}) before the burst`);
    await burst(w, 10, rng, async () => undefined);
    expect(n3.running).toBe(false);
    await checkCluster([n1, n2], [s.room, w.privateRoom], s.ledger, { historyRooms: [s.room] });

    await n3.start();
    await meshHealthy(s.cluster.nodes);
    await checkEverything(w, s.cluster.nodes, [n3]);
  });
});
