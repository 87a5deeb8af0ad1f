import type { MessageSearchRepository } from './message-search.repository';

/** How long new messages wait to be indexed: long enough that a busy room's messages share one write. */
const INDEX_DELAY_MS = 1000;
/** Messages indexed per room and write, so that a long backlog (a room caught up from scratch) never stalls the node. */
const BATCH = 2000;

/**
 * Keeps the search index behind the stored messages instead of in their write: a moment after a
 * message is stored, its room's new messages are indexed in one write with every other room's
 * (MessageSearchRepository.indexPending). A search indexes what is left of its room first, so the
 * delay is never visible. One timer, armed only while some room is behind: a quiet node does nothing.
 */
export class SearchIndexing {
  private readonly behind = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly search: MessageSearchRepository) {
    for (const roomId of search.roomsBehind()) this.behind.add(roomId);
    this.schedule();
  }

  /** A message of `roomId` was stored. */
  messageStored(roomId: string): void {
    this.behind.add(roomId);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer || this.stopped || this.behind.size === 0) return;
    this.timer = setTimeout(() => this.indexBehind(), INDEX_DELAY_MS);
    this.timer.unref();
  }

  private indexBehind(): void {
    this.timer = null;
    for (const roomId of [...this.behind]) {
      try {
        if (!this.search.indexPending(roomId, BATCH)) this.behind.delete(roomId);
      } catch {
        break; // the store cannot write right now (StoreWriteHealth says so): the rooms stay behind, tried again next time
      }
    }
    this.schedule();
  }
}
