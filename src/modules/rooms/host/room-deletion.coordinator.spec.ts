import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Clock } from '../../../common/clock/clock';
import { loadConfig } from '../../../common/config/load-config';
import { NODE_CONFIG } from '../../../common/config/node-config';
import type { ReplicationEvent, Vote } from '../../../common/protocol/peer-wire';
import { CHAT_STORE, ChatStore } from '../../../common/store/chat-store';
import { chatErrorCode, FakeClock, FakeSocket } from '../../../testing/fakes';
import { roomRecord } from '../../../testing/records';
import { deferred, flushPromises, peek } from '../../../testing/deferred';
import { ClientRegistry } from '../../members/client-registry';
import { PeerDirectory } from '../../peers/peer-directory';
import { RoomDeletionCoordinator } from './room-deletion.coordinator';
import { RoomEventPublisher } from './room-events.publisher';
import { RoomHostService } from './room-host.service';
import { CommitLedger } from './commit-ledger';
import { LocalWrites } from './local-writes';

type Answer = (params: unknown[]) => unknown;

/** The peers as the coordinator sees them: who is configured, who is failed, and every call made; replicated changes are stored by a majority at once. */
class FakePeers {
  readonly calls: { nodeId: string; method: string; params: unknown[] }[] = [];
  readonly replicated: ReplicationEvent[] = [];
  readonly failed = new Set<string>();
  /** Per node and method, what the peer answers (a thrown error is a timeout/unreachable peer). */
  readonly answers = new Map<string, Answer>();
  /** Runs when any call is made, to observe the coordinator mid-transaction. */
  onCall: (nodeId: string, method: string) => void = () => undefined;

  constructor(readonly nodeIds: string[]) {}

  get majority(): number {
    return Math.floor((this.nodeIds.length + 1) / 2) + 1;
  }

  isFailed(nodeId: string): boolean {
    return this.failed.has(nodeId);
  }
  async call(nodeId: string, method: string, params: unknown[]): Promise<unknown> {
    this.calls.push({ nodeId, method, params });
    this.onCall(nodeId, method);
    const answer = this.answers.get(`${nodeId} ${method}`);
    if (answer) return answer(params);
    if (method === 'prepare_delete_room') return { vote: 'READY', node_id: nodeId, transaction_id: String(params[1]) } satisfies Vote;
    return { success: true, node_id: nodeId };
  }
  /** How a replicated change fares: stored by a majority at once unless a test says otherwise. */
  stored: () => Promise<void> = () => Promise.resolve();
  replicate(event: ReplicationEvent): Promise<void> {
    this.replicated.push(event);
    return this.stored();
  }
  discardRoom(): void {}
  methodsTo(nodeId: string): string[] {
    return this.calls.filter((c) => c.nodeId === nodeId).map((c) => c.method);
  }
}

describe(RoomDeletionCoordinator.name, () => {
  let moduleRef: TestingModule;
  let sut: RoomDeletionCoordinator;
  let store: ChatStore;
  let peers: FakePeers;
  let member: FakeSocket;
  let clock: FakeClock;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    store = ChatStore.inMemory();
    store.insertRoom(roomRecord({ roomId: 'r1', roomName: 'general', creatorId: 'alice', hostNode: 'node1' }));
    store.insertRoom(roomRecord({ roomId: 'r2', roomName: 'elsewhere', creatorId: 'alice', hostNode: 'node2' }));
    store.addMember('r1', 'alice', 'node1', '2026-01-01T00:00:00.000Z');
    peers = new FakePeers(['node2', 'node3']);
    clock = new FakeClock(Date.parse('2026-03-01T12:00:00.000Z'));
    moduleRef = await Test.createTestingModule({
      providers: [
        RoomDeletionCoordinator,
        RoomHostService,
        LocalWrites,
        RoomEventPublisher,
        CommitLedger,
        ClientRegistry,
        { provide: NODE_CONFIG, useValue: loadConfig({ NODE_ID: 'node1' }) },
        { provide: CHAT_STORE, useValue: store },
        { provide: Clock, useValue: clock },
        { provide: PeerDirectory, useValue: peers },
      ],
    }).compile();
    sut = moduleRef.get(RoomDeletionCoordinator);
    moduleRef.get(RoomHostService).startServing('r1'); // as a majority's grant at boot would
    const clients = moduleRef.get(ClientRegistry);
    member = new FakeSocket();
    clients.register(clients.connect(member.asWebSocket()), 'r1', 'alice', 0);
  });

  afterEach(async () => {
    await moduleRef.close();
    store.close();
  });

  describe('refuses before any peer is asked', () => {
    it('lets only the room creator delete it (UNAUTHORIZED)', async () => {
      expect(await chatErrorCode(() => sut.deleteRoom('r1', 'mallory'))).toBe('UNAUTHORIZED');
      expect(peers.calls).toEqual([]);
      expect(store.getRoom('r1')?.state).toBe('ACTIVE');
      expect(member.frames).toEqual([]);
    });

    it('answers ROOM_NOT_FOUND for an unknown room and for a room hosted by another node', async () => {
      expect(await chatErrorCode(() => sut.deleteRoom('nope', 'alice'))).toBe('ROOM_NOT_FOUND');
      expect(await chatErrorCode(() => sut.deleteRoom('r2', 'alice'))).toBe('ROOM_NOT_FOUND');
      expect(store.getRoom('r2')?.state).toBe('ACTIVE');
      expect(peers.calls).toEqual([]);
    });

    it('refuses a room that is not ACTIVE (INVALID_STATE), leaving its pending transaction alone', async () => {
      store.setRoomState('r1', 'DELETION_PENDING', 'other-txn');
      expect(await chatErrorCode(() => sut.deleteRoom('r1', 'alice'))).toBe('INVALID_STATE');
      expect(store.getRoom('r1')).toMatchObject({ state: 'DELETION_PENDING', deletionTxn: 'other-txn' });
      expect(peers.calls).toEqual([]);
    });
  });

  describe('when every participant votes READY', () => {
    it('moves to COMMITTING, sends commit to each participant, deletes the room with a tombstone and tells everyone', async () => {
      const stateAtCommit: Record<string, unknown> = {};
      peers.onCall = (nodeId, method) => {
        if (method === 'commit_delete_room') stateAtCommit[nodeId] = store.getRoom('r1')?.state;
      };

      const outcome = await sut.deleteRoom('r1', 'alice');

      expect(outcome).toEqual({ success: true, transactionId: expect.any(String) });
      const txn = outcome.transactionId;
      expect(stateAtCommit).toEqual({ node2: 'COMMITTING', node3: 'COMMITTING' });
      for (const nodeId of ['node2', 'node3']) {
        expect(peers.calls.filter((c) => c.nodeId === nodeId)).toEqual([
          // each phase names the host epoch, so a participant that promised a newer one refuses it
          { nodeId, method: 'prepare_delete_room', params: ['r1', txn, 'node1', 'alice', 1] },
          { nodeId, method: 'commit_delete_room', params: ['r1', txn, 'general', 1] },
        ]);
      }
      expect(store.getRoom('r1')).toBeNull();
      expect(store.getTombstone('r1')).toEqual({ roomId: 'r1', roomName: 'general', hostNode: 'node1', deletedAt: '2026-03-01T12:00:00.000Z', transactionId: txn });
      expect(member.types).toEqual(['delete_room_initiated', 'room_deleted']);
      expect(member.sent('delete_room_initiated')).toEqual([{ room_id: 'r1', initiator: 'alice', status: 'in_progress', transaction_id: txn }]);
      expect(member.sent('room_deleted')).toEqual([{ room_id: 'r1', room_name: 'general', message: "Room 'general' has been deleted", transaction_id: txn }]);
      expect(peers.replicated).toEqual([{ kind: 'deleted', room_id: 'r1', room_name: 'general', transaction_id: txn, epoch: 1 }]);
    });

    it('still deletes when a commit call fails (the tombstone reaches that peer later)', async () => {
      peers.answers.set('node3 commit_delete_room', () => {
        throw new Error('timeout');
      });
      const outcome = await sut.deleteRoom('r1', 'alice');
      expect(outcome.success).toBe(true);
      expect(store.getRoom('r1')).toBeNull();
      expect(store.getTombstone('r1')?.transactionId).toBe(outcome.transactionId);
    });
  });

  describe('when a participant votes ABORT', () => {
    it('sends rollback to every participant, puts the room back to ACTIVE, broadcasts the cancel and reports the reason', async () => {
      peers.answers.set('node3 prepare_delete_room', (p) => ({ vote: 'ABORT', node_id: 'node3', transaction_id: String(p[1]), reason: 'Room is busy on node3' }));
      let stateAtRollback: unknown;
      peers.onCall = (_nodeId, method) => {
        if (method === 'rollback_delete_room') stateAtRollback = store.getRoom('r1')?.state;
      };

      const outcome = await sut.deleteRoom('r1', 'alice');

      expect(outcome).toEqual({ success: false, transactionId: expect.any(String), reason: 'Room is busy on node3' });
      const txn = outcome.transactionId;
      expect(stateAtRollback).toBe('ROLLING_BACK');
      expect(peers.methodsTo('node2')).toEqual(['prepare_delete_room', 'rollback_delete_room']);
      expect(peers.methodsTo('node3')).toEqual(['prepare_delete_room', 'rollback_delete_room']);
      expect(peers.calls.filter((c) => c.method === 'rollback_delete_room').map((c) => c.params)).toEqual([
        ['r1', txn, 1],
        ['r1', txn, 1],
      ]);
      expect(store.getRoom('r1')).toMatchObject({ state: 'ACTIVE', deletionTxn: null });
      expect(store.getTombstone('r1')).toBeNull();
      expect(member.types).toEqual(['delete_room_initiated', 'delete_room_cancelled']);
      expect(member.sent('delete_room_cancelled')).toEqual([{ room_id: 'r1', transaction_id: txn }]);
      expect(peers.replicated).toEqual([]);
    });

    it('names the refusing node when its ABORT carries no reason, and the room can be deleted again afterwards', async () => {
      peers.answers.set('node2 prepare_delete_room', (p) => ({ vote: 'ABORT', node_id: 'node2', transaction_id: String(p[1]) }));
      expect(await sut.deleteRoom('r1', 'alice')).toMatchObject({ success: false, reason: 'Node node2 voted ABORT' });

      peers.answers.clear();
      expect((await sut.deleteRoom('r1', 'alice')).success).toBe(true);
    });
  });

  describe('a participant that does not answer PREPARE', () => {
    beforeEach(() => {
      peers.answers.set('node3 prepare_delete_room', () => {
        throw new Error('timed out after 5000 ms');
      });
    });

    it('counts READY when it has no members in the room, and the deletion commits', async () => {
      store.addMember('r1', 'carol', 'node2', '2026-01-01T00:00:00.000Z');
      const outcome = await sut.deleteRoom('r1', 'alice');
      expect(outcome.success).toBe(true);
      expect(peers.methodsTo('node3')).toEqual(['prepare_delete_room', 'commit_delete_room']);
      expect(store.getRoom('r1')).toBeNull();
    });

    it('makes the deletion abort when members of the room are connected through it', async () => {
      store.addMember('r1', 'dave', 'node3', '2026-01-01T00:00:00.000Z');
      const outcome = await sut.deleteRoom('r1', 'alice');
      expect(outcome).toMatchObject({ success: false, reason: 'Node node3 timed out' });
      expect(peers.methodsTo('node2')).toEqual(['prepare_delete_room', 'rollback_delete_room']);
      expect(store.getRoom('r1')).toMatchObject({ state: 'ACTIVE', deletionTxn: null });
      expect(member.sent('delete_room_cancelled')).toHaveLength(1);
    });
  });

  it('does not ask peers known to be failed, in either phase', async () => {
    peers.failed.add('node3');
    store.addMember('r1', 'dave', 'node3', '2026-01-01T00:00:00.000Z');
    const outcome = await sut.deleteRoom('r1', 'alice');
    expect(outcome.success).toBe(true);
    expect(peers.methodsTo('node3')).toEqual([]);
    expect(peers.methodsTo('node2')).toEqual(['prepare_delete_room', 'commit_delete_room']);
  });

  it('calls onStarted once with the transaction id, after the room is pending and before any PREPARE', async () => {
    const started: { txn: string; state: unknown; callsSoFar: number; framesSoFar: number }[] = [];
    const outcome = await sut.deleteRoom('r1', 'alice', (txn) =>
      started.push({ txn, state: store.getRoom('r1')?.state, callsSoFar: peers.calls.length, framesSoFar: member.frames.length }),
    );
    expect(started).toEqual([{ txn: outcome.transactionId, state: 'DELETION_PENDING', callsSoFar: 0, framesSoFar: 0 }]);
  });

  it('uses a fresh transaction id for each attempt', async () => {
    peers.answers.set('node2 prepare_delete_room', (p) => ({ vote: 'ABORT', node_id: 'node2', transaction_id: String(p[1]), reason: 'no' }));
    const first = await sut.deleteRoom('r1', 'alice');
    const second = await sut.deleteRoom('r1', 'alice');
    expect(first.transactionId).not.toBe(second.transactionId);
  });
  describe('failover', () => {
    it('refuses retryably, before any peer is asked, a room this node hosts but has not been confirmed to serve', async () => {
      store.insertRoom(roomRecord({ roomId: 'r3', roomName: 'unconfirmed', creatorId: 'alice', hostNode: 'node1' }));
      expect(await chatErrorCode(() => sut.deleteRoom('r3', 'alice'))).toBe('ADMIN_NODE_UNAVAILABLE');
      expect(peers.calls).toEqual([]);
      expect(store.getRoom('r3')?.state).toBe('ACTIVE');
    });

    it('reports the deletion only once a majority stored it', async () => {
      const stored = deferred();
      peers.stored = () => stored.promise;
      const deleting = sut.deleteRoom('r1', 'alice');
      await flushPromises();
      expect(store.getRoom('r1')).toBeNull(); // decided: committed everywhere that answered
      expect(await peek(deleting)).toBe('pending');
      stored.resolve();
      expect((await deleting).success).toBe(true);
    });
  });
});
