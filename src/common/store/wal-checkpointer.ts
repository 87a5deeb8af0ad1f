import { Worker } from 'node:worker_threads';

/** Runs in a worker thread: its own connection checkpoints the WAL, so fsyncs never block the event loop. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.file, { timeout: 1000 });
const checkpoint = () => { try { db.exec('PRAGMA wal_checkpoint(PASSIVE)'); } catch {} };
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); checkpoint(); db.close(); parentPort.postMessage('closed'); });
`;

/**
 * Moves SQLite's WAL checkpoints (page copy + fsync, tens of ms on a busy disk) off the main
 * thread: the main connection turns auto-checkpointing off and this worker checkpoints instead.
 */
export class WalCheckpointer {
  private readonly worker: Worker;

  constructor(file: string, intervalMs = 500) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, intervalMs } });
    this.worker.unref();
    this.worker.on('error', (e) => process.stderr.write(`WAL checkpointer failed: ${e.message}\n`));
  }

  /** Final checkpoint, then the worker's connection closes. */
  stop(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => void this.worker.terminate().then(() => resolve()), 2000);
      this.worker.once('message', () => {
        clearTimeout(timer);
        void this.worker.terminate().then(() => resolve());
      });
      this.worker.postMessage('stop');
    });
  }
}
