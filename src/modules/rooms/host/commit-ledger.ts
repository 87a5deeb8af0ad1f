import { Injectable } from '@nestjs/common';
import { hostUnavailable } from '../../../common/errors/chat-error';
import { toChatMessage } from '../../../common/protocol/record-mappers';
import type { MessageRecord, RoomRecord } from '../../../common/store/chat-records';
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
  /**
   * Rooms this node stopped hosting with messages still pending: the last sequence local members
   * may be shown, until the copy follows a newer epoch's log (the reconciler then dropped or kept
   * that tail). Without it a join on the old host would replay the tail in the meantime.
   */
  private readonly withdrawn = new Map<string, { upTo: number; logEpoch: number }>();

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
      const waiter = { resolve, reject };
      waiting.waiters.push(waiter);
      stored.then(
        () => this.committed(message.roomId, message.sequenceNumber),
        (e: Error) => this.gaveUp(waiting, waiter, e),
      );
    });
  }

  /** The highest sequence of the room local members may be shown (replays and history stop there). */
  visibleUpTo(room: Pick<RoomRecord, 'roomId' | 'lastSequence' | 'logEpoch'>): number {
    const withdrawn = this.withdrawn.get(room.roomId);
    if (withdrawn && room.logEpoch <= withdrawn.logEpoch) return Math.min(room.lastSequence, withdrawn.upTo);
    this.withdrawn.delete(room.roomId);
    const first = this.pending.get(room.roomId)?.[0];
    return first ? Math.min(room.lastSequence, first.message.sequenceNumber - 1) : room.lastSequence;
  }

  isPending(roomId: string, sequence: number): boolean {
    return (this.pending.get(roomId) ?? []).some((p) => p.message.sequenceNumber === sequence);
  }

  /** This node no longer hosts the room (its copy follows the log of epoch `logEpoch`): what is pending is not shown; its senders are told to retry. */
  dropRoom(roomId: string, why: string, moved?: { adminNode: string; hostEpoch: number }, logEpoch = 0): void {
    const list = this.pending.get(roomId);
    this.pending.delete(roomId);
    if (list?.length) this.withdrawn.set(roomId, { upTo: Math.min(list[0].message.sequenceNumber - 1, this.withdrawn.get(roomId)?.upTo ?? Infinity), logEpoch });
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
  private gaveUp(entry: Pending, waiter: Pending['waiters'][number], e: Error): void {
    // only the wait this replication was for: a retry waiting on its own replication stays
    const i = entry.waiters.indexOf(waiter);
    if (i === -1) return;
    entry.waiters.splice(i, 1);
    waiter.reject(hostUnavailable(`The message was not confirmed by a majority of nodes (${e.message}); retry with the same client_message_id`));
  }
}
