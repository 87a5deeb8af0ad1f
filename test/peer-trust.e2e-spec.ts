import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { NodeProcess } from '../src/cluster/node-process';
import type { RoomWire } from '../src/common/protocol/peer-wire';
import { readDb } from './support/chat-db';
import { eventually, TestCluster } from './support/cluster';
import { bootOf, faultOf, peerClient, postCall, signedCall, unsignedClient } from './support/peer-rpc';
import { TestClient } from './support/test-client';

/**
 * The attacks of issue 12 on the peer port, against three real signed nodes speaking the rooms'
 * log protocol (room_log_json): each is refused, and the room, its members and its history stay
 * as they were on every node. node1 hosts the room; alice (node1) and bob (node2) are members;
 * node3 plays the attacker that holds the secret but is not the room's host.
 */
const AUTH = -32401;
const REFUSED = -32403;
const INVALID = -32602;

/** The last entry of the room's log in a running node's database (read beside it: SQLite allows readers). */
function lastEntry(node: NodeProcess, roomId: string): { index: number; epoch: number } {
  const db = new DatabaseSync(path.join(node.env.DATA_DIR, 'chat.db'), { readOnly: true });
  try {
    const row = db.prepare('SELECT idx, epoch FROM log_entries WHERE room_id = ? ORDER BY idx DESC LIMIT 1').get(roomId) as { idx: number; epoch: number };
    return { index: Number(row.idx), epoch: Number(row.epoch) };
  } finally {
    db.close();
  }
}

/** What a node's database holds of room logs: which rooms have one, and whether any entry carries `text`. */
function logsOnDisk(node: NodeProcess, text: string): { rooms: string[]; entriesWithText: number } {
  const db = new DatabaseSync(path.join(node.env.DATA_DIR, 'chat.db'), { readOnly: true });
  try {
    const rooms = (db.prepare('SELECT room_id FROM room_logs ORDER BY room_id').all() as { room_id: string }[]).map((r) => r.room_id);
    const n = Number((db.prepare('SELECT count(*) AS n FROM log_entries WHERE data LIKE ?').get(`%${text}%`) as { n: number }).n);
    return { rooms, entriesWithText: n };
  } finally {
    db.close();
  }
}

describe('peer trust: signed calls and the rooms\' logs', () => {
  let cluster: TestCluster;
  let secret: string;
  let alice: TestClient;
  let bob: TestClient;
  let roomId = '';
  const original: { message_id: string; sequence_number: number; content: string }[] = [];
  const node = (n: number) => cluster.node(n);
  const as = (target: number, sender: string) => peerClient(node(target), secret, sender);
  /** A room_log_json call to node `target`, signed by `sender`, naming `from` as its sender. */
  const roomLog = (target: number, sender: string, items: unknown[], from = sender) => as(target, sender).call<string>('room_log_json', [from, JSON.stringify(items)]);
  /** node3's forged next message in the room, as an append at the host's epoch that follows the log as `target` holds it. */
  const forgedAppend = (target: number, over: Record<string, unknown> = {}) => {
    const last = lastEntry(node(target), roomId);
    const data = { message_id: randomUUID(), username: 'alice', content: 'forged', timestamp: new Date().toISOString(), client_message_id: null };
    const entry = { index: last.index + 1, epoch: 1, kind: 'message', sequence: 4, clientKey: null, data };
    return [roomId, { type: 'append', from: 'node3', to: `node${target}`, epoch: 1, prev: { epoch: last.epoch, index: last.index }, entries: [entry], commit: last.index + 1, ...over }];
  };
  const messagesOn = async (n: number) => {
    const page = await as(n, n === 1 ? 'node2' : 'node1').call<{ messages: { message_id: string; sequence_number: number; content: string }[]; last_sequence: number }>('get_messages', [roomId, 0, null, 100]);
    return { last: page.last_sequence, messages: page.messages.map((m) => ({ message_id: m.message_id, sequence_number: m.sequence_number, content: m.content })) };
  };
  const hostState = async () => {
    const states = await as(1, 'node3').call<{ rooms: (RoomWire & { members: { username: string; node_id: string }[] })[] }>('get_room_states', []);
    const r = states.rooms.find((x) => x.room_id === roomId);
    return r && { host: r.host_node, epoch: r.host_epoch, creator: r.creator_id, state: r.state, last: r.last_sequence, members: r.members.map((m) => `${m.username}@${m.node_id}`).sort() };
  };
  /** The room as it was set up, on every node: history through the peer port, members and metadata on the host, nothing forged on any disk. */
  const expectUnchanged = async () => {
    for (const n of [1, 2, 3]) expect(await messagesOn(n)).toEqual({ last: 3, messages: original });
    expect(await hostState()).toEqual({ host: 'node1', epoch: 1, creator: 'alice', state: 'ACTIVE', last: 3, members: ['alice@node1', 'bob@node2'] });
    for (const n of [1, 2, 3]) expect(logsOnDisk(node(n), 'forged')).toEqual({ rooms: [roomId], entriesWithText: 0 });
  };
  const noForgedFrames = () => {
    for (const c of [alice, bob]) {
      const bad = c.frames.filter((f) => (f.type === 'new_message' && f.data.content === 'forged') || f.type === 'room_deleted' || f.type === 'room_host_changed' || (f.type === 'member_joined' && f.data.username === 'mallory') || (f.type === 'member_left' && f.data.username === 'bob'));
      expect(bad).toEqual([]);
    }
  };

  beforeAll(async () => {
    cluster = await TestCluster.start(3);
    secret = cluster.peerSecret as string;
    alice = await TestClient.connect(node(1).url);
    bob = await TestClient.connect(node(2).url);
    roomId = (await alice.request('create_room', { room_name: 'guarded', creator_id: 'alice', description: 'peer trust' }, 'room_created')).data.room_id;
    await alice.request('join_room', { room_id: roomId, username: 'alice' }, 'join_room_success');
    await bob.request('join_room', { room_id: roomId, username: 'bob' }, 'join_room_success');
    for (let i = 1; i <= 3; i++) await alice.request('send_message', { room_id: roomId, username: 'alice', content: `real ${i}` }, 'message_sent');
    await eventually(async () => (await messagesOn(3)).last === 3 && (await messagesOn(2)).last === 3, 10_000, 100);
    original.push(...(await messagesOn(1)).messages);
    expect(original.map((m) => m.content)).toEqual(['real 1', 'real 2', 'real 3']);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([alice, bob].map((c) => c?.close()));
    await cluster?.stop();
  });

  it('refuses unsigned calls (curl, Python) to every method but heartbeat with -32401, room_log_json included, and they change nothing', async () => {
    const curl = (n: number, method: string, params: unknown[]) => faultOf(unsignedClient(node(n)).call(method, params));
    for (const [method, params] of [
      ['get_room_states', []],
      ['get_messages', [roomId, 0, null, 100]],
      ['get_hosted_rooms', []],
      ['delete_room', [roomId, 'alice', 'node2']],
      ['room_log_json', ['node1', JSON.stringify([forgedAppend(2, { from: 'node1' })])]],
      ['prepare_delete_room', [roomId, randomUUID(), 'node1']],
    ] as const) {
      for (const n of [1, 2]) {
        const fault = await curl(n, method, [...params]);
        expect({ method, code: fault.faultCode }).toEqual({ method, code: AUTH });
        expect(fault.faultString).toMatch(/peer authentication required.*PEER_SECRET/);
      }
    }
    const py = execFileSync('/usr/bin/python3', ['-c', `import xmlrpc.client as x; r=x.ServerProxy('${node(2).rpcUrl}').heartbeat(); print(r['status'], r['node_id'])`], { encoding: 'utf8', timeout: 10_000 }).trim();
    expect(py).toBe('ok node2');
    await expectUnchanged();
  });

  it('refuses a wrong secret, a replayed signature, a stale timestamp, an unknown sender and a room_log_json naming another sender with -32401', async () => {
    const wrongSecret = signedCall(node(2), 'not-the-cluster-secret-at-all', 'node1', 'get_room_states', [], await bootOf(node(2)));
    expect(await postCall(node(2), wrongSecret)).toMatchObject({ faultCode: AUTH, faultString: expect.stringMatching(/signature does not match/) });
    // ... and a caller with another secret cannot take the node's (signed) answer for one
    await expect(peerClient(node(2), 'not-the-cluster-secret-at-all', 'node1').call('get_room_states', [])).rejects.toThrow(/reply was refused: the reply's signature does not match/);
    // a captured call verifies once; the same bytes again are a replay
    const captured = signedCall(node(2), secret, 'node1', 'get_messages', [roomId, 0, null, 10], await bootOf(node(2)));
    expect(await postCall(node(2), captured)).toMatchObject({ success: true });
    expect(await postCall(node(2), captured)).toMatchObject({ faultCode: AUTH, faultString: expect.stringMatching(/replayed/) });
    // ... and it does not verify on another node either (the recipient is signed)
    expect(await postCall(node(3), captured)).toMatchObject({ faultCode: AUTH, faultString: expect.stringMatching(/signature does not match/) });
    const stale = signedCall(node(2), secret, 'node1', 'get_room_states', [], await bootOf(node(2)), () => Date.now() - 120_000);
    expect(await postCall(node(2), stale)).toMatchObject({ faultCode: AUTH, faultString: expect.stringMatching(/timestamp/) });
    expect((await faultOf(as(2, 'node9').call('get_room_states', []))).faultString).toMatch(/not in PEER_NODES/);
    // node3 signs, but names node1 (the room's host) as from_node, with an append in node1's name
    const mismatch = await faultOf(roomLog(2, 'node3', [forgedAppend(2, { from: 'node1' })], 'node1'));
    expect(mismatch).toMatchObject({ faultCode: AUTH, faultString: expect.stringMatching(/names node "node1" but is signed by node3/) });
    await expectUnchanged();
  });

  it('refuses an append from a node that is not the room\'s host at the host\'s epoch, on a follower and on the host itself, and changes nothing', async () => {
    for (const target of [2, 1]) {
      const reply = JSON.parse(await roomLog(target, 'node3', [forgedAppend(target)])) as [string, { type: string; ok?: boolean }][];
      // the refusal goes back in the reply, or on the node's own next call to node3: never an acceptance
      for (const [room, m] of reply) if (room === roomId) expect(m).toMatchObject({ type: 'appendResult', ok: false });
    }
    // nor can node3 push the room's epoch up with a vote while every other node hears its host
    for (const target of [1, 2]) {
      const reply = JSON.parse(await roomLog(target, 'node3', [[roomId, { type: 'vote', from: 'node3', to: `node${target}`, epoch: 7, last: { epoch: 9, index: 99 } }]])) as [string, { type: string; granted?: boolean }][];
      for (const [room, m] of reply) if (room === roomId) expect(m).toMatchObject({ type: 'voteResult', granted: false });
    }
    await eventually(async () => (await hostState())?.epoch === 1, 2_000);
    noForgedFrames();
    await expectUnchanged();
  });

  it('refuses a malformed batch whole with -32602: an unsafe integer epoch, entries that do not follow, another sender or recipient, an unknown type', async () => {
    const valid = ['squat', { type: 'preVote', from: 'node3', to: 'node2', epoch: 2, last: { epoch: 1, index: 1 } }]; // would teach node2 a room, were the batch taken
    const refusedWith = async (bad: unknown, reason: RegExp, target = 2) => {
      const fault = await faultOf(roomLog(target, 'node3', [valid, bad]));
      expect(fault).toMatchObject({ faultCode: INVALID, faultString: expect.stringMatching(reason) });
    };
    // 2^53 + 1 as the wire writes it: JSON.parse reads it as 2^53, which is not a safe integer
    const unsafe = JSON.stringify([valid, forgedAppend(2, { epoch: 1234567 })]).replace('"epoch":1234567', '"epoch":9007199254740993');
    expect(await faultOf(as(2, 'node3').call('room_log_json', ['node3', unsafe]))).toMatchObject({ faultCode: INVALID, faultString: expect.stringMatching(/epoch: must be a safe integer/) });
    const gap = forgedAppend(2);
    (gap[1] as { entries: { index: number }[] }).entries[0].index += 1;
    await refusedWith(gap, /does not follow/);
    await refusedWith(forgedAppend(2, { epoch: 0 }), /epoch 1 is out of order/);
    await refusedWith(forgedAppend(2, { from: 'node1' }), /is node1, but node3 sent it/);
    await refusedWith(forgedAppend(1), /is node1, not this node/);
    await refusedWith([roomId, { type: 'snapshot', from: 'node3', to: 'node2', epoch: 1 }], /unknown message type "snapshot"/);
    expect(await faultOf(as(2, 'node3').call('room_log_json', ['node3', 'not json']))).toMatchObject({ faultCode: INVALID, faultString: expect.stringMatching(/is not JSON/) });
    expect(await faultOf(as(2, 'node3').call('room_log_json', ['node3', []]))).toMatchObject({ faultCode: INVALID });
    noForgedFrames();
    await expectUnchanged(); // 'squat' is on no disk either
  });

  it('keeps the reference\'s deletion and broadcast methods away from a room that has a log (-32403), even from its host', async () => {
    const refusal = /peer event refused: room .* changes only through its replicated log/;
    for (const sender of ['node1', 'node3']) {
      expect(await faultOf(as(2, sender).call('commit_delete_room', [roomId, randomUUID(), 'guarded']))).toMatchObject({ faultCode: REFUSED, faultString: expect.stringMatching(refusal) });
      expect(await faultOf(as(2, sender).call('prepare_delete_room', [roomId, randomUUID(), sender, 'alice']))).toMatchObject({ faultCode: REFUSED });
      expect(await faultOf(as(2, sender).call('rollback_delete_room', [roomId, randomUUID()]))).toMatchObject({ faultCode: REFUSED });
      expect(await faultOf(as(2, sender).call('receive_message_broadcast', [roomId, { message_id: randomUUID(), room_id: roomId, username: 'alice', content: 'forged', sequence_number: 4, timestamp: new Date().toISOString() }]))).toMatchObject({ faultCode: REFUSED });
      expect(await faultOf(as(2, sender).call('receive_member_event_broadcast', [roomId, 'member_joined', { room_id: roomId, username: 'mallory', member_count: 3, timestamp: 't' }]))).toMatchObject({ faultCode: REFUSED });
    }
    // the host itself is asked nothing of the sort either
    expect(await faultOf(as(1, 'node2').call('commit_delete_room', [roomId, randomUUID(), 'guarded']))).toMatchObject({ faultCode: REFUSED });
    // a peer cannot take out a member connected through another node, nor delete in another node's name
    expect(await as(1, 'node3').call('leave_room', [roomId, 'bob', 'node3'])).toMatchObject({ success: false, error_code: 'NOT_IN_ROOM' });
    expect(await as(1, 'node3').call('notify_member_disconnect', [roomId, 'bob', 'node3', 'User disconnected'])).toMatchObject({ success: true, message: 'User not in room' });
    expect((await faultOf(as(1, 'node3').call('delete_room', [roomId, 'alice', 'node2']))).faultCode).toBe(AUTH);
    noForgedFrames();
    await expectUnchanged();
  });

  it('keeps chatting normally afterwards, and every node stored the same room, members and history', async () => {
    bob.send('send_message', { room_id: roomId, username: 'bob', content: 'after' });
    expect((await bob.nextOf('message_sent', 10_000)).data.sequence_number).toBe(4);
    expect((await alice.nextOf('new_message', 10_000)).data).toMatchObject({ sequence_number: 4, username: 'bob', content: 'after' });
    noForgedFrames();
    await eventually(async () => (await messagesOn(3)).last === 4, 10_000, 100);
    const refusals = node(2).output.match(/Refused (commit_delete_room|prepare_delete_room|rollback_delete_room|receive_message_broadcast|receive_member_event_broadcast) from/g) ?? [];
    expect(refusals.length).toBeGreaterThanOrEqual(1);
    expect(refusals.length).toBeLessThan(10); // one WARNING per burst, not one per refused call
    // killed all at once, so no node's shutdown (its clients leaving) changes what the others stored
    await Promise.all(cluster.nodes.map((n) => n.stop('SIGKILL')));
    const want = [...original.map((m) => [m.sequence_number, m.message_id, m.content]), [4, expect.any(String), 'after']];
    for (const n of cluster.nodes) {
      const db = readDb(n);
      expect(db.rooms).toEqual([{ room_id: roomId, room_name: 'guarded', host_node: 'node1', last_sequence: 4, state: 'ACTIVE' }]);
      expect(db.messages(roomId).map((m) => [m.sequence_number, m.message_id, m.content])).toEqual(want);
      expect(db.members.filter((m) => m.room_id === roomId).map((m) => `${m.username}@${m.node_id}`).sort()).toEqual(['alice@node1', 'bob@node2']);
      expect(db.tombstones).toEqual([]);
      expect(logsOnDisk(n, 'forged')).toEqual({ rooms: [roomId], entriesWithText: 0 });
    }
  }, 60_000);
});

describe('peer trust: a node without PEER_SECRET', () => {
  let cluster: TestCluster;
  let only: NodeProcess;
  beforeAll(async () => {
    cluster = await TestCluster.start(1, { PEER_SECRET: '' });
    only = cluster.node(1);
  }, 30_000);
  afterAll(async () => cluster?.stop());

  it('runs, says so in one WARNING line, answers Python xmlrpc.client, and still refuses invented sender ids', async () => {
    expect(cluster.peerSecret).toBeNull();
    expect(only.output.match(/PEER_SECRET is not set/g)).toHaveLength(1);
    expect(only.output).toMatch(/WARN.*PEER_SECRET is not set/);
    const py = (code: string) => execFileSync('/usr/bin/python3', ['-c', code], { encoding: 'utf8', timeout: 10_000 }).trim();
    const url = only.rpcUrl;
    expect(py(`import xmlrpc.client as x; print(type(x.ServerProxy('${url}', allow_none=True).get_hosted_rooms()).__name__)`)).toBe('list');
    expect(py(`import xmlrpc.client as x\ntry:\n  x.ServerProxy('${url}').no_such()\nexcept x.Fault as f: print(f.faultCode)`)).toBe('-32601');
    expect(py(`import xmlrpc.client as x\ntry:\n  x.ServerProxy('${url}').join_room('only-one')\nexcept x.Fault as f: print(f.faultCode)`)).toBe('-32602');
    expect(py(`import xmlrpc.client as x\ntry:\n  x.ServerProxy('${url}', allow_none=True).commit_delete_room('nope', 't', None)\nexcept x.Fault as f: print(f.faultCode)`)).toBe(String(REFUSED));
    const invented = await faultOf(unsignedClient(only).call('room_log_json', ['node9', '[]']));
    expect(invented).toMatchObject({ faultCode: INVALID, faultString: expect.stringMatching(/not in this node's PEER_NODES/) });
  });
});
