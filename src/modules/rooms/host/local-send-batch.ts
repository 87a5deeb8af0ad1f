import { Inject, Injectable } from '@nestjs/common';
import { ChatError } from '../../../common/errors/chat-error';
import type { ForwardItem } from '../../../common/protocol/peer-wire';
import { CHAT_STORE, ChatStore } from '../../../common/store/chat-store';
import { RoomHostService, type SentRecord } from './room-host.service';

interface Queued {
  roomId: string;
  item: ForwardItem;
  resolve: (sent: SentRecord) => void;
  reject: (e: unknown) => void;
}

/**
 * Local clients' sends to rooms hosted here, sequenced together once per turn of the event loop
 * in one commit: with synchronous=FULL every commit is an fsync, so a burst costs one instead of
 * one per message (forwarded sends get the same from forward_messages). Order is kept: sends are
 * sequenced in the order they were submitted.
 */
@Injectable()
export class LocalSendBatch {
  private queue: Queued[] = [];

  constructor(
    @Inject(CHAT_STORE) private readonly store: ChatStore,
    private readonly host: RoomHostService,
  ) {}

  submit(roomId: string, item: ForwardItem): Promise<SentRecord> {
    return new Promise<SentRecord>((resolve, reject) => {
      if (this.queue.push({ roomId, item, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    let outcomes: ({ sent: SentRecord } | { error: unknown })[];
    try {
      outcomes = this.store.transaction(() => batch.map((q) => this.sequence(q)));
    } catch (e) {
      for (const q of batch) q.reject(e); // the store cannot write: the whole batch was rolled back
      return;
    }
    outcomes.forEach((o, i) => ('sent' in o ? batch[i].resolve(o.sent) : batch[i].reject(o.error)));
  }

  private sequence({ roomId, item }: Queued): { sent: SentRecord } | { error: unknown } {
    try {
      return { sent: this.host.send(roomId, item.username, item.content, item.client_message_id) };
    } catch (e) {
      if (e instanceof ChatError && e.code === 'STORE_UNAVAILABLE') throw e; // rolls back the whole batch
      return { error: e };
    }
  }
}
