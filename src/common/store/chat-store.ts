import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { ConfigError } from '../config/config-error';
import type { MemberRecord, MessageRecord, RoomMeta, RoomRecord, RoomState, TombstoneRecord } from './chat-records';
import { RoomLogRepository } from './room-log.repository';
import { MIGRATIONS } from './schema';
import { prepareStatements } from './store-statements';
import { DatabaseFile } from './database-file';
import { StoreTransactions } from './store-transactions';
import { StoreWriteHealth, type WriteHealth } from './store-write-health';
import { memberKey, toMember, toMessage, toRoom, toTombstone, type Row } from './store-rows';

export const CHAT_STORE = Symbol('CHAT_STORE');

/**
 * The node's durable state: rooms, members, messages and tombstones in one SQLite file (see
 * DatabaseFile). Calls are synchronous: on Node's single thread each call is atomic, which makes
 * the host the one sequencer of its rooms without locks.
 */
export class ChatStore {
  private readonly db: DatabaseSync;
  private readonly sql: Record<string, StatementSync>;
  private readonly tx: StoreTransactions;
  /** Rooms are read on every send and every replicated event: a write-through cache. */
  private readonly rooms = new Map<string, RoomRecord>();
  /** Membership is checked on every send: cached lookups, dropped on any membership change. */
  private readonly memberLookups = new Map<string, MemberRecord | null>();
  /** Rooms' replicated logs (written inside this store's transactions). */
  readonly logs: RoomLogRepository;
  /** The database was created by this process (an empty DATA_DIR). */
  private createdNow = false;

  private constructor(
    private readonly database: DatabaseFile,
    private readonly health: StoreWriteHealth = new StoreWriteHealth(),
  ) {
    this.db = database.db;
    this.tx = new StoreTransactions(this.db, health, () => {
      this.rooms.clear();
      this.memberLookups.clear();
    });
    this.migrate();
    this.sql = prepareStatements(this.db);
    this.logs = new RoomLogRepository(this.db);
  }

  /** True when this run created the database: nothing this node knew before survived (see RoomLogRepository.diskIdentity). */
  get createdInThisRun(): boolean {
    return this.createdNow;
  }

  get file(): string {
    return this.database.path;
  }

  /** Opens (creating if needed) `<dataDir>/chat.db`; every failure names the path. */
  static open(dataDir: string): ChatStore {
    const file = path.join(dataDir, 'chat.db');
    try {
      fs.mkdirSync(dataDir, { recursive: true });
      fs.accessSync(dataDir, fs.constants.W_OK);
    } catch (e) {
      throw new ConfigError('DATA_DIR', `"${dataDir}" cannot be created or written: ${(e as Error).message}`);
    }
    let database: DatabaseFile | undefined;
    const health = new StoreWriteHealth();
    try {
      database = DatabaseFile.open(file, (error) => (error === null ? health.checkpointSucceeded() : health.checkpointFailed(error)));
      return new ChatStore(database, health);
    } catch (e) {
      database?.close();
      const msg = (e as Error).message;
      if (/locked|busy/i.test(msg)) {
        throw new ConfigError('DATA_DIR', `database ${file} is locked by another process (is another node using this DATA_DIR?)`);
      }
      if (/not a database|malformed|corrupt/i.test(msg)) {
        throw new ConfigError('DATA_DIR', `database ${file} is corrupt (${msg}); restore it from a backup or move it away`);
      }
      throw new ConfigError('DATA_DIR', `database ${file} cannot be opened: ${msg}`);
    }
  }

  /** In-memory store for unit specs. */
  static inMemory(): ChatStore {
    return new ChatStore(DatabaseFile.inMemory());
  }

  close(): void {
    this.health.stop();
    this.database.close();
  }

  /** Writes are failing right now (disk full, I/O errors): nothing new should be attempted until they work again. */
  get writesFailing(): boolean {
    return this.health.failing;
  }

  /** Whether the store can write right now (disk full, I/O errors, failing WAL checkpoints). */
  writeHealth(): WriteHealth {
    return this.health.snapshot();
  }

  private migrate(): void {
    const version = Number((this.db.prepare('PRAGMA user_version').get() as Row).user_version);
    this.createdNow = version === 0 && !this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").get();
    if (version > MIGRATIONS.length) {
      throw new Error(`schema version ${version} is newer than this build knows (${MIGRATIONS.length})`);
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.transaction(() => {
        this.db.exec(MIGRATIONS[v]);
        this.db.exec(`PRAGMA user_version = ${v + 1}`);
      });
    }
    // A damaged page behind a valid header would otherwise surface later as failed sends.
    const check = this.db.prepare('PRAGMA quick_check').all() as Row[];
    const problems = check.map((r) => String(Object.values(r)[0])).filter((v) => v !== 'ok');
    if (problems.length > 0) throw new Error(`database disk image is malformed: ${problems.slice(0, 3).join('; ')}`);
  }

  /**
   * Runs `work` atomically; nested calls become savepoints, so an inner failure undoes only its
   * part. `durable` false: the commit is not fsynced (what it writes can be rebuilt from the log;
   * a power cut may lose it, a process crash cannot).
   */
  transaction<T>(work: () => T, durable = true): T {
    return this.tx.run(work, durable);
  }

  /** Runs `hook` once the current transaction has committed (now, outside one); dropped if it rolls back. */
  afterCommit(hook: () => void): void {
    this.tx.afterCommit(hook);
  }

  // --- rooms ---------------------------------------------------------------------------------

  getRoom(roomId: string): RoomRecord | null {
    let room = this.rooms.get(roomId);
    if (!room) {
      const row = this.sql.getRoom.get(roomId) as Row | undefined;
      if (!row) return null;
      room = toRoom(row);
      this.rooms.set(roomId, room);
    }
    return { ...room };
  }
  findRoomByName(roomName: string): RoomRecord | null {
    const row = this.sql.roomByName.get(roomName) as Row | undefined;
    return row ? toRoom(row) : null;
  }
  countRoomsHostedBy(hostNode: string): number {
    return Number((this.sql.countByHost.get(hostNode) as Row).n);
  }
  listRooms(hostNode?: string): RoomRecord[] {
    const rows = (hostNode === undefined ? this.sql.allRooms.all() : this.sql.roomsByHost.all(hostNode)) as Row[];
    return rows.map(toRoom);
  }
  /** Rooms with ids after `afterRoomId`, in id order (for paged catch-up replies). */
  roomsAfter(afterRoomId: string, limit: number): RoomRecord[] {
    return (this.sql.roomsPage.all(afterRoomId, limit) as Row[]).map(toRoom);
  }
  insertRoom(room: RoomRecord): void {
    this.transaction(() => this.sql.insertRoom.run({ ...room }));
    this.rooms.delete(room.roomId);
  }
  /** Creates or refreshes a replica's metadata; its messages, sequence and epochs are left alone. */
  upsertRoomMeta(room: RoomMeta): void {
    this.transaction(() => this.sql.upsertRoomMeta.run({ ...room }));
    this.rooms.delete(room.roomId);
  }
  /** The room's host as this node knows it now (routing). */
  setHost(roomId: string, hostNode: string, hostEpoch: number): void {
    this.transaction(() => this.sql.setHost.run(hostNode, hostEpoch, roomId));
    this.rooms.delete(roomId);
  }
  setRoomState(roomId: string, state: RoomState, deletionTxn: string | null): void {
    this.transaction(() => this.sql.setState.run(state, deletionTxn, roomId));
    this.rooms.delete(roomId);
  }

  /** Removes a room with its members, messages and log, and leaves a tombstone for peers that missed it. */
  deleteRoom(tombstone: TombstoneRecord): void {
    this.transaction(() => {
      this.sql.clearMembers.run(tombstone.roomId);
      this.memberLookups.clear();
      this.sql.deleteMessages.run(tombstone.roomId);
      this.sql.deleteRoom.run(tombstone.roomId);
      this.logs.drop(tombstone.roomId);
      this.sql.insertTombstone.run({ ...tombstone });
      this.rooms.delete(tombstone.roomId);
    });
  }
  getTombstone(roomId: string): TombstoneRecord | null {
    const row = this.sql.tombstone.get(roomId) as Row | undefined;
    return row ? toTombstone(row) : null;
  }
  tombstonesAfter(afterRoomId: string, limit: number): TombstoneRecord[] {
    return (this.sql.tombstonesPage.all(afterRoomId, limit) as Row[]).map(toTombstone);
  }


  // --- messages ------------------------------------------------------------------------------

  /** A committed message, applied in sequence order: stored and counted as the room's last. */
  insertMessage(message: MessageRecord): void {
    this.transaction(() => {
      this.sql.insertMessage.run({ ...message });
      this.sql.setLastSequence.run(message.sequenceNumber, message.roomId);
      const cached = this.rooms.get(message.roomId);
      if (cached) cached.lastSequence = message.sequenceNumber;
    });
  }

  findByClientMessageId(roomId: string, username: string, clientMessageId: string): MessageRecord | null {
    const row = this.sql.byClientId.get(roomId, username, clientMessageId) as Row | undefined;
    return row ? toMessage(row) : null;
  }
  messagesAfter(roomId: string, afterSequence: number, limit: number): MessageRecord[] {
    return (this.sql.after.all(roomId, afterSequence, limit) as Row[]).map(toMessage);
  }
  /** The `limit` messages just below `beforeSequence`, ascending. */
  messagesBefore(roomId: string, beforeSequence: number, limit: number): MessageRecord[] {
    return (this.sql.before.all(roomId, beforeSequence, limit) as Row[]).map(toMessage).reverse();
  }
  firstSequence(roomId: string): number {
    const row = this.sql.firstSeq.get(roomId) as Row;
    return row.s === null ? 0 : Number(row.s);
  }

  // --- members -------------------------------------------------------------------------------

  /** Adds (or moves to `nodeId`) a member; true when the username was not a member before. */
  addMember(roomId: string, username: string, nodeId: string, joinedAt: string, bootId: string | null = null): boolean {
    return this.transaction(() => {
      const existed = this.sql.getMember.get(roomId, username) !== undefined;
      this.sql.addMember.run(roomId, username, nodeId, joinedAt, bootId);
      this.memberLookups.delete(memberKey(roomId, username));
      return !existed;
    });
  }
  removeMember(roomId: string, username: string): boolean {
    this.memberLookups.delete(memberKey(roomId, username));
    return this.transaction(() => Number(this.sql.removeMember.run(roomId, username).changes) > 0);
  }
  getMember(roomId: string, username: string): MemberRecord | null {
    const key = memberKey(roomId, username);
    let member = this.memberLookups.get(key);
    if (member === undefined) {
      const row = this.sql.getMember.get(roomId, username) as Row | undefined;
      member = row ? toMember(row) : null;
      this.memberLookups.set(key, member);
    }
    return member ? { ...member } : null;
  }
  listMembers(roomId: string): MemberRecord[] {
    return (this.sql.members.all(roomId) as Row[]).map(toMember);
  }
  memberCount(roomId: string): number {
    return Number((this.sql.memberCount.get(roomId) as Row).n);
  }
  /** Members connected through `nodeId` in rooms hosted by `hostNode`. */
  membersOnNode(nodeId: string, hostNode: string): MemberRecord[] {
    return (this.sql.membersOnNode.all(nodeId, hostNode) as Row[]).map(toMember);
  }
  /** The nodes `username` is a member through, in any room this node knows (hosted or replica). */
  memberNodesOf(username: string): string[] {
    return (this.sql.nodesOfUsername.all(username) as Row[]).map((r) => String(r.node_id));
  }
  replaceMembers(roomId: string, members: readonly MemberRecord[]): void {
    this.transaction(() => {
      this.sql.clearMembers.run(roomId);
      this.memberLookups.clear();
      for (const m of members) this.sql.addMember.run(roomId, m.username, m.nodeId, m.joinedAt, m.bootId ?? null);
    });
  }
}
