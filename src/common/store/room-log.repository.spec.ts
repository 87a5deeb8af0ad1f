import { ChatStore } from './chat-store';
import { RoomLogRepository, type LogEntryRecord, type RoomLogState } from './room-log.repository';

const entry = (index: number, epoch: number, over: Partial<LogEntryRecord> = {}): LogEntryRecord => ({ index, epoch, kind: 'message', sequence: index, clientKey: null, data: { n: index }, ...over });
const state = (over: Partial<RoomLogState> = {}): RoomLogState => ({ roomId: 'r1', epoch: 0, vote: null, commit: 0, applied: 0, learner: false, hostNode: null, hostEpoch: 0, ...over });

describe(RoomLogRepository.name, () => {
  let store: ChatStore;
  let sut: RoomLogRepository;

  beforeEach(() => {
    store = ChatStore.inMemory();
    sut = store.logs;
  });
  afterEach(() => store.close());

  describe('state', () => {
    it('round-trips a room\'s hard state, progress and last known host; none for a room it has no log of', () => {
      expect(sut.state('r1')).toBeNull();
      const s = state({ epoch: 3, vote: 'node2', commit: 7, applied: 6, learner: true, hostNode: 'node2', hostEpoch: 3 });
      sut.saveState(s);
      expect(sut.state('r1')).toEqual(s);
      sut.saveState({ ...s, vote: null, learner: false });
      expect(sut.state('r1')).toEqual({ ...s, vote: null, learner: false });
    });

    it('lists the rooms whose last known host is a node, and every room it has a log of', () => {
      sut.saveState(state({ roomId: 'a', hostNode: 'node2' }));
      sut.saveState(state({ roomId: 'b', hostNode: 'node3' }));
      sut.saveState(state({ roomId: 'c', hostNode: 'node2' }));
      sut.saveState(state({ roomId: 'd' }));
      expect(sut.roomsHostedBy('node2').sort()).toEqual(['a', 'c']);
      expect(sut.allRooms().sort()).toEqual(['a', 'b', 'c', 'd']);
    });
  });

  describe('entries', () => {
    beforeEach(() => sut.replaceFrom('r1', 1, [entry(1, 1, { kind: 'room', sequence: 0 }), entry(2, 1), entry(3, 1, { clientKey: 'alice\u0000c1' }), entry(4, 2), entry(5, 2)]));

    it('reads what was stored, entry by entry and in ranges, payloads included', () => {
      expect(sut.lastIndex('r1')).toBe(5);
      expect(sut.lastIndex('other')).toBe(0);
      expect(sut.entry('r1', 3)).toEqual(entry(3, 1, { clientKey: 'alice\u0000c1' }));
      expect(sut.entry('r1', 6)).toBeUndefined();
      expect(sut.entries('r1', 2, 4, 1 << 20).map((e) => e.index)).toEqual([2, 3, 4]);
      expect(sut.entries('r1', 4, 99, 1 << 20).map((e) => e.index)).toEqual([4, 5]);
    });

    it('stops a range after its byte budget, but always returns at least one entry', () => {
      expect(sut.entries('r1', 1, 5, 1)).toHaveLength(1);
      expect(sut.entries('r1', 1, 5, 150).length).toBeLessThan(5);
    });

    it('keeps a payload of null as null', () => {
      sut.replaceFrom('r1', 6, [entry(6, 2, { kind: 'noop', data: null })]);
      expect(sut.entry('r1', 6)?.data).toBeNull();
    });

    it('replaceFrom drops everything from an index on before storing the new tail (a follower replacing what no majority stored)', () => {
      sut.replaceFrom('r1', 4, [entry(4, 3, { data: 'new' })]);
      expect(sut.lastIndex('r1')).toBe(4);
      expect(sut.entry('r1', 4)).toMatchObject({ epoch: 3, data: 'new' });
      expect(sut.entry('r1', 5)).toBeUndefined();
      sut.replaceFrom('r1', 2, []); // a truncation only
      expect(sut.lastIndex('r1')).toBe(1);
    });

    it('finds the entry written for a client key, in its room only', () => {
      expect(sut.findByClientKey('r1', 'alice\u0000c1')?.index).toBe(3);
      expect(sut.findByClientKey('r1', 'bob\u0000c1')).toBeUndefined();
      expect(sut.findByClientKey('r2', 'alice\u0000c1')).toBeUndefined();
    });

    it('finds the last index at or below a point whose epoch is not newer (a refused append\'s hint)', () => {
      expect(sut.lastIndexWithEpochAtMost('r1', 5, 2)).toBe(5);
      expect(sut.lastIndexWithEpochAtMost('r1', 5, 1)).toBe(3);
      expect(sut.lastIndexWithEpochAtMost('r1', 2, 1)).toBe(2);
      expect(sut.lastIndexWithEpochAtMost('r1', 5, 0)).toBe(0);
      expect(sut.lastIndexWithEpochAtMost('other', 5, 9)).toBe(0);
    });

    it('lists the entries of one kind in log order', () => {
      sut.replaceFrom('r1', 6, [entry(6, 2, { kind: 'room_deleted', data: { transaction_id: 't1' } }), entry(7, 2), entry(8, 2, { kind: 'room_deleted', data: { transaction_id: 't2' } })]);
      expect(sut.entriesOfKind('r1', 'room_deleted').map((e) => e.index)).toEqual([6, 8]);
      expect(sut.entriesOfKind('r1', 'promote')).toEqual([]);
    });

    it('drop removes a room\'s log and state and nothing of other rooms', () => {
      sut.saveState(state());
      sut.saveState(state({ roomId: 'r2' }));
      sut.replaceFrom('r2', 1, [entry(1, 1)]);
      sut.drop('r1');
      expect(sut.state('r1')).toBeNull();
      expect(sut.lastIndex('r1')).toBe(0);
      expect(sut.state('r2')).not.toBeNull();
      expect(sut.lastIndex('r2')).toBe(1);
    });

    describe('stripMessagesBefore (a committed trim)', () => {
      const T = '2026-01-01T00:00:00.000Z';
      const msg = (index: number, sequence: number, clientMessageId: string | null = null) =>
        entry(index, 2, { sequence, clientKey: clientMessageId && `alice\u0000${clientMessageId}`, data: { message_id: `m${sequence}`, username: 'alice', content: 'x'.repeat(5000), timestamp: T, client_message_id: clientMessageId } });
      const trimmed = (sequence: number, clientMessageId: string | null = null) => ({ message_id: `m${sequence}`, username: 'alice', timestamp: T, client_message_id: clientMessageId, trimmed: true });
      beforeEach(() => {
        sut.replaceFrom('r1', 1, [entry(1, 1, { kind: 'room', sequence: 0, data: { room_name: 'general' } }), msg(2, 1), msg(3, 2, 'c2'), entry(4, 2, { kind: 'member_joined', sequence: 2, data: { username: 'bob' } }), msg(5, 3), msg(6, 4), entry(7, 2, { kind: 'trim', sequence: 4, data: { before_sequence: 4 } })]);
        sut.replaceFrom('r2', 1, [msg(1, 1)]);
      });

      it('keeps only small metadata of the room\'s messages below the cut-off, and every index, epoch, kind, sequence and client key', () => {
        const before = sut.entries('r1', 1, 7, 1 << 30);
        expect(sut.stripMessagesBefore('r1', 4, 7)).toBe(3);
        const after = sut.entries('r1', 1, 7, 1 << 30);
        expect(after.map(({ data: _, ...rest }) => rest)).toEqual(before.map(({ data: _, ...rest }) => rest));
        expect(after.map((e) => e.data)).toEqual([before[0].data, trimmed(1), trimmed(2, 'c2'), before[3].data, trimmed(3), before[5].data, before[6].data]);
        expect(JSON.stringify(after[1].data).length).toBeLessThan(150);
        expect(sut.findByClientKey('r1', 'alice\u0000c2')).toEqual(after[2]); // a retry still finds it
        expect(sut.entry('r2', 1)).toEqual(msg(1, 1)); // another room keeps its own
      });

      it('touches no entry at or after the trim entry, and strips each entry once', () => {
        expect(sut.stripMessagesBefore('r1', 99, 3)).toBe(1);
        expect(sut.entry('r1', 3)?.data).toMatchObject({ content: 'x'.repeat(5000) });
        expect(sut.stripMessagesBefore('r1', 99, 7)).toBe(3);
        expect(sut.stripMessagesBefore('r1', 99, 7)).toBe(0);
        expect(sut.entry('r1', 6)?.data).toEqual(trimmed(4));
      });
    });

    it('writes inside the store\'s transactions: a failed one leaves the log as it was', () => {
      expect(() =>
        store.transactions.run(() => {
          sut.replaceFrom('r1', 3, [entry(3, 4)]);
          throw new Error('crash before the commit');
        }),
      ).toThrow('crash');
      expect(sut.lastIndex('r1')).toBe(5);
      expect(sut.entry('r1', 3)?.epoch).toBe(1);
    });
  });

  describe('disks', () => {
    it('makes this database\'s identity once and keeps it; one created in this run is fresh until it decided, across restarts', () => {
      const first = sut.diskIdentity(true, '2026-01-01T00:00:00.000Z');
      expect(first).toEqual({ diskId: expect.stringMatching(/^[0-9a-f-]{36}$/), fresh: true, rejoining: false });
      expect(sut.diskIdentity(false, 'later')).toEqual(first); // restarted before it knew: it asks its peers again
      sut.setDecided();
      expect(sut.diskIdentity(false, 'later')).toEqual({ ...first, fresh: false });
      const other = ChatStore.inMemory();
      expect(other.logs.diskIdentity(true, 'now').diskId).not.toBe(first.diskId);
      other.close();
      const predating = ChatStore.inMemory(); // a database of a version before disk identities
      expect(predating.logs.diskIdentity(false, 'now').fresh).toBe(false);
      predating.close();
    });

    it('remembers that this node is rejoining (across restarts, until it caught up)', () => {
      sut.diskIdentity(true, 'now');
      sut.setRejoining(true);
      expect(sut.diskIdentity(false, 'later').rejoining).toBe(true);
      sut.setRejoining(false);
      expect(sut.diskIdentity(false, 'later').rejoining).toBe(false);
    });

    it('remembers each peer\'s disk, and the one it replaced when a peer comes back with another', () => {
      sut.rememberPeerDisk('node2', 'd2');
      sut.rememberPeerDisk('node3', 'd3');
      sut.rememberPeerDisk('node2', 'd2'); // the same disk again: nothing replaced
      expect(sut.peerDisks()).toEqual([
        { nodeId: 'node2', diskId: 'd2', replacedDiskId: null },
        { nodeId: 'node3', diskId: 'd3', replacedDiskId: null },
      ]);
      sut.rememberPeerDisk('node2', 'd2b');
      sut.rememberPeerDisk('node2', 'd2b'); // heard again: still knows what it replaced
      expect(sut.peerDisks().find((p) => p.nodeId === 'node2')).toEqual({ nodeId: 'node2', diskId: 'd2b', replacedDiskId: 'd2' });
    });
  });
});
