import { Worker } from 'node:worker_threads';

/** Runs in a worker thread: its own connection checkpoints the WAL, so fsyncs never block the event loop. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.file, { timeout: 1000 });
let failing = null;
const checkpoint = () => {
  let error = null;
  try { db.exec('PRAGMA wal_checkpoint(PASSIVE)'); } catch (e) { error = e.message; }
  if (error !== failing) parentPort.postMessage({ checkpointError: error }); // transitions only
  failing = error;
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); checkpoint(); db.close(); parentPort.postMessage('closed'); });
`;

/**
 * Moves SQLite's WAL checkpoints (page copy + fsync, tens of ms on a busy disk) off the main
 * thread: the main connection turns auto-checkpointing off and this worker checkpoints instead.
 * `onCheckpoint` hears when checkpoints start failing (an error) and work again (null).
 */
export class WalCheckpointer {
  private readonly worker: Worker;

  constructor(file: string, intervalMs = 500, onCheckpoint: (error: string | null) => void = () => undefined) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, intervalMs } });
    this.worker.unref();
    this.worker.on('error', (e) => process.stderr.write(`WAL checkpointer failed: ${e.message}\n`));
    this.worker.on('message', (m: unknown) => {
      if (typeof m === 'object' && m !== null && 'checkpointError' in m) onCheckpoint((m as { checkpointError: string | null }).checkpointError);
    });
  }

  /** Final checkpoint, then the worker's connection closes. */
  stop(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => void this.worker.terminate().then(() => resolve()), 2000);
      const onMessage = (m: unknown) => {
        if (m !== 'closed') return;
        this.worker.off('message', onMessage);
        clearTimeout(timer);
        void this.worker.terminate().then(() => resolve());
      };
      this.worker.on('message', onMessage);
      this.worker.postMessage('stop');
    });
  }
}
