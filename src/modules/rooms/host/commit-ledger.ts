import { Injectable } from '@nestjs/common';
import { hostUnavailable } from '../../../common/errors/chat-error';
import { toChatMessage } from '../../../common/protocol/record-mappers';
import type { MessageRecord } from '../../../common/store/chat-records';
import { ClientRegistry } from '../../members/client-registry';

interface Pending {
  message: MessageRecord;
  waiters: { resolve: () => void; reject: (e: Error) => void }[];
}

/**
 * The host's messages that no majority has stored yet. Local members are shown a message only
 * once it is committed (nothing they saw can vanish in a failover), in sequence order: a
 * committed sequence commits every one before it, since replicas store a room's messages in order.
 */
@Injectable()
export class CommitLedger {
  /** Per room, in sequence order. Rooms with nothing pending have no entry. */
  private readonly pending = new Map<string, Pending[]>();

  constructor(private readonly clients: ClientRegistry) {}

  /** Resolves when the sender may be told `message` is stored (after local members are shown it); rejects retryably. */
  track(message: MessageRecord, stored: Promise<void>): Promise<void> {
    let list = this.pending.get(message.roomId);
    if (!list) this.pending.set(message.roomId, (list = []));
    // a new message comes after every pending one; only a resend looks further back
    const last = list.at(-1);
    let entry = last && last.message.sequenceNumber >= message.sequenceNumber ? list.find((p) => p.message.sequenceNumber === message.sequenceNumber) : undefined;
    if (!entry) {
      entry = { message, waiters: [] };
      let at = list.length;
      while (at > 0 && list[at - 1].message.sequenceNumber > message.sequenceNumber) at--;
      list.splice(at, 0, entry); // kept in sequence order (a resend may be older than what is pending)
    }
    const waiting = entry;
    return new Promise<void>((resolve, reject) => {
      waiting.waiters.push({ resolve, reject });
      stored.then(
        () => this.committed(message.roomId, message.sequenceNumber),
        (e: Error) => this.gaveUp(waiting, e),
      );
    });
  }

  /** The highest sequence of the room local members may be shown (replays and history stop there). */
  visibleUpTo(roomId: string, lastSequence: number): number {
    const first = this.pending.get(roomId)?.[0];
    return first ? Math.min(lastSequence, first.message.sequenceNumber - 1) : lastSequence;
  }

  isPending(roomId: string, sequence: number): boolean {
    return (this.pending.get(roomId) ?? []).some((p) => p.message.sequenceNumber === sequence);
  }

  /** This node no longer hosts the room: what is pending will never be shown; its senders are told to retry. */
  dropRoom(roomId: string, why: string, moved?: { adminNode: string; hostEpoch: number }): void {
    const list = this.pending.get(roomId);
    this.pending.delete(roomId);
    for (const p of list ?? []) for (const w of p.waiters) w.reject(hostUnavailable(why, moved));
  }

  private committed(roomId: string, sequence: number): void {
    const list = this.pending.get(roomId);
    if (!list) return;
    let n = 0;
    while (n < list.length && list[n].message.sequenceNumber <= sequence) n++;
    const done = list.splice(0, n);
    if (list.length === 0) this.pending.delete(roomId);
    for (const p of done) {
      this.clients.deliverMessage(toChatMessage(p.message));
      for (const w of p.waiters) w.resolve();
    }
  }

  /** This send's wait is over; the message stays pending, shown if a later one commits (it then did too). */
  private gaveUp(entry: Pending, e: Error): void {
    const waiters = entry.waiters;
    entry.waiters = [];
    for (const w of waiters) w.reject(hostUnavailable(`The message was not confirmed by a majority of nodes (${e.message}); retry with the same client_message_id`));
  }
}
