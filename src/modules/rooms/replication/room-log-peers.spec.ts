import { Logger } from '@nestjs/common';
import { LogCluster } from '../../../testing/log-cluster';
import type { Append } from '../consensus/room-messages';
import { MESSAGE, ROOM, ROOM_DELETED, type RoomData, type RoomDeletedData } from './room-entries';
import { RoomLogOutbox } from './room-log-outbox';
import { RoomLogPeers } from './room-log-peers';

const ROOM_DATA: RoomData = { room_name: 'general', description: null, creator_id: 'alice', created_at: '2026-01-01T00:00:00.000Z' };
const deletion = (txn: string) => ({ kind: ROOM_DELETED, data: { transaction_id: txn, initiator: 'alice', deleted_at: 't' } satisfies RoomDeletedData });
const message = (content: string) => ({ kind: MESSAGE, data: { message_id: content, username: 'alice', content, timestamp: 't', client_message_id: null } });

describe(RoomLogPeers.name, () => {
  let cluster: LogCluster;
  const node = (id: string) => cluster.node(id);
  /** The RoomLogPeers of one node. */
  const sut = (id: string) => node(id).get(RoomLogPeers);
  const found = async (roomId = 'r1', on = 'node1') => {
    await node(on).logs.found(roomId, { kind: ROOM, data: { ...ROOM_DATA, room_name: roomId } });
    await cluster.settle();
  };
  /** A batch as node2 would send it to node1. */
  const fromNode2 = (roomId: string, m: object) => JSON.stringify([[roomId, { from: 'node2', to: 'node1', epoch: 1, ...m }]]);

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));

  afterEach(async () => {
    await cluster.close();
    jest.useRealTimers();
  });

  describe('batches', () => {
    beforeEach(async () => {
      cluster = await LogCluster.start(['node1', 'node2', 'node3']);
    });

    it('learns a room from its host\'s append, or from a candidate\'s (pre)vote, and from nothing else', async () => {
      const node1 = sut('node1');
      await node1.receive('node2', fromNode2('from-result', { type: 'appendResult', ok: true, match: 3, learner: false, disk: 'd' }));
      await node1.receive('node2', fromNode2('from-grant', { type: 'voteResult', granted: true }));
      await node1.receive('node2', fromNode2('from-prevote', { type: 'preVote', epoch: 2, last: { epoch: 1, index: 1 } }));
      await node1.receive('node2', fromNode2('from-append', { type: 'append', prev: { epoch: 0, index: 0 }, entries: [], commit: 0 }));
      const logs = node('node1').store.logs;
      expect([logs.state('from-result'), logs.state('from-grant')]).toEqual([null, null]);
      expect(logs.state('from-prevote')).toMatchObject({ learner: false });
      expect(logs.state('from-append')).toMatchObject({ epoch: 1, hostNode: 'node2', learner: false });
    });

    it('answers a call once what it took is on disk, with what this node has queued for the caller meanwhile', async () => {
      await found('r1', 'node2');
      // node1's own call to node2 is stuck: its answers to node2 wait in the queue, and go back with node2's next call
      jest.spyOn(node('node1').peers, 'call').mockImplementation(() => new Promise(() => undefined));
      node('node1').get(RoomLogOutbox).send(['other', { type: 'preVote', from: 'node1', to: 'node2', epoch: 9, last: { epoch: 1, index: 1 } }]);

      const reply = JSON.parse(await sut('node1').receive('node2', fromNode2('r1', { type: 'append', prev: { epoch: 1, index: 1 }, entries: [{ index: 2, epoch: 1, kind: MESSAGE, sequence: 1, clientKey: null, data: message('hi').data }], commit: 1 })));
      expect(node('node1').store.logs.lastIndex('r1')).toBe(2);
      expect(reply).toEqual([['r1', expect.objectContaining({ type: 'appendResult', from: 'node1', to: 'node2', ok: true, match: 2 })]]);
    });

    it('takes nothing while its writes fail (the sender sends again)', async () => {
      await found();
      jest.spyOn(node('node2').store.transactions, 'writesFailing', 'get').mockReturnValue(true);
      const before = node('node2').store.logs.lastIndex('r1');
      expect(await sut('node2').receive('node1', JSON.stringify([['r1', { type: 'append', from: 'node1', to: 'node2', epoch: 1, prev: { epoch: 1, index: 1 }, entries: [{ index: 2, epoch: 1, kind: MESSAGE, sequence: 1, clientKey: null, data: null }], commit: 1 }]]))).toBe('[]');
      expect(node('node2').store.logs.lastIndex('r1')).toBe(before);
    });

    it('refuses a malformed batch whole (the caller gets a -32602 fault): nothing of it is taken', async () => {
      const bad = JSON.stringify([
        ['fine', { type: 'preVote', from: 'node2', to: 'node1', epoch: 2, last: { epoch: 1, index: 1 } }],
        ['r1', { type: 'append', from: 'node2', to: 'node1', epoch: 2 ** 53 + 1, prev: { epoch: 0, index: 0 }, entries: [], commit: 0 }],
      ]);
      await expect(sut('node1').receive('node2', bad)).rejects.toThrow(/epoch: must be a safe integer/);
      expect(node('node1').store.logs.state('fine')).toBeNull();
    });
  });

  describe('deleted rooms', () => {
    beforeEach(async () => {
      cluster = await LogCluster.start(['node1', 'node2', 'node3']);
    });

    it('a node that missed a deletion entirely deletes its copy when a peer answers with the room\'s tombstone', async () => {
      await found();
      const carol = node('node3').member('r1', 'carol');
      cluster.network.cut.add('node3');
      await node('node1').logs.propose('r1', deletion('txn-1'));
      await cluster.settle();
      expect(node('node1').store.tombstones.getTombstone('r1')).not.toBeNull();

      cluster.network.cut.delete('node3');
      node('node3').peers.suspect('node1'); // it asks the others for votes: they hold only a tombstone
      await cluster.advance(3000);
      expect(node('node3').store.rooms.getRoom('r1')).toBeNull();
      expect(node('node3').store.logs.state('r1')).toBeNull();
      expect(node('node3').store.tombstones.getTombstone('r1')).toMatchObject({ roomName: 'r1', transactionId: 'txn-1' });
      expect(carol.types).toEqual(['room_deleted']);
    });

    it('a node whose log holds the deletion (it missed only its commit) commits that very entry: its members hear what everyone heard', async () => {
      await found();
      const carol = node('node3').member('r1', 'carol');
      // node3 stores every entry but never learns that the deletion (index 2) committed (nor, as from a node of an earlier version, what the host stored)
      cluster.network.alter = (_from, to, items) => (to === 'node3' ? items.map(([room, m]) => [room, m.type === 'append' ? { ...m, hostStored: undefined } : m]) : items);
      cluster.network.lose = (_from, to, items) => to === 'node3' && items.some(([, m]) => m.type === 'append' && (m as Append).commit >= 2);
      await node('node1').logs.propose('r1', deletion('txn-1'));
      await cluster.settle();
      expect(node('node3').store.logs.entriesOfKind('r1', ROOM_DELETED)).toHaveLength(1);
      expect(node('node3').store.rooms.getRoom('r1')).not.toBeNull();

      cluster.network.lose = () => false;
      cluster.network.alter = (_from, _to, items) => items;
      node('node3').peers.suspect('node1');
      await cluster.advance(3000);
      expect(node('node3').store.rooms.getRoom('r1')).toBeNull();
      expect(node('node3').store.tombstones.getTombstone('r1')).toMatchObject({ transactionId: 'txn-1', hostNode: 'node1' });
      expect(carol.types).toEqual(['delete_room_initiated', 'room_deleted']);
    });

    it('does not learn a room it holds a tombstone of again', async () => {
      await found();
      await node('node1').logs.propose('r1', deletion('txn-1'));
      await cluster.settle();
      await sut('node2').receive('node1', JSON.stringify([['r1', { type: 'append', from: 'node1', to: 'node2', epoch: 1, prev: { epoch: 0, index: 0 }, entries: [], commit: 0 }]]));
      expect(node('node2').store.logs.state('r1')).toBeNull();
    });
  });

  describe('the failure detector', () => {
    beforeEach(async () => {
      cluster = await LogCluster.start(['node1', 'node2', 'node3']);
      await found('a');
      await found('b');
      await found('c', 'node3');
    });

    it('tells every room a peer is down, loading first the rooms it hosted', async () => {
      const node2 = await cluster.restart('node2'); // nothing loaded yet
      node2.peers.suspect('node1');
      expect(node2.logs.leaderless()).toBe(2);
      expect(node2.logs.hostOf('c')).toEqual({ node: 'node3', epoch: 1 });
    });

    it('tells every room a peer restarted: the rooms it hosted lose their host until one is found (here the others still follow it)', async () => {
      node('node2').peers.restarted('node1');
      expect(node('node2').logs.leaderless()).toBe(2);
      await cluster.advance(1000);
      expect(node('node2').logs.leaderless()).toBe(0);
      expect(node('node2').logs.hostOf('a')).toEqual({ node: 'node1', epoch: 1 }); // a pre-vote refused by nodes that hear it
    });

    it('with FAILOVER_TIMEOUT=0 a suspected host keeps its rooms', async () => {
      await cluster.close();
      cluster = await LogCluster.start(['node1', 'node2', 'node3'], { env: { FAILOVER_TIMEOUT: '0' } });
      await found('a');
      node('node2').peers.suspect('node1');
      await cluster.advance(2000);
      expect(node('node2').logs.hostOf('a')).toEqual({ node: 'node1', epoch: 1 });
    });
  });

  describe('a fresh disk', () => {
    it('takes part in nothing until enough peers answered; new to the cluster, it is a voter from the start', async () => {
      cluster = await LogCluster.start(['node1', 'node2', 'node3'], {}, ['node3']);
      await found();
      expect(node('node3').store.logs.state('r1')).toBeNull(); // undecided: it did not take the host's append

      cluster.heartbeats('node3');
      await cluster.advance(2000); // the host sends again
      expect(node('node3').store.logs.state('r1')).toMatchObject({ learner: false, commit: 1 });
      expect(node('node3').disk.identity.rejoining).toBe(false);
    });

    it('still asks its peers after a restart before it knew (its DATA_DIR exists by then): it is no voter on nobody\'s word', async () => {
      cluster = await LogCluster.start(['node1', 'node2', 'node3']);
      await found();
      const wiped = await cluster.restart('node3', { wipe: true, unheard: true }); // no peer has answered it yet
      expect(sut('node3').learning).toBe(true);

      jest.spyOn(wiped.store, 'createdInThisRun', 'get').mockReturnValue(false); // as ChatStore.open says of an existing database
      const node3 = await cluster.restart('node3', { unheard: true });
      await cluster.advance(2000); // the host sends again: not taken, as a voter with an empty log would
      expect(node3.store.logs.state('r1')).toBeNull();
      expect(node3.disk.identity.fresh).toBe(true);

      cluster.heartbeats('node3');
      expect(node3.disk.identity.rejoining).toBe(true);
      const again = await cluster.restart('node3', { unheard: true });
      expect([again.disk.identity.fresh, again.disk.identity.rejoining]).toEqual([false, true]); // decided, and kept
    });

    it('a node back with an empty disk rejoins every room as a learner until the host promotes it, and stops rejoining once caught up', async () => {
      cluster = await LogCluster.start(['node1', 'node2', 'node3']);
      await found();
      await cluster.stop('node3');
      await node('node1').logs.propose('r1', message('while away'));
      const node3 = await cluster.restart('node3', { wipe: true });
      expect(node3.disk.identity.rejoining).toBe(true);
      expect(node3.store.logs.diskIdentity(false, 't').rejoining).toBe(true); // kept across restarts until it caught up

      sut('node3').know('listed'); // a room a peer's list names: learned now, as a learner
      expect(node3.store.logs.state('listed')).toMatchObject({ learner: true });

      await cluster.advance(2000);
      expect(node3.store.messages.messagesAfter('r1', 0, 10).map((m) => m.content)).toEqual(['while away']);
      expect(node3.store.logs.entriesOfKind('r1', 'promote').map((e) => e.data)).toEqual([{ node: 'node3', disk: node3.disk.diskId }]);
      expect(node3.store.logs.state('r1')).toMatchObject({ learner: false });

      sut('node3').rejoined();
      expect(node3.disk.identity.rejoining).toBe(false);
      await found('later');
      expect(node3.store.logs.state('later')).toMatchObject({ learner: false });
      expect(node3.store.logs.entriesOfKind('later', 'promote')).toEqual([]);
    });
  });
});
