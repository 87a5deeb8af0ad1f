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

/** Applies `n` committed messages after the room's last one, as LogApplier does. */
const append = (store: ChatStore, n: number, over: Partial<MessageRecord> = {}) => {
  const out: MessageRecord[] = [];
  const roomId = over.roomId ?? 'r1';
  for (let i = 0; i < n; i++) {
    const next = (store.getRoom(roomId)?.lastSequence ?? 0) + 1;
    const m = msg(next, { messageId: `a${i}-${Math.random()}`, content: `c${i}`, ...over });
    store.insertMessage(m);
    out.push(m);
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

  describe('committed messages', () => {
    it('stores every message applied (not only the last 100) and counts the last as the room\'s', () => {
      const stored = append(store, 250);
      expect(store.getRoom('r1')!.lastSequence).toBe(250);
      const all = store.messagesAfter('r1', 0, 1000);
      expect(all).toHaveLength(250);
      expect(all.map((m) => m.content)).toEqual(stored.map((m) => m.content));
      expect(store.firstSequence('r1')).toBe(1);
    });

    it('keeps rooms apart', () => {
      store.insertRoom(room({ roomId: 'r2', roomName: 'other' }));
      append(store, 3);
      append(store, 1, { roomId: 'r2' });
      expect(store.getRoom('r1')!.lastSequence).toBe(3);
      expect(store.getRoom('r2')!.lastSequence).toBe(1);
      expect(store.messagesAfter('r2', 0, 10)).toHaveLength(1);
    });

    it('leaves the room\'s last sequence where it was when an insert is refused (a client_message_id already used)', () => {
      append(store, 1, { clientMessageId: 'c-1' });
      store.getRoom('r1'); // cached
      expect(() => store.insertMessage(msg(2, { clientMessageId: 'c-1' }))).toThrow(/UNIQUE/);
      expect(store.getRoom('r1')!.lastSequence).toBe(1);
      expect(store.messagesAfter('r1', 0, 10)).toHaveLength(1);
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

  describe('room metadata and routing', () => {
    it('keeps messages and sequence when the room metadata is refreshed', () => {
      append(store, 1);
      const { lastSequence: _l, ...meta } = room({ roomName: 'renamed', state: 'DELETION_PENDING', deletionTxn: 't1' });
      store.upsertRoomMeta(meta);
      expect(store.getRoom('r1')).toMatchObject({ roomName: 'renamed', lastSequence: 1, state: 'DELETION_PENDING', deletionTxn: 't1' });
      expect(store.messagesAfter('r1', 0, 10)).toHaveLength(1);
    });

    it('setHost changes who hosts the room at which epoch, and nothing else', () => {
      append(store, 3);
      store.getRoom('r1'); // cached
      store.setHost('r1', 'node3', 4);
      expect(store.getRoom('r1')).toMatchObject({ roomName: 'general', lastSequence: 3, hostNode: 'node3', hostEpoch: 4 });
      expect(store.listRooms('node3').map((r) => r.roomId)).toEqual(['r1']);
      expect(store.countRoomsHostedBy('node1')).toBe(0);
    });
  });

  describe('deletion tombstones and 2PC state', () => {
    it('stores the deletion state of a room', () => {
      store.setRoomState('r1', 'COMMITTING', 'txn-1');
      expect(store.getRoom('r1')).toMatchObject({ state: 'COMMITTING', deletionTxn: 'txn-1' });
      store.setRoomState('r1', 'ACTIVE', null);
      expect(store.getRoom('r1')).toMatchObject({ state: 'ACTIVE', deletionTxn: null });
    });

    it('removes room, members, messages and log, and leaves a tombstone', () => {
      append(store, 5);
      store.addMember('r1', 'alice', 'node1', 't');
      store.logs.saveState({ roomId: 'r1', epoch: 2, vote: 'node1', commit: 1, applied: 1, learner: false, hostNode: 'node1', hostEpoch: 2 });
      store.logs.replaceFrom('r1', 1, [{ index: 1, epoch: 2, kind: 'room', sequence: 0, clientKey: null, data: {} }]);
      store.deleteRoom({ roomId: 'r1', roomName: 'general', hostNode: 'node1', deletedAt: '2026-01-02T00:00:00.000Z', transactionId: 'txn-9' });
      expect(store.getRoom('r1')).toBeNull();
      expect(store.messagesAfter('r1', 0, 10)).toEqual([]);
      expect(store.listMembers('r1')).toEqual([]);
      expect(store.getTombstone('r1')).toEqual({ roomId: 'r1', roomName: 'general', hostNode: 'node1', deletedAt: '2026-01-02T00:00:00.000Z', transactionId: 'txn-9' });
      expect(store.logs.state('r1')).toBeNull();
      expect(store.logs.lastIndex('r1')).toBe(0);
      expect(store.tombstonesAfter('', 10).map((t) => t.roomId)).toEqual(['r1']);
      expect(store.tombstonesAfter('r1', 10)).toEqual([]);
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
    expect(append(store, 1)[0].sequenceNumber).toBe(121);
  });

  it('knows whether this run created the database (a node back with an empty DATA_DIR must say so to its peers)', () => {
    const dir = path.join(root, 'data');
    const first = openStore(dir);
    expect(first.createdInThisRun).toBe(true);
    const disk = first.logs.diskIdentity(first.createdInThisRun, 'now');
    first.close();
    const again = openStore(dir);
    expect(again.createdInThisRun).toBe(false);
    expect(again.logs.diskIdentity(again.createdInThisRun, 'later')).toEqual({ ...disk, fresh: false });
  });

  it('commits a transaction that is not durable without an fsync, and fsyncs every later one again', () => {
    const store = openStore(path.join(root, 'data'));
    const synchronous = () => Number(((store as unknown as { db: DatabaseSync }).db.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous);
    let inside = -1;
    store.transaction(() => {
      store.insertRoom(room());
      inside = synchronous();
    }, false);
    expect(inside).toBe(1); // NORMAL: WAL commits without an fsync
    expect(synchronous()).toBe(2); // FULL again
    expect(store.getRoom('r1')).not.toBeNull();
  });

  it('migrates a version 4 database: every room gets a committed log made of what it holds', () => {
    const dir = path.join(root, 'data');
    fs.mkdirSync(dir);
    const db = new DatabaseSync(path.join(dir, 'chat.db'));
    for (let v = 0; v < 4; v++) db.exec(MIGRATIONS[v]);
    db.exec('PRAGMA user_version = 4');
    db.exec(`INSERT INTO rooms (room_id, room_name, description, creator_id, host_node, host_epoch, state, created_at, last_sequence, promised_epoch)
      VALUES ('r1', 'general', NULL, 'alice', 'node2', 2, 'ACTIVE', '2026-01-01T00:00:00.000Z', 2, 3)`);
    db.exec(`INSERT INTO messages VALUES ('r1', 1, 'm1', 'alice', 'one', 't1', NULL), ('r1', 2, 'm2', 'bob', 'two', 't2', 'c-2')`);
    db.exec(`INSERT INTO members (room_id, username, node_id, joined_at) VALUES ('r1', 'bob', 'node3', 'j'), ('r1', 'alice', 'node1', 'j')`);
    db.close();

    const store = openStore(dir);
    expect(store.createdInThisRun).toBe(false);
    expect(store.logs.state('r1')).toEqual({ roomId: 'r1', epoch: 3, vote: null, commit: 5, applied: 5, learner: false, hostNode: 'node2', hostEpoch: 2 });
    expect(store.logs.entries('r1', 1, 10, 1 << 20).map((e) => [e.index, e.kind, e.sequence, e.clientKey])).toEqual([
      [1, 'room', 0, null],
      [2, 'message', 1, null],
      [3, 'message', 2, 'bob\u0000c-2'],
      [4, 'member_joined', 2, null],
      [5, 'member_joined', 2, null],
    ]);
    expect(store.logs.entry('r1', 3)?.data).toEqual({ message_id: 'm2', username: 'bob', content: 'two', timestamp: 't2', client_message_id: 'c-2' });
    expect(store.logs.entry('r1', 1)?.data).toEqual({ room_name: 'general', description: null, creator_id: 'alice', created_at: '2026-01-01T00:00:00.000Z' });
    expect(store.getRoom('r1')).toMatchObject({ hostNode: 'node2', hostEpoch: 2, lastSequence: 2 });
    expect(store.messagesAfter('r1', 0, 10).map((m) => m.content)).toEqual(['one', 'two']);
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
