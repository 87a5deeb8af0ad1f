import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ConfigError } from '../config/config-error';
import { ChatStore } from './chat-store';
import { MIGRATIONS } from './schema';
import { appendMessages as append, roomRecord as room } from '../../testing/records';
import { storeConnection } from '../../testing/store-connection';

/** Captures the error `fn` throws. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

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
    store.rooms.insertRoom(room());
    store.rooms.insertRoom(room({ roomId: 'r2', roomName: 'pending' }));
    store.rooms.insertRoom(room({ roomId: 'r3', roomName: 'gone' }));
    store.members.addMember('r1', 'alice', 'node1', 't');
    append(store, 120);
    store.rooms.setRoomState('r2', 'COMMITTING', 'txn-2');
    store.tombstones.deleteRoom({ roomId: 'r3', roomName: 'gone', hostNode: 'node1', deletedAt: 'd', transactionId: 'txn-3' });
    store.close();

    store = openStore(dir);
    expect(store.rooms.getRoom('r1')!.lastSequence).toBe(120);
    expect(store.messages.messagesAfter('r1', 0, 1000)).toHaveLength(120);
    expect(store.members.listMembers('r1').map((m) => m.username)).toEqual(['alice']);
    expect(store.rooms.getRoom('r2')).toMatchObject({ state: 'COMMITTING', deletionTxn: 'txn-2' });
    expect(store.tombstones.getTombstone('r3')).toMatchObject({ transactionId: 'txn-3' });
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
    expect(again.logs.diskIdentity(again.createdInThisRun, 'later')).toEqual(disk); // still fresh: it has not decided yet (RoomLogRepository.setDecided)
  });

  it('commits a transaction that is not durable without an fsync, and fsyncs every later one again', () => {
    const store = openStore(path.join(root, 'data'));
    const synchronous = () => Number((storeConnection(store).prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous);
    let inside = -1;
    store.transactions.run(() => {
      store.rooms.insertRoom(room());
      inside = synchronous();
    }, false);
    expect(inside).toBe(1); // NORMAL: WAL commits without an fsync
    expect(synchronous()).toBe(2); // FULL again
    expect(store.rooms.getRoom('r1')).not.toBeNull();
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
    expect(store.rooms.getRoom('r1')).toMatchObject({ hostNode: 'node2', hostEpoch: 2, lastSequence: 2 });
    expect(store.messages.messagesAfter('r1', 0, 10).map((m) => m.content)).toEqual(['one', 'two']);
  });

  it('migrates a version 10 database: the moderation entries already applied become the room\'s notices (those not applied yet come from the applier)', () => {
    const dir = path.join(root, 'data');
    fs.mkdirSync(dir);
    const db = new DatabaseSync(path.join(dir, 'chat.db'));
    for (let v = 0; v < 10; v++) db.exec(MIGRATIONS[v]);
    db.exec('PRAGMA user_version = 10');
    db.exec(`INSERT INTO rooms (room_id, room_name, creator_id, host_node, created_at) VALUES ('r1', 'general', 'alice', 'node1', 't0')`);
    db.exec(`INSERT INTO room_logs (room_id, commit_index, applied_index) VALUES ('r1', 5, 4)`);
    const entry = db.prepare(`INSERT INTO log_entries (room_id, idx, epoch, kind, sequence, data) VALUES ('r1', ?, 1, ?, 0, ?)`);
    entry.run(1, 'room', '{}');
    entry.run(2, 'moderation', JSON.stringify({ action: 'kick', member: 'bob', by: 'alice', reason: 'rude', timestamp: 't2' }));
    entry.run(3, 'moderation', JSON.stringify({ action: 'mute', member: 'bob', by: 'alice', muted_until: 'u3', timestamp: 't3' }));
    entry.run(4, 'moderation', JSON.stringify({ action: 'from-a-newer-node', member: 'bob', by: 'alice', timestamp: 't4' }));
    entry.run(5, 'moderation', JSON.stringify({ action: 'ban', member: 'bob', by: 'alice', timestamp: 't5' }));
    db.close();

    expect(openStore(dir).moderation.notices('r1')).toEqual([
      { event: 'member_kicked', data: { room_id: 'r1', member: 'bob', by: 'alice', reason: 'rude', timestamp: 't2' } },
      { event: 'member_muted', data: { room_id: 'r1', member: 'bob', by: 'alice', muted_until: 'u3', timestamp: 't3' } },
    ]);
  });

  it('keeps committed messages when the process dies without closing (WAL not checkpointed)', () => {
    const dir = path.join(root, 'data');
    // (the real kill -9 case is covered end to end in test/durability; here: the files a crash leaves behind)
    const store = openStore(dir);
    store.rooms.insertRoom(room());
    append(store, 10);
    expect(fs.existsSync(path.join(dir, 'chat.db-wal'))).toBe(true);
    // copy the files while the store is still open (as a crash would leave them)
    const copy = path.join(root, 'copy');
    fs.mkdirSync(copy);
    for (const f of ['chat.db', 'chat.db-wal']) fs.copyFileSync(path.join(dir, f), path.join(copy, f));
    const recovered = openStore(copy);
    expect(recovered.rooms.getRoom('r1')!.lastSequence).toBe(10);
    expect(recovered.messages.messagesAfter('r1', 0, 100).map((m) => m.sequenceNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('upgrades an older (version 0) database by running the migrations', () => {
    const dir = path.join(root, 'data');
    fs.mkdirSync(dir);
    const db = new DatabaseSync(path.join(dir, 'chat.db'));
    db.exec('CREATE TABLE unrelated (x)');
    db.close();
    const store = openStore(dir);
    store.rooms.insertRoom(room());
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
    store.rooms.insertRoom(room());
    append(store, 2000, { content: 'x'.repeat(200) });
    store.close();
    const file = path.join(dir, 'chat.db');
    const buf = fs.readFileSync(file);
    for (let i = Math.floor(buf.length / 2); i < buf.length; i++) buf[i] = (i * 7) & 0xff;
    fs.writeFileSync(file, buf);
    // today the open succeeds (only `rooms` is read at boot) and the first history read or send fails
    // with "database disk image is malformed"; the node must refuse to start instead
    const err = thrown(() => openStore(dir).messages.messagesAfter('r1', 0, 5000));
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
