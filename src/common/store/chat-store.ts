import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../config/config-error';
import { DatabaseFile } from './database-file';
import { MemberRepository } from './member.repository';
import { MessageSearchRepository } from './message-search.repository';
import { MessageRepository } from './message.repository';
import { ReadMarkerRepository } from './read-marker.repository';
import { RoomPrivacyRepository } from './room-privacy.repository';
import { RoomModerationRepository } from './room-moderation.repository';
import { RoomLogRepository } from './room-log.repository';
import { RoomRepository } from './room.repository';
import { MIGRATIONS } from './schema';
import { SearchIndexing } from './search-indexing';
import type { Row } from './store-rows';
import { StoreTransactions } from './store-transactions';
import { StoreWriteHealth, type WriteHealth } from './store-write-health';
import { TombstoneRepository } from './tombstone.repository';

/**
 * The node's durable state in one SQLite file (see DatabaseFile): the repositories of its tables,
 * all over one connection and one StoreTransactions, so a write that spans tables is still one
 * transaction. Calls are synchronous: on Node's single thread each call is atomic, which makes
 * the host the one sequencer of its rooms without locks. Services inject the repositories they
 * use (StoreModule); the whole store is for what concerns the file: opening, health, closing.
 */
export class ChatStore {
  readonly transactions: StoreTransactions;
  readonly rooms: RoomRepository;
  readonly messages: MessageRepository;
  readonly members: MemberRepository;
  readonly tombstones: TombstoneRepository;
  /** Per room and user, how far they have read (read_marker entries). */
  readonly readMarkers: ReadMarkerRepository;
  readonly privacy: RoomPrivacyRepository;
  readonly moderation: RoomModerationRepository;
  /** Full-text search over the stored messages. */
  readonly search: MessageSearchRepository;
  /** Indexes stored messages for search a moment after their write. */
  private readonly searchIndexing: SearchIndexing;
  /** Rooms' replicated logs and the disk's identity (written inside the same transactions). */
  readonly logs: RoomLogRepository;
  /** The database was created by this process (an empty DATA_DIR). */
  private createdNow = false;

  private constructor(
    private readonly database: DatabaseFile,
    private readonly health: StoreWriteHealth = new StoreWriteHealth(),
  ) {
    const db = database.db;
    this.transactions = new StoreTransactions(db, health, database.path === ':memory:' ? null : `${database.path}-wal`);
    this.migrate();
    // statements are prepared by each repository, so only once the tables exist
    this.rooms = new RoomRepository(db, this.transactions);
    this.search = new MessageSearchRepository(db, this.transactions);
    this.searchIndexing = new SearchIndexing(this.search);
    this.messages = new MessageRepository(db, this.transactions, this.rooms, (roomId) => this.searchIndexing.messageStored(roomId));
    this.members = new MemberRepository(db, this.transactions);
    this.logs = new RoomLogRepository(db);
    this.readMarkers = new ReadMarkerRepository(db, this.transactions);
    this.privacy = new RoomPrivacyRepository(db, this.transactions);
    this.moderation = new RoomModerationRepository(db, this.transactions);
    this.tombstones = new TombstoneRepository(db, this.transactions, { rooms: this.rooms, members: this.members, messages: this.messages, logs: this.logs, readMarkers: this.readMarkers });
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

  /** In-memory store for unit specs: every repository over one database, as in a node. */
  static inMemory(): ChatStore {
    return new ChatStore(DatabaseFile.inMemory());
  }

  close(): void {
    this.searchIndexing.stop();
    this.health.stop();
    this.database.close();
    this.transactions.close();
  }

  /** Whether the store can write right now (disk full, I/O errors, failing WAL checkpoints). */
  writeHealth(): WriteHealth {
    return this.health.snapshot();
  }

  private migrate(): void {
    const db = this.database.db;
    const version = Number((db.prepare('PRAGMA user_version').get() as Row).user_version);
    this.createdNow = version === 0 && !db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").get();
    if (version > MIGRATIONS.length) {
      throw new Error(`schema version ${version} is newer than this build knows (${MIGRATIONS.length})`);
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.transactions.run(() => {
        db.exec(MIGRATIONS[v]);
        db.exec(`PRAGMA user_version = ${v + 1}`);
      });
    }
    // A damaged page behind a valid header would otherwise surface later as failed sends.
    const check = db.prepare('PRAGMA quick_check').all() as Row[];
    const problems = check.map((r) => String(Object.values(r)[0])).filter((v) => v !== 'ok');
    if (problems.length > 0) throw new Error(`database disk image is malformed: ${problems.slice(0, 3).join('; ')}`);
  }
}
