import { Logger } from '@nestjs/common';
import { loadConfig } from '../../../common/config/load-config';
import { ChatMetrics } from '../../../common/metrics/chat-metrics';
import type { ClaimAnswer } from '../../../common/protocol/peer-wire';
import { ChatStore } from '../../../common/store/chat-store';
import { FakeClock } from '../../../testing/fakes';
import { messageRecord, roomRecord } from '../../../testing/records';
import type { ClientRegistry } from '../../members/client-registry';
import type { PeerDirectory } from '../../peers/peer-directory';
import type { RoomEventPublisher } from '../host/room-events.publisher';
import type { RoomHostService } from '../host/room-host.service';
import type { HostChanges } from '../replica/host-changes';
import type { LogReconciler } from '../replica/log-reconciler';
import type { ReplicaService } from '../replica/replica.service';
import { FailoverHistory } from './failover-history';
import { RoomClaim } from './room-claim';

/** Everything the claim does to the rest of the node, in order. */
type Step = unknown[];

/** node1 (this node) with peers node2 (the room's host, suspected) and node3; each voter's answer set per test. */
class Cluster {
  readonly steps: Step[] = [];
  live = ['node3'];
  readonly answers = new Map<string, (epoch: number) => ClaimAnswer | Promise<never>>();
  /** What fetchMissing copies into the store (sequences after ours), and a hook to act mid-claim. */
  copyable: number[] = [];
  duringCopy: () => void = () => undefined;

  constructor(private readonly store: ChatStore) {}

  readonly peers = {
    livePeers: () => this.live,
    majority: 2,
    call: async (node: string, method: string, params: [string, number, string]) => {
      this.steps.push(['call', node, method, ...params]);
      const answer = this.answers.get(node);
      if (!answer) throw new Error('timeout');
      return answer(params[1]);
    },
  };
  readonly host = {
    startServing: (roomId: string) => this.steps.push(['startServing', roomId]),
    removeMembersOf: (node: string, reason: string) => this.steps.push(['removeMembersOf', node, reason]),
    finishDeletion: (room: { roomId: string; state: string }) => this.steps.push(['finishDeletion', room.roomId, room.state]),
  };
  readonly events = {
    roomChanged: async (room: unknown) => void this.steps.push(['roomChanged', room]),
    messageResent: async (m: { sequenceNumber: number }, epoch: number) => void this.steps.push(['messageResent', m.sequenceNumber, epoch]),
  };
  readonly replica = {
    applyDeleted: (roomId: string) => this.steps.push(['applyDeleted', roomId]),
    deliverUnseen: (roomId: string, upTo: number) => this.steps.push(['deliverUnseen', roomId, upTo]),
    fetchMissing: async (roomId: string, from: string, upTo: number, anyCopy: boolean) => {
      this.steps.push(['fetchMissing', roomId, from, upTo, anyCopy]);
      for (const n of this.copyable) this.store.applyReplicaMessage(messageRecord(n, { roomId }));
      this.duringCopy();
    },
  };
  readonly reconciler = { alignWith: async (roomId: string, from: string) => void this.steps.push(['alignWith', roomId, from]) };
  readonly changes = { follow: (...args: unknown[]) => this.steps.push(['follow', ...args]) };
  readonly clients = { broadcast: (roomId: string, type: string, data: unknown) => this.steps.push(['broadcast', roomId, type, data]) };

  grant(node: string, copy: { log_epoch?: number; last_sequence: number }): void {
    this.answers.set(node, (epoch) => ({ granted: true, node_id: node, log_epoch: 1, host_node: 'node2', host_epoch: 1, promised_epoch: epoch, ...copy }));
  }
  refuse(node: string, over: Partial<ClaimAnswer> = {}): void {
    this.answers.set(node, () => ({ granted: false, node_id: node, log_epoch: 1, last_sequence: 0, host_node: 'node2', host_epoch: 1, promised_epoch: 1, reason: 'no', ...over }));
  }
  did(kind: string): Step[] {
    return this.steps.filter((s) => s[0] === kind);
  }
}

describe(RoomClaim.name, () => {
  let store: ChatStore;
  let cluster: Cluster;
  let metrics: ChatMetrics;
  let history: FailoverHistory;
  let sut: RoomClaim;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    store = ChatStore.inMemory();
    cluster = new Cluster(store);
    metrics = new ChatMetrics();
    history = new FailoverHistory(new FakeClock(), metrics);
    sut = new RoomClaim(
      loadConfig({ NODE_ID: 'node1', FAILOVER_TIMEOUT: '1' }),
      store,
      cluster.peers as unknown as PeerDirectory,
      cluster.host as unknown as RoomHostService,
      cluster.events as unknown as RoomEventPublisher,
      cluster.replica as unknown as ReplicaService,
      cluster.reconciler as unknown as LogReconciler,
      cluster.changes as unknown as HostChanges,
      cluster.clients as unknown as ClientRegistry,
      history,
    );
    // room r1, hosted by node2 at epoch 1; this node holds sequences 1..5
    store.insertRoom(roomRecord({ hostNode: 'node2' }));
    for (let n = 1; n <= 5; n++) store.applyReplicaMessage(messageRecord(n));
  });

  afterEach(() => store.close());

  it('asks the live peers other than the old host for the next epoch, having voted for itself first', async () => {
    cluster.live = ['node2', 'node3']; // the old host is left out even while it still looks live here
    let ownVote: number | undefined;
    cluster.answers.set('node3', () => {
      ownVote = store.getRoom('r1')?.promisedEpoch;
      return Promise.reject(new Error('timeout'));
    });
    expect(await sut.claim('r1')).toBe(false);
    expect(cluster.did('call')).toEqual([['call', 'node3', 'claim_room', 'r1', 2, 'node1']]);
    expect(ownVote).toBe(2);
  });

  it('withdraws its own vote when nobody granted, so a host that is fine after all is not fenced by it', async () => {
    cluster.refuse('node3', { reason: 'the host node2 still answers node3' });
    expect(await sut.claim('r1')).toBe(false);
    expect(store.getRoom('r1')).toMatchObject({ promisedEpoch: 1, hostNode: 'node2', hostEpoch: 1 });
  });

  it('without a majority of grants it does not serve, announce or tell anyone', async () => {
    cluster.answers.set('node3', () => Promise.reject(new Error('timeout'))); // no answer is no grant
    expect(await sut.claim('r1')).toBe(false);
    expect(cluster.steps.map((s) => s[0])).toEqual(['call']);
    expect(store.getRoom('r1')?.hostNode).toBe('node2');
    expect(history.count).toBe(0);
  });

  it('counts grants against a majority of the whole cluster, not of the voters that answered', async () => {
    cluster.peers.majority = 3; // 5 nodes: itself and two grants
    cluster.live = ['node3', 'node4'];
    cluster.grant('node3', { last_sequence: 5 });
    expect(await sut.claim('r1')).toBe(false); // node4 did not answer
    expect(store.getRoom('r1')?.promisedEpoch).toBe(2); // node3 promised epoch 2: so does this node, it is not withdrawn

    cluster.grant('node4', { last_sequence: 5 });
    expect(await sut.claim('r1')).toBe(true);
    expect(store.getRoom('r1')).toMatchObject({ hostNode: 'node1', hostEpoch: 3 }); // epoch 2 was promised by the first attempt
  });

  it('with a majority it becomes the host at epoch+1, from the sequence after the last one, and records the failover', async () => {
    cluster.grant('node3', { last_sequence: 5 });
    expect(await sut.claim('r1')).toBe(true);

    expect(store.getRoom('r1')).toMatchObject({ hostNode: 'node1', hostEpoch: 2, promisedEpoch: 2, epochStart: 6, logEpoch: 2, lastSequence: 5 });
    expect(cluster.did('fetchMissing')).toEqual([]); // its own copy was the most complete
    expect(cluster.did('startServing')).toEqual([['startServing', 'r1']]);
    expect(cluster.did('roomChanged')).toEqual([['roomChanged', expect.objectContaining({ roomId: 'r1', hostNode: 'node1', hostEpoch: 2, epochStart: 6 })]]);
    expect(cluster.did('removeMembersOf')).toEqual([['removeMembersOf', 'node2', 'Node unreachable']]);
    expect(cluster.did('broadcast')).toEqual([['broadcast', 'r1', 'room_host_changed', { room_id: 'r1', admin_node: 'node1', host_epoch: 2 }]]);
    expect(history.list()).toEqual([expect.objectContaining({ room_id: 'r1', from_node: 'node2', to_node: 'node1', from_epoch: 1, to_epoch: 2, first_sequence: 6 })]);
    const body = (await metrics.exposition()).body;
    expect(body).toMatch(/^chat_failovers_total 1$/m);
  });

  it('shows local members at once what a grantor of the same log also holds; the rest is replicated again and shown at its commit', async () => {
    cluster.grant('node3', { last_sequence: 3 }); // 4 and 5 were sequenced by node2 and reached only this node
    expect(await sut.claim('r1')).toBe(true);
    expect(cluster.did('deliverUnseen')).toEqual([['deliverUnseen', 'r1', 3]]);
    expect(cluster.did('messageResent')).toEqual([
      ['messageResent', 4, 2],
      ['messageResent', 5, 2],
    ]);
    expect(store.getRoom('r1')).toMatchObject({ epochStart: 6, lastSequence: 5 }); // kept: only a later host's claim can drop them
  });

  it('with five nodes, shows at once only what enough grantors hold for a majority (itself and two)', async () => {
    cluster.peers.majority = 3;
    cluster.live = ['node3', 'node4', 'node5'];
    cluster.grant('node3', { last_sequence: 5 });
    cluster.grant('node4', { last_sequence: 3 });
    cluster.grant('node5', { last_sequence: 2 });
    expect(await sut.claim('r1')).toBe(true);
    expect(cluster.did('deliverUnseen')).toEqual([['deliverUnseen', 'r1', 3]]); // 1..3: this node, node3 and node4
    expect(cluster.did('messageResent').map((s) => s[1])).toEqual([4, 5]);
  });

  it('replicates nothing again when a grantor holds its whole copy', async () => {
    cluster.grant('node3', { last_sequence: 5 });
    await sut.claim('r1');
    expect(cluster.did('deliverUnseen')).toEqual([['deliverUnseen', 'r1', 5]]);
    expect(cluster.did('messageResent')).toEqual([]);
  });

  it('starts serving before it announces the epoch (replicas follow the announcement straight to a serving host)', async () => {
    cluster.grant('node3', { last_sequence: 5 });
    await sut.claim('r1');
    const kinds = cluster.steps.map((s) => s[0]);
    expect(kinds.indexOf('startServing')).toBeLessThan(kinds.indexOf('roomChanged'));
  });

  it("takes a grantor's more complete copy first (same log epoch, more messages), and continues after it", async () => {
    cluster.grant('node3', { last_sequence: 8 });
    cluster.copyable = [6, 7, 8];
    expect(await sut.claim('r1')).toBe(true);
    expect(cluster.did('alignWith')).toEqual([['alignWith', 'r1', 'node3']]);
    expect(cluster.did('fetchMissing')).toEqual([['fetchMissing', 'r1', 'node3', 8, true]]);
    expect(store.getRoom('r1')).toMatchObject({ hostEpoch: 2, epochStart: 9, lastSequence: 8 });
  });

  it('ranks copies by log epoch before length: a shorter copy of a newer epoch wins', async () => {
    cluster.peers.majority = 3; // 5 nodes: needs two grants
    cluster.live = ['node3', 'node4'];
    cluster.grant('node3', { log_epoch: 1, last_sequence: 9 }); // longer, but follows the old epoch's log
    cluster.grant('node4', { log_epoch: 2, last_sequence: 4 });
    store.setEpochs('r1', { ...store.getRoom('r1')!, hostEpoch: 2, promisedEpoch: 2, epochStart: 4 });
    cluster.copyable = [];
    await sut.claim('r1');
    expect(cluster.did('alignWith')).toEqual([['alignWith', 'r1', 'node4']]);
  });

  it('abandons the claim when it could not copy everything the most complete copy holds', async () => {
    cluster.grant('node3', { last_sequence: 8 });
    cluster.copyable = [6]; // the grantor went away mid-copy
    expect(await sut.claim('r1')).toBe(false);
    expect(cluster.did('startServing')).toEqual([]);
    expect(store.getRoom('r1')?.hostNode).toBe('node2');
  });

  it('abandons the claim when this node promised a newer epoch to another candidate meanwhile', async () => {
    cluster.grant('node3', { last_sequence: 8 });
    cluster.copyable = [6, 7, 8];
    cluster.duringCopy = () => store.setEpochs('r1', { ...store.getRoom('r1')!, promisedEpoch: 3 });
    expect(await sut.claim('r1')).toBe(false);
    expect(cluster.did('startServing')).toEqual([]);
    expect(cluster.did('roomChanged')).toEqual([]);
    expect(store.getRoom('r1')).toMatchObject({ hostNode: 'node2', hostEpoch: 1, promisedEpoch: 3 });
  });

  it('drops its copy when a voter holds the tombstone, instead of reviving a deleted room', async () => {
    cluster.refuse('node3', { deleted: true, reason: 'the room was deleted' });
    expect(await sut.claim('r1')).toBe(false);
    expect(cluster.did('applyDeleted')).toEqual([['applyDeleted', 'r1']]);
    expect(cluster.did('startServing')).toEqual([]);
  });

  it('follows a newer host a refusing voter names', async () => {
    cluster.refuse('node3', { host_node: 'node3', host_epoch: 4, promised_epoch: 4 });
    expect(await sut.claim('r1')).toBe(false);
    expect(cluster.did('follow')).toEqual([['follow', 'r1', 'node3', 4, 1]]);
  });

  it('a host back from a restart re-claims its room: confirmed, no failover recorded, its members kept', async () => {
    store.setEpochs('r1', { ...store.getRoom('r1')!, hostNode: 'node1' });
    cluster.live = ['node2', 'node3'];
    cluster.grant('node2', { last_sequence: 5 });
    cluster.grant('node3', { last_sequence: 5 });
    expect(await sut.claim('r1')).toBe(true);
    expect(cluster.did('call').map((c) => c[1])).toEqual(['node2', 'node3']); // every live peer votes
    expect(store.getRoom('r1')).toMatchObject({ hostNode: 'node1', hostEpoch: 2, epochStart: 6 });
    expect(history.count).toBe(0);
    expect(cluster.did('removeMembersOf')).toEqual([]);
    expect(cluster.did('broadcast')).toEqual([]);
  });

  it('cancels a deletion the old host left undecided (nobody was told it succeeded)', async () => {
    store.setRoomState('r1', 'DELETION_PENDING', 'txn-7');
    cluster.grant('node3', { last_sequence: 5 });
    expect(await sut.claim('r1')).toBe(true);
    expect(store.getRoom('r1')).toMatchObject({ state: 'ACTIVE', deletionTxn: null });
    expect(cluster.did('broadcast')).toContainEqual(['broadcast', 'r1', 'delete_room_cancelled', { room_id: 'r1', transaction_id: 'txn-7' }]);
    expect(cluster.did('roomChanged').at(-1)).toEqual(['roomChanged', expect.objectContaining({ state: 'ACTIVE', deletionTxn: null, hostEpoch: 2 })]);
  });

  it('a host back from a restart finishes the deletion it had decided (COMMITTING) once a majority confirms it', async () => {
    store.setEpochs('r1', { ...store.getRoom('r1')!, hostNode: 'node1' });
    store.setRoomState('r1', 'COMMITTING', 'txn-8');
    cluster.grant('node3', { last_sequence: 5 });
    expect(await sut.claim('r1')).toBe(true);
    expect(cluster.did('finishDeletion')).toEqual([['finishDeletion', 'r1', 'COMMITTING']]);
    expect(cluster.did('broadcast')).toEqual([]); // not cancelled
  });

  it("a new host cancels even a COMMITTING deletion of the old host: it cannot finish another node's transaction", async () => {
    store.setRoomState('r1', 'COMMITTING', 'txn-9');
    cluster.grant('node3', { last_sequence: 5 });
    expect(await sut.claim('r1')).toBe(true);
    expect(cluster.did('finishDeletion')).toEqual([]);
    expect(store.getRoom('r1')).toMatchObject({ state: 'ACTIVE', deletionTxn: null });
  });

  it('claims nothing for a room it does not hold', async () => {
    expect(await sut.claim('nope')).toBe(false);
    expect(cluster.steps).toEqual([]);
  });
});
