import { Inject, Injectable } from '@nestjs/common';
import { ChatError } from '../../../common/errors/chat-error';
import { CHAT_STORE, ChatStore } from '../../../common/store/chat-store';

interface Queued {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (e: unknown) => void;
}

/**
 * The host's writes for local clients (sends, room creations), run together once per turn of the
 * event loop in one commit: with synchronous=FULL every commit is an fsync, so a burst costs one
 * instead of one per request (forwarded sends get the same from forward_messages). A write that
 * fails undoes only itself (ChatStore's writes are savepoints); they run in submission order.
 */
@Injectable()
export class LocalWrites {
  private queue: Queued[] = [];

  constructor(@Inject(CHAT_STORE) private readonly store: ChatStore) {}

  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.queue.push({ work, resolve: resolve as (v: unknown) => void, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    let outcomes: ({ value: unknown } | { error: unknown })[];
    try {
      outcomes = this.store.transaction(() => batch.map((q) => this.attempt(q)));
    } catch (e) {
      for (const q of batch) q.reject(e); // the store cannot write: the whole batch was rolled back
      return;
    }
    outcomes.forEach((o, i) => ('value' in o ? batch[i].resolve(o.value) : batch[i].reject(o.error)));
  }

  /** `work` must be atomic on its own (the store's writes are: each is a savepoint inside the batch). */
  private attempt(q: Queued): { value: unknown } | { error: unknown } {
    try {
      return { value: q.work() };
    } catch (e) {
      if (e instanceof ChatError && e.code === 'STORE_UNAVAILABLE') throw e; // rolls back the whole batch
      return { error: e };
    }
  }
}
