import type { ReadMarkers } from '../host/read-markers.service';
import { ChatError } from '../../../common/errors/chat-error';
import { loadConfig } from '../../../common/config/load-config';
import type { PeerDirectory } from '../../peers/peer-directory';
import type { MessageEdits } from '../host/message-edits.service';
import type { RoomDeletionCoordinator } from '../host/room-deletion.coordinator';
import type { RoomHostService } from '../host/room-host.service';
import type { RoomLogs } from '../replication/room-logs.service';
import { roomRecord } from '../../../testing/records';
import { LocalRoomHost } from './local-room-host';
import { RemoteRoomHost } from './remote-room-host';
import type { RoomInvites } from '../host/room-invites.service';
import type { RoomModeration } from '../host/room-moderation.service';
import { RoomHosts } from './room-hosts';

/** node2 is configured; each test sets what its calls answer. */
class FakePeers {
  failed = false;
  suspected = false;
  answer: () => Promise<unknown> = async () => undefined;
  readonly calls: { nodeId: string; method: string; params: unknown }[] = [];
  has = (nodeId: string) => nodeId === 'node2';
  isFailed = () => this.failed;
  isSuspected = () => this.suspected;
  call = (nodeId: string, method: string, params: unknown) => {
    this.calls.push({ nodeId, method, params });
    return this.answer();
  };
  forwardMessage = (nodeId: string, item: unknown) => this.call(nodeId, 'forward_message', item);
}

describe(RoomHosts.name, () => {
  let peers: FakePeers;
  /** The host each room's log names (none: the room has no log here, or no host is known). */
  let logHosts: Map<string, { node: string; epoch: number }>;
  let sut: RoomHosts;
  const item = { room_id: 'r1', username: 'alice', content: 'hi', client_message_id: null };

  beforeEach(() => {
    peers = new FakePeers();
    logHosts = new Map();
    const logs = { hostOf: (roomId: string) => logHosts.get(roomId) ?? null };
    sut = new RoomHosts(loadConfig({ NODE_ID: 'node1' }), 'boot-1', peers as unknown as PeerDirectory, {} as RoomHostService, {} as RoomDeletionCoordinator, logs as unknown as RoomLogs, {} as MessageEdits, {} as ReadMarkers, {} as RoomInvites, {} as RoomModeration);
  });

  it('serves a room at the host its log names, which may be newer than the room record (the record follows once written)', () => {
    logHosts.set('r1', { node: 'node2', epoch: 2 });
    expect(sut.for(roomRecord({ hostNode: 'node1' })).nodeId).toBe('node2');
    logHosts.set('r1', { node: 'node1', epoch: 3 });
    expect(sut.for(roomRecord({ hostNode: 'node2' }))).toBeInstanceOf(LocalRoomHost);
    logHosts.clear(); // no log here (a reference node's room), or no host known while an election runs: the last one recorded
    expect(sut.for(roomRecord({ hostNode: 'node2' })).nodeId).toBe('node2');
  });

  it('serves a room hosted here locally, with later sends proposed while earlier ones wait for their majority, and any other room at its host', () => {
    const local = sut.for(roomRecord({ hostNode: 'node1' }));
    const remote = sut.for(roomRecord({ hostNode: 'node2' }));

    expect(local).toBeInstanceOf(LocalRoomHost);
    expect(local.maxSendsInFlight).toBeGreaterThan(1);
    expect(remote).toBeInstanceOf(RemoteRoomHost);
    expect(remote.nodeId).toBe('node2');
    expect(remote.maxSendsInFlight).toBeGreaterThan(1);
  });

  it('refuses with ADMIN_NODE_UNAVAILABLE, without calling, when the host is failed or not a configured peer', async () => {
    peers.failed = true;
    await expect(sut.for(roomRecord({ hostNode: 'node2' })).send(item)).rejects.toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE' });
    peers.failed = false;
    await expect(sut.for(roomRecord({ hostNode: 'node9' })).join('alice')).rejects.toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE' });
    expect(peers.calls).toEqual([]);
  });

  it('refuses retryably, without calling, while the failover probe suspects the host (a failover may be under way)', async () => {
    peers.suspected = true;
    await expect(sut.for(roomRecord({ hostNode: 'node2' })).send(item)).rejects.toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE', details: { retryable: true } });
    expect(peers.calls).toEqual([]);
  });

  it('names the host epoch this node knows in joins and forwards, so a replaced host can tell', async () => {
    const remote = sut.for(roomRecord({ hostNode: 'node2', hostEpoch: 3 }));
    peers.answer = async () => ({ success: true, message_id: 'm1', sequence_number: 1, timestamp: 't' });
    await remote.send(item);
    await remote.join('alice').catch(() => undefined); // the answer is no join reply: only the call matters here
    expect(peers.calls).toEqual([
      { nodeId: 'node2', method: 'forward_message', params: { ...item, host_epoch: 3 } },
      { nodeId: 'node2', method: 'join_room', params: ['r1', 'alice', 'node1', 'boot-1', 3] },
    ]);
  });

  it('maps a failed or timed-out call to ADMIN_NODE_UNAVAILABLE and keeps the host\'s own refusal codes', async () => {
    const remote = sut.for(roomRecord({ hostNode: 'node2' }));
    peers.answer = () => Promise.reject(new Error('timeout after 5000 ms'));
    const timedOut = await remote.send(item).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(ChatError);
    expect(timedOut).toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE', message: 'Failed to contact administrator node: timeout after 5000 ms', details: { retryable: true } });

    // the host's own "not now" (no majority, switch in progress) stays retryable for the client
    peers.answer = async () => ({ success: false, error: 'Not confirmed by a majority of nodes', error_code: 'ADMIN_NODE_UNAVAILABLE' });
    await expect(remote.send(item)).rejects.toMatchObject({ code: 'ADMIN_NODE_UNAVAILABLE', details: { retryable: true } });

    peers.answer = async () => ({ success: false, error: 'You are not a member of this room', error_code: 'NOT_MEMBER' });
    await expect(remote.send(item)).rejects.toMatchObject({ code: 'NOT_MEMBER' });
    peers.answer = async () => ({ success: false, error: 'odd', error_code: 'SOMETHING_NEW' });
    await expect(remote.send(item)).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
  });

  it('tells a remote host of a removal this node decided with notify_member_disconnect, and of an explicit leave with leave_room', async () => {
    const remote = sut.for(roomRecord({ hostNode: 'node2' }));
    await remote.leave('alice', 'Inactivity');
    await remote.leave('bob');
    expect(peers.calls.map((c) => [c.method, c.params])).toEqual([
      ['notify_member_disconnect', ['r1', 'alice', 'node1', 'Inactivity']],
      ['leave_room', ['r1', 'bob', 'node1']],
    ]);
  });

  it('answers history from the replica (null) when the host is failed or its call fails', async () => {
    const remote = sut.for(roomRecord({ hostNode: 'node2' }));
    peers.answer = () => Promise.reject(new Error('refused'));
    expect(await remote.history({ after: 0 }, 10)).toBeNull();
    peers.failed = true;
    expect(await remote.history({ after: 0 }, 10)).toBeNull();
    expect(await sut.for(roomRecord({ hostNode: 'node1' })).history({ after: 0 }, 10)).toBeNull();
  });
});
