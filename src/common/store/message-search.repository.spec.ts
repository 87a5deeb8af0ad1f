import { DatabaseSync } from 'node:sqlite';
import { messageRecord as msg, roomRecord as room } from '../../testing/records';
import { ChatStore } from './chat-store';
import { MessageSearchRepository } from './message-search.repository';
import { MIGRATIONS } from './schema';
import { toFtsQuery } from './search-query';
import { StoreTransactions } from './store-transactions';
import { StoreWriteHealth } from './store-write-health';

const T = '2026-01-01T00:05:00.000Z';

describe(MessageSearchRepository.name, () => {
  let store: ChatStore;
  const find = (text: string, before = Number.MAX_SAFE_INTEGER, limit = 10, roomId = 'r1') => store.search.search(roomId, toFtsQuery(text)!, before, limit).map((h) => h.message.sequenceNumber);
  beforeEach(() => {
    store = ChatStore.inMemory();
    store.rooms.insertRoom(room());
  });
  afterEach(() => store.close());

  it('runs on the node:sqlite this project ships (FTS5 compiled in)', () => {
    const db = new DatabaseSync(':memory:');
    expect(() => db.exec("CREATE VIRTUAL TABLE probe USING fts5(content, tokenize = 'unicode61 remove_diacritics 2')")).not.toThrow();
    db.close();
  });

  it('finds stored messages, newest first, in their room only, with the match marked in the snippet', () => {
    store.rooms.insertRoom(room({ roomId: 'r2', roomName: 'other' }));
    store.messages.insertMessage(msg(1, { content: 'Lunch at noon?' }));
    store.messages.insertMessage(msg(2, { content: 'nothing here' }));
    store.messages.insertMessage(msg(3, { content: 'lunch again, café' }));
    store.messages.insertMessage(msg(1, { roomId: 'r2', messageId: 'x1', content: 'lunch elsewhere' }));
    expect(find('lunch')).toEqual([3, 1]);
    expect(find('LUNCH', 3)).toEqual([1]);
    expect(find('lunch', Number.MAX_SAFE_INTEGER, 1)).toEqual([3]);
    expect(find('cafe')).toEqual([3]);
    expect(find('lun*')).toEqual([3, 1]);
    expect(store.search.search('r1', toFtsQuery('noon')!, 100, 10)[0].snippet).toBe('Lunch at «noon»?');
  });

  it('indexes behind the writes, in batches, and whole before a search', () => {
    for (let i = 1; i <= 5; i++) store.messages.insertMessage(msg(i, { content: `word ${i}` }));
    const indexed = () => (store.search as unknown as { sql: Record<string, { get: (...a: unknown[]) => unknown }> }).sql.progress.get('r1');
    expect(indexed()).toBeUndefined();
    expect(store.search.roomsBehind()).toEqual(['r1']);
    expect(store.search.indexPending('r1', 2)).toBe(true);
    expect(indexed()).toEqual({ n: 2 });
    store.messages.edit('r1', 4, 'changed before indexed', T);
    store.messages.markDeleted('r1', 5, T);
    expect(find('word')).toEqual([3, 2, 1]);
    expect(find('changed')).toEqual([4]);
    expect(indexed()).toEqual({ n: 5 });
    expect(store.search.roomsBehind()).toEqual([]);
    expect(store.search.indexPending('r1', 2)).toBe(false);
  });

  it('follows edits, deletions, retention and room deletion (the triggers of migrations 7 and 10)', () => {
    for (let i = 1; i <= 4; i++) store.messages.insertMessage(msg(i, { content: `hello ${i}` }));
    expect(find('hello')).toEqual([4, 3, 2, 1]);
    store.messages.edit('r1', 2, 'goodbye world', T);
    expect(find('hello')).toEqual([4, 3, 1]);
    expect(find('goodbye')).toEqual([2]);
    store.messages.markDeleted('r1', 3, T);
    expect(find('hello')).toEqual([4, 1]);
    store.messages.trimBefore('r1', 2);
    expect(find('hello')).toEqual([4]);
    store.tombstones.deleteRoom({ roomId: 'r1', roomName: 'general', hostNode: 'node1', deletedAt: T, transactionId: null });
    expect(find('hello')).toEqual([]);
    expect(find('goodbye')).toEqual([]);
    expect(store.search.roomsBehind()).toEqual([]);
  });

  it('does not index a message stored already deleted (a tombstone from a stripped entry)', () => {
    store.messages.insertMessage(msg(1, { content: '', deletedAt: T }));
    store.messages.insertMessage(msg(2, { content: 'kept' }));
    expect(find('kept')).toEqual([2]);
  });

  it('indexes the messages a database held before migration 7', () => {
    const db = new DatabaseSync(':memory:');
    for (const m of MIGRATIONS.slice(0, 6)) db.exec(m);
    db.exec(`INSERT INTO messages (room_id, sequence_number, message_id, username, content, timestamp) VALUES ('r1', 1, 'm1', 'a', 'old words', '${T}'), ('r1', 2, 'm2', 'a', '', '${T}')`);
    db.exec("UPDATE messages SET deleted_at = 'x' WHERE sequence_number = 2");
    for (const m of MIGRATIONS.slice(6)) db.exec(m);
    expect(db.prepare('SELECT indexed_through AS n FROM message_search_progress').get()).toEqual({ n: 2 });
    expect(new MessageSearchRepository(db, new StoreTransactions(db, new StoreWriteHealth())).search('r1', toFtsQuery('old')!, 100, 10).map((h) => h.message.messageId)).toEqual(['m1']);
    expect(db.prepare('SELECT count(*) AS n FROM message_search_keys').get()).toEqual({ n: 1 });
    db.close();
  });
});
