import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { NodeProcess } from '../src/cluster/node-process';
import type { ReplicationEvent, RoomWire } from '../src/common/protocol/peer-wire';
import { readDb } from './durability/support';
import { eventually, meshHealthy, TestCluster } from './support/cluster';
import { bootOf, faultOf, peerClient, postCall, signedCall, unsignedClient } from './support/peer-rpc';
import { TestClient } from './support/test-client';

/**
 * The attacks of issue 12 on the peer port, against three real signed nodes: each is refused with
 * the fault the caller sees, and the room, its members and its history stay as they were on every
 * node. node1 hosts the room; alice (node1) and bob (node2) are members; node3 plays the attacker
 * that holds the secret but is not the room's host.
 */
const AUTH = -32401;
const REFUSED = -32403;

describe('peer trust: signed calls and host-only peer events', () => {
  let cluster: TestCluster;
  let secret: string;
  let alice: TestClient;
  let bob: TestClient;
  let roomId = '';
  let room: RoomWire;
  const original: { message_id: string; sequence_number: number; content: string }[] = [];
  const node = (n: number) => cluster.node(n);
  const as = (target: number, sender: string) => peerClient(node(target), secret, sender);
  const replicate = (target: number, sender: string, events: ReplicationEvent[]) => as(target, sender).call('replicate_events_json', [sender, JSON.stringify(events)]);
  const forgedMessage = (seq: number, content = 'forged'): Extract<ReplicationEvent, { kind: 'message' }> => ({
    kind: 'message',
    message: { message_id: randomUUID(), room_id: roomId, username: 'alice', content, sequence_number: seq, timestamp: new Date().toISOString(), client_message_id: null },
  });
  const messagesOn = async (n: number) => {
    const page = await as(n, n === 1 ? 'node2' : 'node1').call<{ messages: { message_id: string; sequence_number: number; content: string }[]; last_sequence: number }>('get_messages', [roomId, 0, null, 100]);
    return { last: page.last_sequence, messages: page.messages.map((m) => ({ message_id: m.message_id, sequence_number: m.sequence_number, content: m.content })) };
  };
  const hostState = async () => {
    const states = await as(1, 'node3').call<{ rooms: (RoomWire & { members: { username: string; node_id: string }[] })[] }>('get_room_states', []);
    const r = states.rooms.find((x) => x.room_id === roomId);
    return r && { host: r.host_node, creator: r.creator_id, state: r.state, last: r.last_sequence, members: r.members.map((m) => `${m.username}@${m.node_id}`).sort() };
  };
  /** The room as it was set up, on every node: history through the peer port, members and metadata on the host. */
  const expectUnchanged = async () => {
    for (const n of [1, 2, 3]) expect(await messagesOn(n)).toEqual({ last: 3, messages: original });
    expect(await hostState()).toEqual({ host: 'node1', creator: 'alice', state: 'ACTIVE', last: 3, members: ['alice@node1', 'bob@node2'] });
  };
  const noForgedFrames = () => {
    for (const c of [alice, bob]) {
      const bad = c.frames.filter((f) => (f.type === 'new_message' && f.data.content === 'forged') || f.type === 'room_deleted' || (f.type === 'member_joined' && f.data.username === 'mallory') || (f.type === 'member_left' && f.data.username === 'bob'));
      expect(bad).toEqual([]);
    }
  };

  beforeAll(async () => {
    cluster = await TestCluster.start(3, { DELETE_PREPARE_TIMEOUT: '2' });
    secret = cluster.peerSecret as string;
    alice = await TestClient.connect(node(1).url);
    bob = await TestClient.connect(node(2).url);
    roomId = (await alice.request('create_room', { room_name: 'guarded', creator_id: 'alice', description: 'peer trust' }, 'room_created')).data.room_id;
    await alice.request('join_room', { room_id: roomId, username: 'alice' }, 'join_room_success');
    await bob.request('join_room', { room_id: roomId, username: 'bob' }, 'join_room_success');
    for (let i = 1; i <= 3; i++) await alice.request('send_message', { room_id: roomId, username: 'alice', content: `real ${i}` }, 'message_sent');
    await eventually(async () => (await messagesOn(3)).last === 3 && (await messagesOn(2)).last === 3, 10_000, 100);
    original.push(...(await messagesOn(1)).messages);
    const states = await as(1, 'node2').call<{ rooms: RoomWire[] }>('get_room_states', []);
    room = states.rooms.find((r) => r.room_id === roomId) as RoomWire;
    expect(original.map((m) => m.content)).toEqual(['real 1', 'real 2', 'real 3']);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([alice, bob].map((c) => c?.close()));
    await cluster?.stop();
  });

  it('refuses unsigned calls (curl, Python) to every method but heartbeat with -32401, and they change nothing', async () => {
    const curl = (n: number, method: string, params: unknown[]) => faultOf(unsignedClient(node(n)).call(method, params));
    for (const [method, params] of [
      ['get_room_states', []],
      ['get_messages', [roomId, 0, null, 100]],
      ['get_hosted_rooms', []],
      ['delete_room', [roomId, 'alice', 'node2']],
      ['replicate_events_json', ['node1', JSON.stringify([forgedMessage(4)])]],
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

  it('refuses a wrong secret, a replayed signature, a stale timestamp, an unknown sender and a sender-id mismatch with -32401', async () => {
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
    // node3 signs, but claims to be node1 (the room's host) in from_node
    const mismatch = await faultOf(as(2, 'node3').call('replicate_events_json', ['node1', JSON.stringify([forgedMessage(4)])]));
    expect(mismatch).toMatchObject({ faultCode: AUTH, faultString: expect.stringMatching(/names node "node1" but is signed by node3/) });
    await expectUnchanged();
  });

  it('refuses replicated events from a peer that is not the room host: a forged next message, host and creator rewrites, member changes', async () => {
    const refusedBy = async (target: number, events: ReplicationEvent[], sender = 'node3') => {
      const fault = await faultOf(replicate(target, sender, events));
      expect(fault).toMatchObject({ faultCode: REFUSED, faultString: expect.stringMatching(/peer event refused/) });
      return fault.faultString;
    };
    expect(await refusedBy(2, [forgedMessage(4)])).toMatch(/hosted by node1, not by node3/);
    expect(await refusedBy(2, [{ kind: 'room', room: { ...room, host_node: 'node3' } }])).toMatch(/hosted by node1/);
    expect(await refusedBy(2, [{ kind: 'room', room: { ...room, host_node: 'node3' } }, forgedMessage(4)])).toMatch(/hosted by node1/);
    const memberEvent = (type: 'member_joined' | 'member_left', username: string, nodeId: string): ReplicationEvent => ({
      kind: 'member',
      event_type: type,
      event: { room_id: roomId, username, member_count: 3, timestamp: new Date().toISOString() } as never,
      node_id: nodeId,
    });
    await refusedBy(2, [memberEvent('member_joined', 'mallory', 'node3')]);
    await refusedBy(3, [memberEvent('member_left', 'bob', 'node2')], 'node2');
    expect((await faultOf(as(2, 'node3').call('receive_member_event_broadcast', [roomId, 'member_joined', { room_id: roomId, username: 'mallory', member_count: 3 }]))).faultCode).toBe(REFUSED);
    expect((await faultOf(as(2, 'node3').call('receive_message_broadcast', [roomId, { ...forgedMessage(4).message }]))).faultCode).toBe(REFUSED);
    // even the host cannot rename the creator; and a new room must name its sender as host
    expect((await faultOf(replicate(2, 'node1', [{ kind: 'room', room: { ...room, creator_id: 'mallory' } }]))).faultString).toMatch(/creator cannot be changed/);
    expect(await refusedBy(2, [{ kind: 'room', room: { ...room, room_id: randomUUID(), room_name: 'squat', host_node: 'node1' } }])).toMatch(/names node1 as its host, but node3 sent it/);
    // the room's own host never takes replicated changes to it, not even from a signed peer
    expect((await faultOf(replicate(1, 'node2', [forgedMessage(4)]))).faultString).toMatch(/hosted by this node/);
    expect((await faultOf(replicate(1, 'node2', [{ kind: 'deleted', room_id: roomId, room_name: room.room_name, transaction_id: null }]))).faultCode).toBe(REFUSED);
    noForgedFrames();
    await expectUnchanged();
  });

  it('commits a deletion only for a transaction its host prepared, and never on the host itself', async () => {
    expect((await faultOf(as(2, 'node1').call('commit_delete_room', [roomId, randomUUID(), room.room_name]))).faultString).toMatch(/no deletion of room .* was prepared/);
    expect((await faultOf(as(2, 'node3').call('commit_delete_room', [roomId, randomUUID(), room.room_name]))).faultCode).toBe(REFUSED);
    expect((await faultOf(as(1, 'node2').call('commit_delete_room', [roomId, randomUUID(), room.room_name]))).faultString).toMatch(/hosted by this node/);
    expect((await faultOf(as(2, 'node3').call('prepare_delete_room', [roomId, randomUUID(), 'node3', 'mallory']))).faultCode).toBe(REFUSED);
    expect((await faultOf(as(2, 'node3').call('rollback_delete_room', [roomId, randomUUID()]))).faultCode).toBe(REFUSED);
    // a peer cannot take out a member connected through another node
    expect(await as(1, 'node3').call('leave_room', [roomId, 'bob', 'node3'])).toMatchObject({ success: false, error_code: 'NOT_IN_ROOM' });
    expect(await as(1, 'node3').call('notify_member_disconnect', [roomId, 'bob', 'node3', 'User disconnected'])).toMatchObject({ success: true, message: 'User not in room' });
    // a delete_room forwarded by a peer that is not its node is a sender-id mismatch
    expect((await faultOf(as(1, 'node3').call('delete_room', [roomId, 'alice', 'node2']))).faultCode).toBe(AUTH);
    noForgedFrames();
    await expectUnchanged();
  });

  it('rolls a prepared deletion back on its own when neither commit nor rollback arrives (DELETE_PREPARE_TIMEOUT)', async () => {
    const txn = randomUUID();
    const vote = await as(2, 'node1').call<{ vote: string }>('prepare_delete_room', [roomId, txn, 'node1', 'alice']);
    expect(vote.vote).toBe('READY');
    expect((await bob.nextOf('delete_room_initiated', 5_000)).data).toMatchObject({ room_id: roomId, transaction_id: txn });
    // while pending, node2 refuses sends in the room
    bob.send('send_message', { room_id: roomId, username: 'bob', content: 'during' });
    expect((await bob.nextOf('message_error', 5_000)).data.error_code).toBe('INVALID_STATE');
    expect((await bob.nextOf('delete_room_cancelled', 15_000)).data).toMatchObject({ room_id: roomId, transaction_id: txn });
    await eventually(() => /neither committed nor rolled back within 2 s; rolled back here/.test(node(2).output), 5_000);
    // a late commit of that transaction is refused: it is over
    expect((await faultOf(as(2, 'node1').call('commit_delete_room', [roomId, txn, room.room_name]))).faultCode).toBe(REFUSED);
    await expectUnchanged();
  }, 30_000);

  it('does not leave a prepared deletion stuck across a restart of the node', async () => {
    const txn = randomUUID();
    expect((await as(3, 'node1').call<{ vote: string }>('prepare_delete_room', [roomId, txn, 'node1', 'alice'])).vote).toBe('READY');
    await node(3).stop('SIGKILL');
    await node(3).start();
    await meshHealthy(cluster.nodes);
    // active again on node3 (its catch-up with the host, or at the latest its re-armed timer): a join there works
    const carol = await TestClient.connect(node(3).url);
    try {
      await eventually(async () => (await carol.request('join_room', { room_id: roomId, username: 'carol' }, 'join_room_success', 'join_room_error')).type === 'join_room_success', 10_000, 200);
      expect((await carol.request('leave_room', { room_id: roomId, username: 'carol' }, 'leave_room_success', 'leave_room_error')).type).toBe('leave_room_success');
    } finally {
      await carol.close();
    }
    await eventually(async () => (await hostState())?.members.length === 2, 5_000);
    await expectUnchanged();
  }, 40_000);

  it('keeps chatting normally afterwards, and every node stored the same room, members and history', async () => {
    bob.send('send_message', { room_id: roomId, username: 'bob', content: 'after' });
    expect((await bob.nextOf('message_sent', 10_000)).data.sequence_number).toBe(4);
    expect((await alice.nextOf('new_message', 10_000)).data).toMatchObject({ sequence_number: 4, username: 'bob', content: 'after' });
    noForgedFrames();
    await eventually(async () => (await messagesOn(3)).last === 4, 10_000, 100);
    const refusals = node(2).output.match(/Refused replication from node3/g) ?? [];
    expect(refusals.length).toBeGreaterThanOrEqual(1);
    expect(refusals.length).toBeLessThan(4); // one WARNING per burst, not one per refused batch
    // killed all at once, so no node's shutdown (its clients leaving) changes what the others stored
    await Promise.all(cluster.nodes.map((n) => n.stop('SIGKILL')));
    const want = [...original.map((m) => [m.sequence_number, m.message_id, m.content]), [4, expect.any(String), 'after']];
    for (const n of cluster.nodes) {
      const db = readDb(n);
      expect(db.rooms).toEqual([{ room_id: roomId, room_name: 'guarded', host_node: 'node1', last_sequence: 4, state: 'ACTIVE' }]);
      expect(db.messages(roomId).map((m) => [m.sequence_number, m.message_id, m.content])).toEqual(want);
      expect(db.members.filter((m) => m.room_id === roomId).map((m) => `${m.username}@${m.node_id}`).sort()).toEqual(['alice@node1', 'bob@node2']);
      expect(db.tombstones).toEqual([]);
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
    const invented = await faultOf(unsignedClient(only).call('replicate_events_json', ['node9', '[]']));
    expect(invented).toMatchObject({ faultCode: -32602, faultString: expect.stringMatching(/not in this node's PEER_NODES/) });
  });
});
