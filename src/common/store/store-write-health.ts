import { Logger } from '@nestjs/common';
import { ChatError } from '../errors/chat-error';

/** What /health shows about the store's ability to write (ChatStore.writeHealth()). */
export interface WriteHealth {
  ok: boolean;
  /** The last write or checkpoint error of the current episode, null when writes work. */
  error: string | null;
  /** When the current episode began (ISO), null when writes work. */
  since: string | null;
  /** A failing WAL checkpoint (the WAL then grows until it works again), null when fine. */
  checkpointError: string | null;
}

/** SQLite primary result codes that mean "the disk, not the request": READONLY, IOERR, FULL, CANTOPEN. */
const STORAGE_CODES = new Set([8, 10, 13, 14]);

/** True for an error from node:sqlite caused by the storage (disk full, I/O error...). */
export function isStorageFailure(e: unknown): boolean {
  const errcode = (e as { errcode?: unknown })?.errcode;
  return typeof errcode === 'number' && STORAGE_CODES.has(errcode & 0xff);
}

const PROBE_MS = 1000;

export const STORE_UNAVAILABLE_MESSAGE = 'The server cannot store messages right now (its disk is full or failing); nothing was saved, try again later';

/**
 * Tracks write failures as episodes: one ERROR line when writes start failing, one line when they
 * work again, whatever happens in between (a full disk would otherwise log once per message).
 */
export class StoreWriteHealth {
  private readonly logger = new Logger('ChatStore');
  private failure: { error: string; since: string } | null = null;
  private checkpointError: string | null = null;
  private probe: NodeJS.Timeout | null = null;

  constructor(private readonly now: () => Date = () => new Date()) {}

  get failing(): boolean {
    return this.failure !== null;
  }

  /**
   * Records a failed write and returns the error the client is shown. While writes fail, `probe`
   * (a tiny write) runs every PROBE_MS, so the store recovers by itself when space is back.
   */
  writeFailed(e: Error, probe?: () => void): ChatError {
    if (probe && !this.probe) {
      this.probe = setInterval(() => {
        try {
          probe();
        } catch {
          // still failing: the episode is already logged
        }
      }, PROBE_MS);
      this.probe.unref();
    }
    if (!this.failure) {
      this.failure = { error: e.message, since: this.now().toISOString() };
      this.logger.error(`Store writes are failing (${e.message}): sends are refused with STORE_UNAVAILABLE until they work again`);
    } else {
      this.failure.error = e.message;
    }
    return new ChatError('STORE_UNAVAILABLE', STORE_UNAVAILABLE_MESSAGE);
  }

  writeSucceeded(): void {
    this.stop();
    if (!this.failure) return;
    const seconds = ((this.now().getTime() - Date.parse(this.failure.since)) / 1000).toFixed(1);
    this.failure = null;
    this.logger.log(`Store writes work again (after ${seconds} s of failures)`);
  }

  checkpointFailed(message: string): void {
    if (this.checkpointError === null) this.logger.error(`WAL checkpoint is failing (${message}): the WAL file grows until it works again`);
    this.checkpointError = message;
  }

  checkpointSucceeded(): void {
    if (this.checkpointError === null) return;
    this.checkpointError = null;
    this.logger.log('WAL checkpoint works again');
  }

  stop(): void {
    if (this.probe) clearInterval(this.probe);
    this.probe = null;
  }

  snapshot(): WriteHealth {
    const error = this.failure?.error ?? this.checkpointError;
    return { ok: error === null, error, since: this.failure?.since ?? null, checkpointError: this.checkpointError };
  }
}
