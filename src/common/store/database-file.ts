import { DatabaseSync } from 'node:sqlite';
import { WalCheckpointer } from './wal-checkpointer';

/**
 * One SQLite database file as the node uses it: WAL with `synchronous=FULL` (a commit is on disk
 * before it is acknowledged: quorum acks count it), checkpoints in a worker thread, and a lock on a side file held for the life of the process, so a second node
 * on the same DATA_DIR fails at boot (the OS releases the lock if the process dies).
 */
export class DatabaseFile {
  private constructor(
    readonly path: string,
    readonly db: DatabaseSync,
    private readonly lock: DatabaseSync | null,
    private readonly checkpointer: WalCheckpointer | null,
  ) {}

  static open(path: string, onCheckpoint?: (error: string | null) => void): DatabaseFile {
    const lock = DatabaseFile.takeLock(`${path}.lock`);
    try {
      const db = new DatabaseSync(path, { timeout: 1000 });
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = OFF; PRAGMA wal_autocheckpoint = 0');
      return new DatabaseFile(path, db, lock, new WalCheckpointer(path, 500, onCheckpoint));
    } catch (e) {
      lock.close();
      throw e;
    }
  }

  /** For unit specs: no file, no lock, no checkpoints. */
  static inMemory(): DatabaseFile {
    return new DatabaseFile(':memory:', new DatabaseSync(':memory:'), null, null);
  }

  private static takeLock(lockFile: string): DatabaseSync {
    const lock = new DatabaseSync(lockFile, { timeout: 0 });
    try {
      lock.exec('PRAGMA locking_mode = EXCLUSIVE; BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS owner (pid INTEGER); COMMIT;');
      return lock;
    } catch (e) {
      lock.close();
      throw e;
    }
  }

  close(): void {
    if (this.db.isOpen && this.checkpointer) {
      // leave a complete database file behind (the worker may not get to its last checkpoint)
      try {
        this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      } catch {
        // a busy checkpoint is retried by SQLite at the next open
      }
    }
    void this.checkpointer?.stop();
    if (this.db.isOpen) this.db.close();
    if (this.lock?.isOpen) this.lock.close();
  }
}
