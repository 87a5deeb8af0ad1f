import { Logger } from '@nestjs/common';
import { ChatMetrics } from '../../../common/metrics/chat-metrics';
import { LogCluster } from '../../../testing/log-cluster';
import { RoomHostService } from '../host/room-host.service';
import { FailoverHistory } from './failover-history';
import { HostChanges } from './host-changes';

describe(HostChanges.name, () => {
  let cluster: LogCluster;
  let roomId: string;
  const node = (id: string) => cluster.node(id);
  const host = (id: string) => node(id).get(RoomHostService);

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    cluster = await LogCluster.start(['node1', 'node2', 'node3'], { providers: [HostChanges, RoomHostService, FailoverHistory, ChatMetrics] });
    roomId = (await host('node1').create('general', 'alice', null)).roomId;
    await host('node1').join(roomId, 'alice', 'node1');
    await host('node1').join(roomId, 'bob', 'node2');
    await host('node1').join(roomId, 'carol', 'node3');
    await cluster.settle();
  });

  afterEach(async () => {
    await cluster.close();
    jest.useRealTimers();
  });

  it('after a failover, members everywhere are told the new host, which records the failover and removes the members of the lost node', async () => {
    const bob = node('node2').member(roomId, 'bob', 0);
    const carol = node('node3').member(roomId, 'carol', 0);
    cluster.network.cut.add('node1');
    for (const id of ['node2', 'node3']) node(id).peers.suspect('node1');
    await cluster.advance(2000);

    for (const socket of [bob, carol]) {
      expect(socket.sent('room_host_changed')).toEqual([{ room_id: roomId, admin_node: 'node2', host_epoch: 2 }]);
      expect(socket.sent('member_left')).toEqual([expect.objectContaining({ username: 'alice', reason: 'Node unreachable', member_count: 2 })]);
    }
    expect(node('node2').get(FailoverHistory).list()).toEqual([
      { room_id: roomId, room_name: 'general', at: expect.any(String), from_node: 'node1', to_node: 'node2', from_epoch: 1, to_epoch: 2, first_sequence: 1 },
    ]);
    expect(node('node3').get(FailoverHistory).count).toBe(0);
    expect(node('node3').store.members.listMembers(roomId).map((m) => m.username).sort()).toEqual(['bob', 'carol']);
  });

  it('a host back from a restart takes its rooms again without announcing a new host, and removes its own members that lost their connection', async () => {
    const bob = node('node2').member(roomId, 'bob', 0);
    await cluster.stop('node1');
    await cluster.restart('node1');
    await cluster.advance(1000);

    expect(node('node1').logs.hostOf(roomId)).toEqual({ node: 'node1', epoch: 2 });
    expect(bob.sent('room_host_changed')).toEqual([]);
    expect(bob.sent('member_left')).toEqual([expect.objectContaining({ username: 'alice', reason: 'User disconnected' })]);
    expect(node('node1').get(FailoverHistory).count).toBe(0); // not a failover: the same node hosts it
  });

  it('a node that takes a room over after its host restarted removes the members whose node restarted since they joined, and its own without a socket', async () => {
    await host('node1').join(roomId, 'dave', 'node1', 'boot-1a'); // through the host, in its first run
    await host('node1').join(roomId, 'erin', 'node2', 'boot-2a'); // through node2, whose socket closed while nobody hosted
    await cluster.settle();
    const carol = node('node3').member(roomId, 'carol', 0);
    node('node2').peers.boots.set('node1', 'boot-1b'); // node1 came back before node2 took over: no one was told
    node('node2').peers.boots.set('node3', 'boot-3a');
    cluster.network.cut.add('node1');
    for (const id of ['node2', 'node3']) node(id).peers.suspect('node1');
    await cluster.advance(2000);

    expect(node('node2').logs.hostOf(roomId)?.node).toBe('node2');
    const left = carol.sent('member_left').map((f) => `${f.username}: ${f.reason}`).sort();
    expect(left).toEqual(['alice: Node unreachable', 'bob: User disconnected', 'dave: User disconnected', 'erin: User disconnected']);
    expect(node('node3').store.members.listMembers(roomId).map((m) => m.username)).toEqual(['carol']);
  });

  it('keeps the members of a node that still answers (a host replaced while it was only slow keeps its clients)', async () => {
    node('node2').member(roomId, 'bob', 0); // bob's socket is on node2, which takes over
    cluster.network.cut.add('node1');
    node('node2').peers.suspect('node1');
    node('node3').peers.suspect('node1');
    node('node2').peers.answering('node1'); // heard again just before node2 won
    await cluster.advance(2000);

    expect(node('node2').logs.hostOf(roomId)?.node).toBe('node2');
    expect(node('node2').store.members.listMembers(roomId).map((m) => m.username).sort()).toEqual(['alice', 'bob', 'carol']);
  });
});
