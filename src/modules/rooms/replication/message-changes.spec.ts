import { Logger } from '@nestjs/common';
import { loadConfig } from '../../../common/config/load-config';
import { ChatStore } from '../../../common/store/chat-store';
import { FakeClock, FakeSocket } from '../../../testing/fakes';
import { ClientRegistry } from '../../members/client-registry';
import type { Entry } from '../consensus/log-entry';
import { LogApplier } from './log-applier';
import { MESSAGE, MESSAGE_DELETED, MESSAGE_EDITED, ROOM, TRIM, type MessageData, type MessageDeletedData, type MessageEditedData, type RoomData, type TrimData } from './room-entries';

const T = '2026-01-01T00:00:00.000Z';
const LATER = '2026-01-01T00:05:00.000Z';
let index = 0;
const entry = (kind: string, data: unknown, sequence: number): Entry => ({ index: ++index, epoch: 1, kind, sequence, clientKey: null, data });
const room = (): Entry => entry(ROOM, { room_name: 'general', description: null, creator_id: 'alice', created_at: T } satisfies RoomData, 0);
const message = (sequence: number, username = 'carol'): Entry =>
  entry(MESSAGE, { message_id: `m${sequence}`, username, content: `text ${sequence}`, timestamp: T, client_message_id: null } satisfies MessageData, sequence);
/** Edits and deletions carry the room's last sequence, as every entry that is not a message does. */
const edited = (target: number, content: string, last: number): Entry =>
  entry(MESSAGE_EDITED, { message_id: `m${target}`, sequence_number: target, username: 'carol', content, edited_at: LATER } satisfies MessageEditedData, last);
const deletion = (target: number, last: number, by = 'carol'): Entry =>
  entry(MESSAGE_DELETED, { message_id: `m${target}`, sequence_number: target, username: 'carol', timestamp: T, deleted_by: by, deleted_at: LATER } satisfies MessageDeletedData, last);
const trim = (before: number, last: number): Entry => entry(TRIM, { before_sequence: before, reason: 'count', timestamp: LATER } satisfies TrimData, last);

describe('LogApplier: edits and deletions of messages (MessageChangeApplier)', () => {
  const HERE = { node: 'node1', epoch: 1 };
  let store: ChatStore;
  let clients: ClientRegistry;
  let sut: LogApplier;
  let bob: FakeSocket;

  beforeAll(() => Logger.overrideLogger(false));

  const applierOver = (s: ChatStore, registry: ClientRegistry) => new LogApplier(loadConfig({ NODE_ID: 'node1' }), s.transactions, s.rooms, s.messages, s.members, s.tombstones, registry, s.logs, s.readMarkers, s.privacy, s.moderation);

  beforeEach(() => {
    index = 0;
    store = ChatStore.inMemory();
    clients = new ClientRegistry(loadConfig({ NODE_ID: 'node1' }), new FakeClock());
    sut = applierOver(store, clients);
    bob = new FakeSocket();
    clients.register(clients.connect(bob.asWebSocket()), 'r1', 'bob', 0);
  });
  afterEach(() => {
    clients.onModuleDestroy();
    store.close();
  });

  /** Stores the entries as LogWriter does, then applies them in one transaction; returns what the member saw before the commit. */
  const applyAll = (entries: Entry[], on: { store: ChatStore; applier: LogApplier } = { store, applier: sut }): number => {
    let seenBeforeCommit = 0;
    on.store.logs.replaceFrom('r1', entries[0].index, entries);
    on.store.transactions.run(() => {
      for (const e of entries) on.applier.apply('r1', e, HERE);
      seenBeforeCommit = bob.frames.length;
    });
    return seenBeforeCommit;
  };
  const stored = (s = store) => s.messages.messagesAfter('r1', 0, 100);

  it('replaces the text, keeps the sequence numbers, and tells the members after the commit', () => {
    applyAll([room(), message(1), message(2)]);
    bob.frames.length = 0;
    expect(applyAll([edited(1, 'better text', 2)])).toBe(0);
    expect(stored().map((m) => [m.sequenceNumber, m.content, m.editedAt])).toEqual([[1, 'better text', LATER], [2, 'text 2', undefined]]);
    expect(store.rooms.getRoom('r1')?.lastSequence).toBe(2);
    expect(bob.sent('message_edited')).toEqual([{ room_id: 'r1', message_id: 'm1', sequence_number: 1, username: 'carol', content: 'better text', edited_at: LATER }]);
  });

  it('makes a deleted message a tombstone at its sequence number and strips its text, and its edits\' text, from the log', () => {
    applyAll([room(), message(1), edited(1, 'second thoughts', 1), message(2)]);
    bob.frames.length = 0;
    applyAll([deletion(1, 2, 'alice')]);
    expect(stored().map((m) => [m.sequenceNumber, m.content, m.deletedAt ?? null])).toEqual([[1, '', LATER], [2, 'text 2', null]]);
    expect(bob.sent('message_deleted')).toEqual([{ room_id: 'r1', message_id: 'm1', sequence_number: 1, username: 'carol', deleted_by: 'alice', deleted_at: LATER }]);
    const log = JSON.stringify([...store.logs.entriesOfKind('r1', MESSAGE), ...store.logs.entriesOfKind('r1', MESSAGE_EDITED)]);
    expect(log).not.toContain('text 1');
    expect(log).not.toContain('second thoughts');
    expect(log).toContain('text 2');
    expect(store.logs.entry('r1', 2)?.data).toEqual({ message_id: 'm1', username: 'carol', timestamp: T, client_message_id: null, trimmed: true, deleted_at: LATER });
  });

  it('an edit after the deletion, or one whose text was stripped, changes nothing and says nothing', () => {
    applyAll([room(), message(1), deletion(1, 1)]);
    bob.frames.length = 0;
    const stripped = entry(MESSAGE_EDITED, { message_id: 'm1', sequence_number: 1, username: 'carol', edited_at: LATER }, 1);
    applyAll([edited(1, 'too late', 1), stripped]);
    expect(stored()[0]).toMatchObject({ content: '', deletedAt: LATER });
    expect(bob.sent('message_edited')).toEqual([]);
  });

  it('a node catching up from a log the deletion stripped ends with the same tombstone as one that applied it live', () => {
    const live = [room(), message(1), message(2), edited(2, 'edited', 2), deletion(1, 2)];
    for (const e of live) applyAll([e]);
    const other = ChatStore.inMemory();
    const registry = new ClientRegistry(loadConfig({ NODE_ID: 'node2' }), new FakeClock());
    try {
      // what the host sends the follower now: its own stored log, message 1 stripped
      const sent = Array.from({ length: live.length }, (_, i) => store.logs.entry('r1', i + 1)!);
      applyAll(sent, { store: other, applier: applierOver(other, registry) });
      expect(stored(other)).toEqual(stored());
    } finally {
      registry.onModuleDestroy();
      other.close();
    }
  });

  it('retention removes edited messages and tombstones alike, and strips the text of the edits below the cut', () => {
    applyAll([room(), message(1), message(2), message(3), edited(1, 'edited one', 3), edited(3, 'edited three', 3), deletion(2, 3)]);
    applyAll([trim(3, 3)]);
    expect(stored().map((m) => [m.sequenceNumber, m.content])).toEqual([[3, 'edited three']]);
    const edits = store.logs.entriesOfKind('r1', MESSAGE_EDITED).map((e) => (e.data as MessageEditedData).content ?? null);
    expect(edits).toEqual([null, 'edited three']);
  });

  it('releases a requester on this node waiting for its change to be applied here', async () => {
    applyAll([room(), message(1)]);
    const waiting = sut.changes.applied.wait('r1', index + 1, 0);
    applyAll([edited(1, 'x', 1)]);
    await expect(waiting).resolves.toBe(true);
  });
});
