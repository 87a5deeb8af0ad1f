import { Logger } from '@nestjs/common';
import { loadConfig } from '../../../common/config/load-config';
import { ChatStore } from '../../../common/store/chat-store';
import { FakeClock, FakeSocket } from '../../../testing/fakes';
import { ClientRegistry } from '../../members/client-registry';
import type { Entry } from '../consensus/log-entry';
import { LogApplier } from './log-applier';
import { MEMBER_JOINED, MEMBER_LEFT, MESSAGE, ROOM, ROOM_DELETED, TRIM, type MemberJoinedData, type MemberLeftData, type MessageData, type RoomData, type RoomDeletedData, type TrimData, type TrimmedMessageData } from './room-entries';

const T = '2026-01-01T00:00:00.000Z';
let index = 0;
const entry = (kind: string, data: unknown, sequence = 0): Entry => ({ index: ++index, epoch: 1, kind, sequence, clientKey: null, data });
const room = (): Entry => entry(ROOM, { room_name: 'general', description: 'talk', creator_id: 'alice', created_at: T } satisfies RoomData);
const message = (sequence: number, username = 'alice'): Entry =>
  entry(MESSAGE, { message_id: `m${sequence}`, username, content: `hello ${sequence}`, timestamp: T, client_message_id: null } satisfies MessageData, sequence);
const joined = (username: string, node = 'node1'): Entry => entry(MEMBER_JOINED, { username, node_id: node, joined_at: T, boot_id: 'boot-1' } satisfies MemberJoinedData);
const left = (username: string, reason?: MemberLeftData['reason']): Entry => entry(MEMBER_LEFT, { username, timestamp: T, ...(reason ? { reason } : {}) } satisfies MemberLeftData);
const trim = (before: number, sequence: number): Entry => entry(TRIM, { before_sequence: before, reason: 'count', timestamp: T } satisfies TrimData, sequence);
const deleted = (): Entry => entry(ROOM_DELETED, { transaction_id: 'txn-1', initiator: 'alice', deleted_at: T } satisfies RoomDeletedData);

describe(LogApplier.name, () => {
  const HERE = { node: 'node1', epoch: 1 };
  let store: ChatStore;
  let clients: ClientRegistry;
  let sut: LogApplier;
  let bob: FakeSocket;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    index = 0;
    store = ChatStore.inMemory();
    const config = loadConfig({ NODE_ID: 'node1' });
    clients = new ClientRegistry(config, new FakeClock());
    sut = new LogApplier(config, store.transactions, store.rooms, store.messages, store.members, store.tombstones, clients, store.logs, store.readMarkers, store.privacy, store.moderation);
    bob = new FakeSocket();
    const conn = clients.connect(bob.asWebSocket());
    clients.register(conn, 'r1', 'bob', 0);
  });
  afterEach(() => {
    clients.onModuleDestroy();
    store.close();
  });

  /** Applies entries in one transaction, as LogWriter does, and returns what the room's member saw before the commit. */
  const applyAll = (entries: Entry[], host = HERE): { seenBeforeCommit: number; deletedRoom: boolean[] } => {
    let seenBeforeCommit = 0;
    const deletedRoom: boolean[] = [];
    store.transactions.run(() => {
      for (const e of entries) deletedRoom.push(sut.apply('r1', e, host));
      seenBeforeCommit = bob.frames.length;
    });
    return { seenBeforeCommit, deletedRoom };
  };

  it('makes the room from its first entry, hosted where the entry says', () => {
    applyAll([room()], { node: 'node2', epoch: 3 });
    expect(store.rooms.getRoom('r1')).toEqual({ roomId: 'r1', roomName: 'general', description: 'talk', creatorId: 'alice', hostNode: 'node2', hostEpoch: 3, state: 'ACTIVE', createdAt: T, lastSequence: 0, deletionTxn: null });
  });

  it('stores each message and shows it to the room\'s members only once the write committed', () => {
    const { seenBeforeCommit } = applyAll([room(), message(1), message(2)]);
    expect(seenBeforeCommit).toBe(0);
    expect(bob.sent('new_message').map((m) => [m.sequence_number, m.content])).toEqual([[1, 'hello 1'], [2, 'hello 2']]);
    expect(store.rooms.getRoom('r1')?.lastSequence).toBe(2);
    expect(sut.hostedMessages).toBe(2); // committed while this node hosted the room
  });

  it('shows nothing of a write that rolled back', () => {
    applyAll([room()]);
    expect(() =>
      store.transactions.run(() => {
        sut.apply('r1', message(1), HERE);
        throw new Error('the disk failed');
      }),
    ).toThrow('the disk failed');
    expect(bob.frames).toEqual([]);
    expect(store.rooms.getRoom('r1')?.lastSequence).toBe(0);
  });

  it('applies a message again without a second copy or a second delivery (a crash undid only the applied mark)', () => {
    const m1 = message(1);
    applyAll([room(), m1]);
    applyAll([m1]);
    expect(store.messages.messagesAfter('r1', 0, 10)).toHaveLength(1);
    expect(bob.sent('new_message')).toHaveLength(1);
    expect(sut.hostedMessages).toBe(1);
  });

  it('counts messages of rooms hosted elsewhere as none of this node\'s', () => {
    applyAll([room(), message(1)], { node: 'node2', epoch: 1 });
    expect(sut.hostedMessages).toBe(0);
  });

  it('releases a sender on this node waiting to see its message', async () => {
    applyAll([room()]);
    const waiting = sut.sequences.wait('r1', 1, 0);
    applyAll([message(1)]);
    await expect(waiting).resolves.toBe(true);
  });

  it('adds a member and tells the others (not the joiner) after the commit; a join again through the same node says nothing', () => {
    const { seenBeforeCommit } = applyAll([room(), joined('carol'), joined('bob')]);
    expect(seenBeforeCommit).toBe(0);
    expect(bob.sent('member_joined')).toEqual([{ room_id: 'r1', username: 'carol', member_count: 1, timestamp: T }]);
    expect(store.members.getMember('r1', 'carol')).toMatchObject({ nodeId: 'node1', bootId: 'boot-1' });

    applyAll([joined('carol')]);
    expect(bob.sent('member_joined')).toHaveLength(1);
    applyAll([joined('carol', 'node2')]); // moved to another node: every node learns where the name is held
    expect(bob.sent('member_joined')).toHaveLength(2);
    expect(store.members.getMember('r1', 'carol')?.nodeId).toBe('node2');
  });

  it('removes a member and tells the others why (no reason for an explicit leave); a member already gone says nothing', () => {
    applyAll([room(), joined('carol'), joined('dave')]);
    applyAll([left('carol'), left('dave', 'Inactivity'), left('erin')]);
    expect(bob.sent('member_left')).toEqual([
      { room_id: 'r1', username: 'carol', member_count: 1, timestamp: T },
      { room_id: 'r1', username: 'dave', member_count: 0, timestamp: T, reason: 'Inactivity' },
    ]);
  });

  it('a removal for one connection leaves a membership the user has since made through another node, or through the node\'s new run', () => {
    const removal = (username: string, node_id: string, boot_id: string | null): Entry =>
      entry(MEMBER_LEFT, { username, timestamp: T, reason: 'Node unreachable', node_id, boot_id } satisfies MemberLeftData);
    applyAll([room(), joined('carol', 'node2'), joined('dave'), joined('erin')]);
    // decided while carol and dave were on node1's first run; carol joined again through node2, dave through node1's next run
    applyAll([entry(MEMBER_JOINED, { username: 'dave', node_id: 'node1', joined_at: T, boot_id: 'boot-2' } satisfies MemberJoinedData)]);
    applyAll([removal('carol', 'node1', 'boot-1'), removal('dave', 'node1', 'boot-1'), removal('erin', 'node1', 'boot-1')]);
    expect(store.members.listMembers('r1').map((m) => m.username).sort()).toEqual(['carol', 'dave']);
    expect(bob.sent('member_left')).toEqual([{ room_id: 'r1', username: 'erin', member_count: 2, timestamp: T, reason: 'Node unreachable' }]);
  });

  it('deletes the room with everything in it, keeps a tombstone, and tells its members both deletion events', () => {
    applyAll([room(), joined('bob'), message(1)]);
    bob.frames.length = 0;
    const waiting = sut.sequences.wait('r1', 5, 0);
    const { seenBeforeCommit, deletedRoom } = applyAll([deleted()]);
    expect(deletedRoom).toEqual([true]);
    expect(seenBeforeCommit).toBe(0);
    expect(store.rooms.getRoom('r1')).toBeNull();
    expect(store.members.listMembers('r1')).toEqual([]);
    expect(store.messages.messagesAfter('r1', 0, 10)).toEqual([]);
    expect(store.tombstones.getTombstone('r1')).toEqual({ roomId: 'r1', roomName: 'general', hostNode: 'node1', deletedAt: T, transactionId: 'txn-1' });
    expect(bob.types).toEqual(['delete_room_initiated', 'room_deleted']);
    expect(bob.sent('room_deleted')).toEqual([{ room_id: 'r1', room_name: 'general', message: "Room 'general' has been deleted", transaction_id: 'txn-1' }]);
    expect(clients.hasRoom('r1')).toBe(false);
    return expect(waiting).resolves.toBe(false);
  });

  it('a tombstone from a peer deletes the room here too, with room_deleted only (nobody here initiated it), and once', () => {
    applyAll([room(), message(1)]);
    bob.frames.length = 0;
    store.transactions.run(() => sut.applyTombstone('r1', 'general', 'txn-2', 'node2', T));
    store.transactions.run(() => sut.applyTombstone('r1', 'general', 'txn-2', 'node2', T));
    expect(store.rooms.getRoom('r1')).toBeNull();
    expect(store.tombstones.getTombstone('r1')).toMatchObject({ hostNode: 'node2', transactionId: 'txn-2' });
    expect(bob.types).toEqual(['room_deleted']);
  });

  it('entries that change nothing a member sees (noop, promote, a kind from a newer node) are no-ops', () => {
    applyAll([room()]);
    const { deletedRoom } = applyAll([entry('noop', null), entry('promote', { node: 'node3', disk: 'd' }), entry('pinned', { x: 1 })]);
    expect(deletedRoom).toEqual([false, false, false]);
    expect(bob.frames).toEqual([]);
  });

  it('ignores messages and joins of a room it does not have (its first entry is not applied here)', () => {
    applyAll([message(1), joined('carol')]);
    expect(store.messages.messagesAfter('r1', 0, 10)).toEqual([]);
    expect(store.members.getMember('r1', 'carol')).toBeNull();
    expect(bob.frames).toEqual([]);
  });

  describe('retention (a committed trim entry)', () => {
    const seqs = (s: ChatStore = store) => s.messages.messagesAfter('r1', 0, 100).map((m) => m.sequenceNumber);
    const log = (): Entry[] => {
      index = 0;
      return [room(), ...Array.from({ length: 20 }, (_, i) => message(i + 1)), trim(16, 20), message(21), message(22), trim(18, 22)];
    };

    it('removes the room\'s messages below before_sequence at its place in the log, and shows members nothing of it', () => {
      applyAll(log());
      expect(seqs()).toEqual([18, 19, 20, 21, 22]);
      expect(store.messages.firstSequence('r1')).toBe(18);
      expect(store.rooms.getRoom('r1')?.lastSequence).toBe(22);
      expect(bob.types.filter((t) => t !== 'new_message')).toEqual([]);
    });

    it('a node that replays the whole log (catching up, or a new disk) ends with the same messages as one that applied it live', () => {
      const live = log();
      for (const e of live) applyAll([e]); // one entry per write, as a host applies them
      const other = ChatStore.inMemory();
      try {
        const replica = new LogApplier(loadConfig({ NODE_ID: 'node2' }), other.transactions, other.rooms, other.messages, other.members, other.tombstones, new ClientRegistry(loadConfig({ NODE_ID: 'node2' }), new FakeClock()), other.logs, other.readMarkers, other.privacy, other.moderation);
        other.transactions.run(() => {
          for (const e of live) replica.apply('r1', e, HERE);
        });
        expect(seqs(other)).toEqual(seqs());
        expect(other.messages.messagesAfter('r1', 0, 100)).toEqual(store.messages.messagesAfter('r1', 0, 100));
        expect(other.messages.firstSequence('r1')).toBe(18);
      } finally {
        other.close();
      }
    });

    it('entries applied again after a crash undid only the applied mark bring no trimmed message back', () => {
      const entries = log();
      applyAll(entries);
      applyAll(entries.slice(1)); // every message and trim again
      expect(seqs()).toEqual([18, 19, 20, 21, 22]);
    });

    it('strips the content of the removed messages\' log entries in the same write; later entries keep theirs', () => {
      const entries = log();
      store.logs.replaceFrom('r1', 1, entries); // as LogWriter stored them
      const contents = () => store.logs.entriesOfKind('r1', MESSAGE).map((e) => [e.sequence, (e.data as { content?: string }).content ?? null]);
      const whole = contents();
      expect(() =>
        store.transactions.run(() => {
          for (const e of entries) sut.apply('r1', e, HERE);
          throw new Error('the disk failed');
        }),
      ).toThrow('the disk failed');
      expect(contents()).toEqual(whole);

      applyAll(entries);
      expect(contents()).toEqual(whole.map(([seq, content]) => [seq, (seq as number) < 18 ? null : content]));
      expect(store.logs.entry('r1', 2)).toEqual({ ...entries[1], data: { message_id: 'm1', username: 'alice', timestamp: T, client_message_id: null, trimmed: true } });
    });

    /** The log a host that trimmed sends to a follower that lacks it: messages 1..15 stripped, then 16..20 and the trim. */
    const strippedLog = (): Entry[] => {
      index = 0;
      const stripped = (sequence: number): Entry => entry(MESSAGE, { message_id: `m${sequence}`, username: 'alice', timestamp: T, client_message_id: null, trimmed: true } satisfies TrimmedMessageData, sequence);
      return [room(), ...Array.from({ length: 15 }, (_, i) => stripped(i + 1)), ...Array.from({ length: 5 }, (_, i) => message(16 + i)), trim(16, 20)];
    };

    it('a follower applying message entries its host already stripped counts their sequences, and stores and shows nothing of them', async () => {
      const entries = strippedLog();
      const waiting = sut.sequences.wait('r1', 15, 0);
      applyAll(entries.slice(0, 16), { node: 'node2', epoch: 1 }); // up to the last stripped one
      await expect(waiting).resolves.toBe(true);
      expect(store.rooms.getRoom('r1')?.lastSequence).toBe(15);
      expect(seqs()).toEqual([]);
      expect(bob.frames).toEqual([]); // never an empty message
      applyAll(entries.slice(1, 16), { node: 'node2', epoch: 1 }); // again, after a crash undid the applied mark
      expect(store.rooms.getRoom('r1')?.lastSequence).toBe(15);

      applyAll(entries.slice(16), { node: 'node2', epoch: 1 });
      expect(seqs()).toEqual([16, 17, 18, 19, 20]);
      expect(store.messages.firstSequence('r1')).toBe(16);
      expect(store.rooms.getRoom('r1')?.lastSequence).toBe(20);
      expect(bob.sent('new_message').map((m) => [m.sequence_number, m.content])).toEqual([16, 17, 18, 19, 20].map((n) => [n, `hello ${n}`]));
      expect(sut.hostedMessages).toBe(0);
    });

    it('a node replaying a stripped log ends with the same messages as the node that stripped it', () => {
      const live = log();
      store.logs.replaceFrom('r1', 1, live);
      applyAll(live);
      const stored = store.logs.entries('r1', 1, live.length, 1 << 30); // what a host sends a new disk now
      expect(stored.filter((e) => e.kind === MESSAGE && (e.data as { trimmed?: boolean }).trimmed)).toHaveLength(17);
      const other = ChatStore.inMemory();
      try {
        const otherClients = new ClientRegistry(loadConfig({ NODE_ID: 'node2' }), new FakeClock());
        const replica = new LogApplier(loadConfig({ NODE_ID: 'node2' }), other.transactions, other.rooms, other.messages, other.members, other.tombstones, otherClients, other.logs, other.readMarkers, other.privacy, other.moderation);
        other.transactions.run(() => {
          for (const e of stored) replica.apply('r1', e, HERE);
        });
        expect(other.messages.messagesAfter('r1', 0, 100)).toEqual(store.messages.messagesAfter('r1', 0, 100));
        expect(other.rooms.getRoom('r1')?.lastSequence).toBe(22);
        expect(other.messages.firstSequence('r1')).toBe(18);
        otherClients.onModuleDestroy();
      } finally {
        other.close();
      }
    });

    it('a trim of a room it does not have, or with a bad cut-off, changes nothing', () => {
      applyAll([room(), message(1), message(2)]);
      applyAll([entry(TRIM, { before_sequence: 'soon', reason: 'count', timestamp: T }), entry(TRIM, null)]);
      expect(seqs()).toEqual([1, 2]);
      expect(() => store.transactions.run(() => sut.apply('r9', trim(2, 2), HERE))).not.toThrow();
      expect(seqs()).toEqual([1, 2]);
    });
  });
});
