import { Inject, Injectable, Logger } from '@nestjs/common';
import { CHAT_STORE, ChatStore } from '../../../common/store/chat-store';
import type { RoomRecord } from '../../../common/store/chat-records';
import { PeerDirectory } from '../../peers/peer-directory';

/** Messages compared per get_messages call, newest first. */
const WINDOW = 200;

/**
 * Makes this node's copy of a room a prefix of another node's log after a failover: it drops the
 * messages after the last one both hold (same sequence, same message id). Only messages an old
 * host sequenced and no majority stored can differ, and nobody was shown those.
 */
@Injectable()
export class LogReconciler {
  private readonly logger = new Logger(LogReconciler.name);
  /** `room@epoch` whose copy was aligned with that epoch's host in this run. */
  private readonly aligned = new Set<string>();
  private readonly running = new Map<string, Promise<void>>();
  /** Aligned rooms whose log epoch has not moved yet: advanceLogEpoch, called per applied message, looks at nothing else. */
  private readonly behind = new Set<string>();

  constructor(
    @Inject(CHAT_STORE) private readonly store: ChatStore,
    private readonly peers: PeerDirectory,
  ) {}

  /** Whether the copy must be aligned with its host before the host's next message is applied. */
  needsAlignment(room: RoomRecord): boolean {
    return room.logEpoch < room.hostEpoch && !this.aligned.has(`${room.roomId}@${room.hostEpoch}`);
  }

  /** Aligns the room with its current host once per epoch (concurrent callers share the work). */
  alignWithHost(roomId: string): Promise<void> {
    const room = this.store.getRoom(roomId);
    if (!room || !this.needsAlignment(room)) return Promise.resolve();
    let run = this.running.get(roomId);
    if (!run) {
      run = this.alignWith(roomId, room.hostNode)
        .then(() => {
          this.aligned.add(`${roomId}@${room.hostEpoch}`);
          this.behind.add(roomId);
          this.advanceLogEpoch(roomId);
        })
        .finally(() => this.running.delete(roomId));
      this.running.set(roomId, run);
    }
    return run;
  }

  /** The copy now follows its host's epoch once it holds everything before that epoch's first sequence. */
  advanceLogEpoch(roomId: string): void {
    if (!this.behind.has(roomId)) return;
    const room = this.store.getRoom(roomId);
    if (!room || room.logEpoch >= room.hostEpoch) return void this.behind.delete(roomId);
    if (!this.aligned.has(`${roomId}@${room.hostEpoch}`) || room.lastSequence < room.epochStart - 1) return;
    this.store.setEpochs(roomId, { ...room, logEpoch: room.hostEpoch });
    this.behind.delete(roomId);
  }

  /** Drops this node's messages after the last one `source` holds identically; returns how many. */
  async alignWith(roomId: string, source: string): Promise<number> {
    const keep = await this.lastCommonSequence(roomId, source);
    const room = this.store.getRoom(roomId);
    if (!room || keep >= room.lastSequence) return 0;
    const dropped = this.store.truncateAfter(roomId, keep);
    this.logger.warn(`Room ${roomId}: dropped ${dropped} message(s) after sequence ${keep} that no majority stored (an earlier host sequenced them); following ${source}`);
    return dropped;
  }

  private async lastCommonSequence(roomId: string, source: string): Promise<number> {
    let top = this.store.getRoom(roomId)?.lastSequence ?? 0;
    while (top > 0) {
      const page = await this.peers.call(source, 'get_messages', [roomId, 0, top + 1, WINDOW]);
      if (!page.success) throw new Error(`${source} could not list room ${roomId} (${page.error_code ?? 'no reason'})`);
      if (page.messages.length === 0) return 0;
      const theirs = new Map(page.messages.map((m) => [Number(m.sequence_number), String(m.message_id)]));
      const lowest = Number(page.messages[0].sequence_number);
      // compare only where their page has answers (a reply budget may have cut it short)
      const mine = this.store.messagesAfter(roomId, lowest - 1, top - lowest + 1);
      for (let i = mine.length - 1; i >= 0; i--) {
        if (theirs.get(mine[i].sequenceNumber) === mine[i].messageId) return mine[i].sequenceNumber;
      }
      top = lowest - 1;
    }
    return 0;
  }
}
