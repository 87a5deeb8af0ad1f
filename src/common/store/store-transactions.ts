import * as fs from 'node:fs';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { isStorageFailure, StoreWriteHealth } from './store-write-health';

/**
 * Transactions on the node's one connection, shared by every repository of the store (the one
 * place writes go through): nested calls become savepoints, announcements wait for the outermost
 * commit (afterCommit), and storage failures become STORE_UNAVAILABLE episodes in StoreWriteHealth.
 * A service that writes several tables in one transaction runs its work here.
 */
export class StoreTransactions {
  /** Prepared once: exec() of BEGIN/COMMIT strings showed up in profiles. */
  private readonly tx: Record<'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackToSavepoint' | 'lazySync' | 'fullSync', StatementSync>;
  /** Announcements of changes made in the open transaction (see afterCommit). */
  private hooks: (() => void)[] = [];
  /** Called after any rollback: the repositories' caches may hold what was just undone. */
  private readonly rollbackListeners: (() => void)[] = [];
  /** The write-ahead log, opened for syncing it (see syncCommitted). */
  private walFd: number | null = null;

  constructor(
    private readonly db: DatabaseSync,
    private readonly health: StoreWriteHealth,
    /** The database's write-ahead log file (`<file>-wal`); null in memory. */
    private readonly walFile: string | null = null,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.tx = {
      begin: p('BEGIN'),
      commit: p('COMMIT'),
      rollback: p('ROLLBACK'),
      savepoint: p('SAVEPOINT nested'),
      release: p('RELEASE nested'),
      rollbackToSavepoint: p('ROLLBACK TO nested'),
      lazySync: p('PRAGMA synchronous = NORMAL'),
      fullSync: p('PRAGMA synchronous = FULL'),
    };
  }

  /** Writes are failing right now (disk full, I/O errors): nothing new should be attempted until they work again. */
  get writesFailing(): boolean {
    return this.health.failing;
  }

  /** A repository that caches rows drops them here after any rollback. */
  onRollback(listener: () => void): void {
    this.rollbackListeners.push(listener);
  }

  /**
   * Runs `work` atomically; nested calls become savepoints, so an inner failure undoes only its
   * part. `durable` false (outermost only): the commit is not fsynced (WAL with synchronous=NORMAL:
   * a power cut may lose it, a process crash cannot) until syncCommitted says it is.
   */
  run<T>(work: () => T, durable = true): T {
    const nested = this.db.isTransaction;
    const lazy = !durable && !nested;
    if (lazy) this.tx.lazySync.run();
    try {
      return this.runOnce(work, nested);
    } finally {
      if (lazy) this.tx.fullSync.run();
    }
  }

  private runOnce<T>(work: () => T, nested: boolean): T {
    const hooksBefore = this.hooks.length;
    let result: T;
    try {
      (nested ? this.tx.savepoint : this.tx.begin).run();
      result = work();
      (nested ? this.tx.release : this.tx.commit).run();
    } catch (e) {
      // SQLite may already have rolled back on its own (e.g. after SQLITE_FULL)
      if (this.db.isTransaction) {
        if (nested) {
          this.tx.rollbackToSavepoint.run();
          this.tx.release.run();
        } else {
          this.tx.rollback.run();
        }
      }
      this.hooks.length = this.db.isTransaction ? hooksBefore : 0; // what was undone is not announced
      for (const listener of this.rollbackListeners) listener();
      if (!isStorageFailure(e)) throw e;
      throw this.health.writeFailed(e as Error, () => this.probeWrite());
    }
    if (!nested) {
      if (this.health.failing) this.health.writeSucceeded();
      const hooks = this.hooks;
      this.hooks = [];
      for (const hook of hooks) hook();
    }
    return result;
  }

  /**
   * Calls `done` once every transaction committed so far is on disk, lazy ones included: an
   * fdatasync of the write-ahead log in libuv's thread pool, so the event loop goes on meanwhile
   * and what commits while it runs shares the next one (group commit). In WAL mode a commit
   * only appends to that file, and a checkpoint syncs it before copying it into the database, so
   * syncing it is what `synchronous=FULL` would have done at each commit. In memory: next turn.
   */
  syncCommitted(done: (error: Error | null) => void): void {
    if (this.walFile === null) return void setImmediate(() => done(null));
    try {
      this.walFd ??= fs.openSync(this.walFile, 'r');
    } catch (e) {
      return void setImmediate(() => done(e as Error));
    }
    fs.fdatasync(this.walFd, (e) => done(e));
  }

  /** syncCommitted, blocking the event loop: for the rare path that must not go on before it (a failed write). */
  syncCommittedNow(): void {
    if (this.walFile === null) return;
    this.walFd ??= fs.openSync(this.walFile, 'r');
    fs.fdatasyncSync(this.walFd);
  }

  /** Lets go of the write-ahead log's descriptor (the store is closing). */
  close(): void {
    if (this.walFd !== null) fs.closeSync(this.walFd);
    this.walFd = null;
  }

  /** Runs `hook` once the current transaction has committed (now, outside one); dropped if it rolls back. */
  afterCommit(hook: () => void): void {
    if (this.db.isTransaction) this.hooks.push(hook);
    else hook();
  }

  /** A real write that changes nothing: user_version rewritten with its own value (page 1 into the WAL). */
  private probeWrite(): void {
    const version = Number((this.db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
    this.run(() => this.db.exec(`PRAGMA user_version = ${version}`));
  }
}
