import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ConfigError } from '../config/config-error';
import type { MessageRecord, RoomRecord } from './chat-records';
import { ChatStore } from './chat-store';
import { MIGRATIONS } from './schema';
import { messageRecord, roomRecord } from '../../testing/records';

const room = roomRecord;
const msg = messageRecord;

const append = (store: ChatStore, n: number, over: Partial<MessageRecord> = {}) => {
  const out: MessageRecord[] = [];
  for (let i = 0; i < n; i++) {
    const { sequenceNumber: _s, ...m } = msg(0, { messageId: `a${i}-${Math.random()}`, content: `c${i}`, ...over });
    out.push(store.appendMessage(m));
  }
  return out;
};

/** Captures the error `fn` throws. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('ChatStore (in memory)', () => {
  let store: ChatStore;
  beforeEach(() => {
    store = ChatStore.inMemory();
    store.insertRoom(room());
  });
  afterEach(() => store.close());

  describe('host sequencing', () => {
    it('assigns contiguous sequence numbers from 1 and keeps every message (not only the last 100)', () => {
      const stored = append(store, 250);
      expect(stored.map((m) => m.sequenceNumber)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
      expect(store.getRoom('r1')!.lastSequence).toBe(250);
      const all = store.messagesAfter('r1', 0, 1000);
      expect(all).toHaveLength(250);
      expect(all.map((m) => m.content)).toEqual(stored.map((m) => m.content));
      expect(store.firstSequence('r1')).toBe(1);
    });

    it('sequences rooms independently', () => {
      store.insertRoom(room({ roomId: 'r2', roomName: 'other' }));
      append(store, 3);
      const [first] = append(store, 1, { roomId: 'r2' });
      expect(first.sequenceNumber).toBe(1);
      expect(store.getRoom('r1')!.lastSequence).toBe(3);
    });

    it('refuses to append to an unknown room and leaves no trace', () => {
      expect(() => append(store, 1, { roomId: 'nope' })).toThrow(/does not exist/);
      expect(store.messagesAfter('nope', 0, 10)).toEqual([]);
    });

    it('rolls back the sequence counter when the insert fails (no number skipped)', () => {
      append(store, 2, { clientMessageId: null });
      append(store, 1, { clientMessageId: 'c-1' });
      // the unique (room, username, client_message_id) index refuses a second row...
      expect(() => append(store, 1, { clientMessageId: 'c-1' })).toThrow();
      // ...and the counter bump in the same transaction is undone
      expect(store.getRoom('r1')!.lastSequence).toBe(3);
      expect(append(store, 1)[0].sequenceNumber).toBe(4);
    });

    it('finds a message by client_message_id per room and username', () => {
      const [m] = append(store, 1, { clientMessageId: 'x' });
      expect(store.findByClientMessageId('r1', 'alice', 'x')).toEqual(m);
      expect(store.findByClientMessageId('r1', 'bob', 'x')).toBeNull();
      // another user may reuse the same client id
      const [b] = append(store, 1, { username: 'bob', clientMessageId: 'x' });
      expect(store.findByClientMessageId('r1', 'bob', 'x')).toEqual(b);
    });

    it('pages history before and after a sequence number, ascending', () => {
      append(store, 250);
      const last = store.messagesBefore('r1', 251, 100);
      expect(last.map((m) => m.sequenceNumber)).toEqual(Array.from({ length: 100 }, (_, i) => 151 + i));
      const older = store.messagesBefore('r1', 151, 100);
      expect(older[0].sequenceNumber).toBe(51);
      expect(older.at(-1)!.sequenceNumber).toBe(150);
      expect(store.messagesBefore('r1', 51, 100).map((m) => m.sequenceNumber)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(store.messagesAfter('r1', 240, 5).map((m) => m.sequenceNumber)).toEqual([241, 242, 243, 244, 245]);
      expect(store.messagesAfter('r1', 250, 5)).toEqual([]);
    });
  });

  describe('afterCommit', () => {
    it('runs at once outside a transaction, after the commit inside one, and not at all after a rollback', () => {
      const ran: string[] = [];
      store.afterCommit(() => ran.push('now'));
      expect(ran).toEqual(['now']);
      store.transaction(() => {
        store.afterCommit(() => ran.push('committed'));
        expect(ran).toEqual(['now']);
      });
      expect(ran).toEqual(['now', 'committed']);
      expect(() =>
        store.transaction(() => {
          store.afterCommit(() => ran.push('rolled back'));
          throw new Error('undo');
        }),
      ).toThrow('undo');
      expect(ran).toEqual(['now', 'committed']);
    });

    it('drops only the hooks of a nested part that was undone', () => {
      const ran: string[] = [];
      store.transaction(() => {
        store.afterCommit(() => ran.push('kept'));
        expect(() =>
          store.transaction(() => {
            store.afterCommit(() => ran.push('undone'));
            throw new Error('inner');
          }),
        ).toThrow('inner');
        store.afterCommit(() => ran.push('after'));
      });
      expect(ran).toEqual(['kept', 'after']);
    });
  });

  describe('replica apply', () => {
    beforeEach(() => store.insertRoom(room({ roomId: 'rep', roomName: 'replica', hostNode: 'node2' })));

    it('applies the next message, reports duplicates and gaps without storing them', () => {
      expect(store.applyReplicaMessage(msg(1, { roomId: 'rep' }))).toBe('applied');
      expect(store.applyReplicaMessage(msg(2, { roomId: 'rep' }))).toBe('applied');
      expect(store.applyReplicaMessage(msg(2, { roomId: 'rep', content: 'changed' }))).toBe('duplicate');
      expect(store.applyReplicaMessage(msg(1, { roomId: 'rep' }))).toBe('duplicate');
      expect(store.applyReplicaMessage(msg(4, { roomId: 'rep' }))).toBe('gap');
      expect(store.getRoom('rep')!.lastSequence).toBe(2);
      expect(store.messagesAfter('rep', 0, 10).map((m) => [m.sequenceNumber, m.content])).toEqual([
        [1, 'hello 1'],
        [2, 'hello 2'],
      ]);
      expect(store.applyReplicaMessage(msg(3, { roomId: 'rep' }))).toBe('applied');
      expect(store.applyReplicaMessage(msg(4, { roomId: 'rep' }))).toBe('applied');
      expect(store.getRoom('rep')!.lastSequence).toBe(4);
    });

    it('treats a message of an unknown room as a duplicate (nothing stored)', () => {
      expect(store.applyReplicaMessage(msg(1, { roomId: 'unknown' }))).toBe('duplicate');
      expect(store.messagesAfter('unknown', 0, 10)).toEqual([]);
    });

    it('keeps messages and sequence when the room metadata is refreshed', () => {
      store.applyReplicaMessage(msg(1, { roomId: 'rep' }));
      const { lastSequence: _l, promisedEpoch: _p, epochStart: _s, logEpoch: _e, ...meta } = room({ roomId: 'rep', roomName: 'renamed', hostNode: 'node2', state: 'DELETION_PENDING', deletionTxn: 't1' });
      store.upsertRoomMeta(meta);
      const r = store.getRoom('rep')!;
      expect(r).toMatchObject({ roomName: 'renamed', lastSequence: 1, state: 'DELETION_PENDING', deletionTxn: 't1' });
      expect(store.messagesAfter('rep', 0, 10)).toHaveLength(1);
    });
  });

  describe('deletion tombstones and 2PC state', () => {
    it('stores the deletion state of a room', () => {
      store.setRoomState('r1', 'COMMITTING', 'txn-1');
      expect(store.getRoom('r1')).toMatchObject({ state: 'COMMITTING', deletionTxn: 'txn-1' });
      store.setRoomState('r1', 'ACTIVE', null);
      expect(store.getRoom('r1')).toMatchObject({ state: 'ACTIVE', deletionTxn: null });
    });

    it('removes room, members and messages and leaves a tombstone', () => {
      append(store, 5);
      store.addMember('r1', 'alice', 'node1', 't');
      store.deleteRoom({ roomId: 'r1', roomName: 'general', hostNode: 'node1', deletedAt: '2026-01-02T00:00:00.000Z', transactionId: 'txn-9' });
      expect(store.getRoom('r1')).toBeNull();
      expect(store.messagesAfter('r1', 0, 10)).toEqual([]);
      expect(store.listMembers('r1')).toEqual([]);
      expect(store.getTombstone('r1')).toEqual({ roomId: 'r1', roomName: 'general', hostNode: 'node1', deletedAt: '2026-01-02T00:00:00.000Z', transactionId: 'txn-9' });
      expect(store.tombstonesHostedAfter('node1', '', 10).map((t) => t.roomId)).toEqual(['r1']);
      expect(store.tombstonesHostedAfter('node1', 'r1', 10)).toEqual([]);
      expect(store.tombstonesHostedAfter('node2', '', 10)).toEqual([]);
      // the name is free again
      expect(store.findRoomByName('general')).toBeNull();
    });
  });

  describe('members', () => {
    it('adds, moves, lists and removes members', () => {
      expect(store.addMember('r1', 'alice', 'node1', 't1')).toBe(true);
      expect(store.addMember('r1', 'bob', 'node2', 't2')).toBe(true);
      expect(store.addMember('r1', 'alice', 'node3', 't3')).toBe(false);
      expect(store.getMember('r1', 'alice')).toMatchObject({ nodeId: 'node3', joinedAt: 't1' });
      expect(store.memberCount('r1')).toBe(2);
      expect(store.membersOnNode('node2', 'node1').map((m) => m.username)).toEqual(['bob']);
      expect(store.membersOnNode('node2', 'node9')).toEqual([]);
      expect(store.removeMember('r1', 'bob')).toBe(true);
      expect(store.removeMember('r1', 'bob')).toBe(false);
      store.replaceMembers('r1', [{ roomId: 'r1', username: 'carol', nodeId: 'node2', joinedAt: 't4', bootId: null }]);
      expect(store.listMembers('r1').map((m) => m.username)).toEqual(['carol']);
    });

    it("keeps the member node's boot id of the latest join", () => {
      store.addMember('r1', 'alice', 'node2', 't1', 'boot-a');
      expect(store.getMember('r1', 'alice')?.bootId).toBe('boot-a');
      store.addMember('r1', 'alice', 'node2', 't2', 'boot-b');
      expect(store.getMember('r1', 'alice')?.bootId).toBe('boot-b');
      store.addMember('r1', 'alice', 'node3', 't3');
      expect(store.getMember('r1', 'alice')).toMatchObject({ nodeId: 'node3', bootId: null });
    });
  });
});

describe('ChatStore (file under DATA_DIR)', () => {
  let root: string;
  const open: ChatStore[] = [];
  const openStore = (dir: string) => {
    const s = ChatStore.open(dir);
    open.push(s);
    return s;
  };

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-store-spec-'));
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('creates the directory and chat.db, in WAL mode, with user_version = number of migrations', () => {
    const dir = path.join(root, 'a', 'b', 'data');
    const store = openStore(dir);
    expect(store.file).toBe(path.join(dir, 'chat.db'));
    expect(fs.existsSync(path.join(dir, 'chat.db'))).toBe(true);
    store.close();
    const db = new DatabaseSync(path.join(dir, 'chat.db'));
    try {
      expect(Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version)).toBe(MIGRATIONS.length);
      expect((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode).toBe('wal');
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
      expect(tables).toEqual(expect.arrayContaining(['members', 'messages', 'rooms', 'tombstones']));
    } finally {
      db.close();
    }
  });

  it('keeps rooms, members, messages, sequence, tombstones and 2PC state across a reopen', () => {
    const dir = path.join(root, 'data');
    let store = openStore(dir);
    store.insertRoom(room());
    store.insertRoom(room({ roomId: 'r2', roomName: 'pending' }));
    store.insertRoom(room({ roomId: 'r3', roomName: 'gone' }));
    store.addMember('r1', 'alice', 'node1', 't');
    append(store, 120);
    store.setRoomState('r2', 'COMMITTING', 'txn-2');
    store.deleteRoom({ roomId: 'r3', roomName: 'gone', hostNode: 'node1', deletedAt: 'd', transactionId: 'txn-3' });
    store.close();

    store = openStore(dir);
    expect(store.getRoom('r1')!.lastSequence).toBe(120);
    expect(store.messagesAfter('r1', 0, 1000)).toHaveLength(120);
    expect(store.listMembers('r1').map((m) => m.username)).toEqual(['alice']);
    expect(store.getRoom('r2')).toMatchObject({ state: 'COMMITTING', deletionTxn: 'txn-2' });
    expect(store.getTombstone('r3')).toMatchObject({ transactionId: 'txn-3' });
    // the sequence continues: no number reused or skipped
    expect(append(store, 1)[0].sequenceNumber).toBe(121);
  });

  it('keeps committed messages when the process dies without closing (WAL not checkpointed)', () => {
    const dir = path.join(root, 'data');
    // (the real kill -9 case is covered end to end in test/durability; here: the files a crash leaves behind)
    const store = openStore(dir);
    store.insertRoom(room());
    append(store, 10);
    expect(fs.existsSync(path.join(dir, 'chat.db-wal'))).toBe(true);
    // copy the files while the store is still open (as a crash would leave them)
    const copy = path.join(root, 'copy');
    fs.mkdirSync(copy);
    for (const f of ['chat.db', 'chat.db-wal']) fs.copyFileSync(path.join(dir, f), path.join(copy, f));
    const recovered = openStore(copy);
    expect(recovered.getRoom('r1')!.lastSequence).toBe(10);
    expect(recovered.messagesAfter('r1', 0, 100).map((m) => m.sequenceNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('upgrades an older (version 0) database by running the migrations', () => {
    const dir = path.join(root, 'data');
    fs.mkdirSync(dir);
    const db = new DatabaseSync(path.join(dir, 'chat.db'));
    db.exec('CREATE TABLE unrelated (x)');
    db.close();
    const store = openStore(dir);
    store.insertRoom(room());
    expect(append(store, 1)[0].sequenceNumber).toBe(1);
  });

  it('refuses a database written by a newer schema, naming DATA_DIR and the file', () => {
    const dir = path.join(root, 'data');
    fs.mkdirSync(dir);
    const db = new DatabaseSync(path.join(dir, 'chat.db'));
    db.exec(`PRAGMA user_version = ${MIGRATIONS.length + 5}`);
    db.close();
    const err = thrown(() => openStore(dir));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('DATA_DIR');
    expect(err.message).toContain(path.join(dir, 'chat.db'));
    expect(err.message).toMatch(/newer/);
  });

  it('refuses a second open of the same file with a "locked" ConfigError', () => {
    const dir = path.join(root, 'data');
    openStore(dir);
    const err = thrown(() => openStore(dir));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe('DATA_DIR');
    expect(err.message).toMatch(/locked/);
    expect(err.message).toContain(path.join(dir, 'chat.db'));
  });

  it('opens again once the first store is closed', () => {
    const dir = path.join(root, 'data');
    openStore(dir).close();
    expect(() => openStore(dir)).not.toThrow();
  });

  it('refuses a corrupt chat.db with a "corrupt" ConfigError naming the file', () => {
    const dir = path.join(root, 'data');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'chat.db'), Buffer.from('this is not a database, just garbage bytes '.repeat(200)));
    const err = thrown(() => openStore(dir));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe('DATA_DIR');
    expect(err.message).toMatch(/corrupt/);
    expect(err.message).toContain(path.join(dir, 'chat.db'));
  });

  it('refuses a chat.db whose pages are damaged after a valid header with a "corrupt" ConfigError', () => {
    const dir = path.join(root, 'data');
    const store = openStore(dir);
    store.insertRoom(room());
    append(store, 2000, { content: 'x'.repeat(200) });
    store.close();
    const file = path.join(dir, 'chat.db');
    const buf = fs.readFileSync(file);
    for (let i = Math.floor(buf.length / 2); i < buf.length; i++) buf[i] = (i * 7) & 0xff;
    fs.writeFileSync(file, buf);
    // today the open succeeds (only `rooms` is read at boot) and the first history read or send fails
    // with "database disk image is malformed"; the node must refuse to start instead
    const err = thrown(() => openStore(dir).messagesAfter('r1', 0, 5000));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/corrupt/);
    expect(err.message).toContain(file);
  });

  it('refuses a DATA_DIR that cannot be created (a path under a regular file), naming it', () => {
    const file = path.join(root, 'plain-file');
    fs.writeFileSync(file, 'x');
    const dir = path.join(file, 'data');
    const err = thrown(() => openStore(dir));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('DATA_DIR');
    expect(err.message).toContain(dir);
  });

  it('refuses a DATA_DIR that is a regular file, naming it', () => {
    const file = path.join(root, 'plain-file');
    fs.writeFileSync(file, 'x');
    const err = thrown(() => openStore(file));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('DATA_DIR');
    expect(err.message).toContain(file);
  });

  it('refuses a chat.db that is a directory, naming the file', () => {
    const dir = path.join(root, 'data');
    fs.mkdirSync(path.join(dir, 'chat.db'), { recursive: true });
    const err = thrown(() => openStore(dir));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('DATA_DIR');
    expect(err.message).toContain(path.join(dir, 'chat.db'));
  });
});
