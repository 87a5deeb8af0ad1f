import { Logger } from '@nestjs/common';
import { flushPromises } from '../../../testing/deferred';
import { LogCluster } from '../../../testing/log-cluster';
import { majorityOf } from '../consensus/quorum';
import { RejoinStatus } from '../consensus/rejoin-status';
import { MESSAGE, ROOM, type MessageData, type RoomData } from './room-entries';
import { RoomLogPeers } from './room-log-peers';
import type { WireItem } from './room-log-wire';

const ROOM_ID = 'r1';
const ROOM_DATA: RoomData = { room_name: 'general', description: null, creator_id: 'alice', created_at: '2026-01-01T00:00:00.000Z' };
const message = (content: string) => ({ kind: MESSAGE, data: { message_id: content, username: 'alice', content, timestamp: 't', client_message_id: null } satisfies MessageData });
const NODES = ['node1', 'node2', 'node3', 'node4', 'node5'];
const has = (items: WireItem[], type: string) => items.some(([, m]) => m.type === type);

/**
 * The rule before: a fresh disk decided it was clean once n - majority + 1 of its peers named it
 * (three of four with five nodes). Put back for one test, to show what the current rule prevents.
 */
function withTheOldRule(): () => void {
  const spy = jest.spyOn(RejoinStatus.prototype, 'decided', 'get').mockImplementation(function (this: RejoinStatus) {
    const self = this as unknown as { freshDisk: boolean; rejoining: boolean; answers: Map<string, string>; peers: string[] };
    if (!self.freshDisk || self.rejoining) return true;
    const n = self.peers.length + 1;
    return self.answers.size >= Math.min(n - majorityOf(n) + 1, self.peers.length);
  });
  return () => spy.mockRestore();
}

/**
 * node1's old disk grants node2 its vote at an epoch, and the grant is still on its way to node2
 * (node2 paused) when node1 comes back with a fresh disk. node3, node4 and node5 name the new
 * disk and nothing else: each of them was itself replaced while node1 was cut off, so none of
 * them knew node1's old disk (a peer that did would name that one, and node1 would rejoin as a
 * learner). Only node2, which took the old disk's calls, could say that node1 had another disk.
 */
describe('a wiped voter\'s late vote (five nodes)', () => {
  let cluster: LogCluster;
  const node = (id: string) => cluster.node(id);
  const core = (id: string) => node(id).logs.load(ROOM_ID)?.core;
  /** Nodes hosting the room at `epoch`, as each one's own core says. */
  const hostsAt = (epoch: number) => NODES.filter((id) => core(id)?.state.role === 'leader' && core(id)?.state.epoch === epoch);

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));

  afterEach(async () => {
    await cluster.close();
    jest.useRealTimers();
  });

  /** Plays the schedule up to node2 counting the old disk's vote; every step is chosen, no timer fires meanwhile. */
  async function lateVote(): Promise<void> {
    cluster = await LogCluster.start(NODES);
    const net = cluster.network;

    // node1 is cut off while node2 founds the room and node3, node4, node5 are each replaced and
    // promoted in turn: none of their new disks ever hears of node1's
    net.cut.add('node1');
    await node('node2').logs.found(ROOM_ID, { kind: ROOM, data: ROOM_DATA });
    await cluster.settle();
    for (const id of ['node3', 'node4', 'node5']) {
      await cluster.restart(id, { wipe: true });
      await cluster.advance(2000);
      expect(node(id).store.logs.state(ROOM_ID)).toMatchObject({ learner: false }); // promoted by node2
      expect(node(id).disk.rememberedOf('node1')).toBeUndefined();
    }
    expect(node('node2').disk.rememberedOf('node1')).toBeDefined();

    // node2 restarts and asks for the room back at epoch 2: node5 grants its vote, the requests to
    // node3 and node4 are lost, the ones to node1 are on their way
    net.hold = (from, to, items) => (from === 'node2' && to === 'node1' && net.cut.has('node1')) || (from === 'node1' && to === 'node2' && has(items, 'voteResult'));
    net.lose = (from, to, items) => from === 'node2' && (to === 'node3' || to === 'node4') && has(items, 'vote');
    await cluster.restart('node2');
    await cluster.settle();
    expect(core('node2')!.state).toMatchObject({ role: 'candidate', epoch: 2 });

    // it reaches node1's old disk, which is still cut off from the others; its grant is on its way back
    net.cut.delete('node1');
    net.lose = (from, to) => [from, to].includes('node1') && ![from, to].includes('node2');
    net.release();
    await cluster.settle();
    expect(node('node1').store.logs.state(ROOM_ID)).toMatchObject({ epoch: 2, vote: 'node2' });

    // node2 pauses; node1 comes back with a fresh disk and hears node3, node4 and node5
    net.cut.add('node2');
    net.lose = () => false;
    await cluster.restart('node1', { wipe: true });
    await cluster.settle();

    // node3's turn to campaign (its election timer, fired by hand so that no other timer moves)
    core('node3')!.campaign();
    node('node3').logs.touch(ROOM_ID);
    await cluster.settle();

    // node2 resumes and reads what waited for it: the old disk's grant (not settled: with two hosts
    // the cluster would not settle)
    net.cut.delete('node2');
    net.release();
    for (let i = 0; i < 20; i++) await flushPromises();
  }

  it('with the old rule (three of four peers), it elects a second host at the epoch the new disk voted in', async () => {
    const restore = withTheOldRule();
    try {
      await lateVote();
      expect(node('node1').get(RoomLogPeers).learning).toBe(false); // decided clean without node2
      // node3 + node4 + the new disk, and node2 + node5 + the old disk: two majorities at epoch 2
      expect(node('node1').store.logs.state(ROOM_ID)).toMatchObject({ epoch: 2, vote: 'node3', learner: false });
      expect(node('node4').store.logs.state(ROOM_ID)).toMatchObject({ epoch: 2, vote: 'node3' });
      expect(node('node5').store.logs.state(ROOM_ID)).toMatchObject({ epoch: 2, vote: 'node2' });
      expect(hostsAt(2)).toEqual(['node2', 'node3']);
    } finally {
      restore();
    }
  });

  it('cannot elect a second host at its epoch: the fresh disk waits for every peer, and node2 names the old one', async () => {
    await lateVote();
    expect(hostsAt(2)).toEqual(['node2']); // node2 + node5 + node1's old disk: the only majority at epoch 2
    expect(node('node1').store.logs.state(ROOM_ID)).toBeNull(); // undecided: it voted for nobody

    // once everything is delivered the room moves on under that one host, node1 rejoining as a learner
    cluster.heartbeats('node1');
    cluster.heartbeats('node2');
    expect(node('node1').disk.identity.rejoining).toBe(true);
    await cluster.advance(3000);
    const done = node('node2').logs.propose(ROOM_ID, message('after'));
    await cluster.settle();
    expect((await done).entry).toMatchObject({ epoch: 2 });
    await cluster.advance(2000);
    expect(NODES.filter((id) => core(id)?.state.role === 'leader')).toEqual(['node2']);
    for (const id of NODES) expect(node(id).store.messages.messagesAfter(ROOM_ID, 0, 10).map((m) => m.content)).toEqual(['after']);
    expect(node('node1').store.logs.state(ROOM_ID)).toMatchObject({ learner: false }); // promoted once caught up
  });
});
