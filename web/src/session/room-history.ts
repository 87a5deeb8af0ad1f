// Ordered delivery per room: messages are shown in sequence order, a gap that persists is filled
// from the server's history, and older pages load on demand.

import { describeError } from '../format';
import type { ChatMessage, HistoryReply } from '../protocol';
import type { RoomState } from './room-state';
import type { SessionContext } from './session-context';
import { KeyedTimers } from './timers';

const HISTORY_PAGE = 50;

export class RoomHistory {
  private readonly ctx: SessionContext;
  private readonly gapRepairDelayMs: number;
  private readonly gapRepairs: KeyedTimers;

  constructor(ctx: SessionContext, gapRepairDelayMs: number) {
    this.ctx = ctx;
    this.gapRepairDelayMs = gapRepairDelayMs;
    this.gapRepairs = new KeyedTimers(ctx.timers);
  }

  /** Shows whatever is now in order; a gap left behind is repaired later. */
  accept(room: RoomState, messages: ChatMessage[]): void {
    const ready = room.buffer.addAll(messages.filter((m) => m && m.room_id === room.id));
    if (ready.length > 0) {
      if (room.oldestShown === null || ready[0].sequence_number < room.oldestShown) {
        room.oldestShown = ready[0].sequence_number;
        room.hasOlder = room.oldestShown > room.firstSequence;
      }
      this.ctx.emit({ kind: 'messages', room, messages: ready });
    }
    if (room.buffer.hasGap) this.scheduleGapRepair(room);
  }

  /** Loads a page of older history above the oldest message shown. */
  async loadOlder(roomId: string): Promise<number> {
    const room = this.ctx.rooms.get(roomId);
    if (!room || room.loadingOlder || !room.hasOlder || room.oldestShown === null) return 0;
    room.loadingOlder = true;
    try {
      const before = room.oldestShown;
      const frame = await this.ctx.request(
        { type: 'get_history', data: { room_id: roomId, before_sequence: before, limit: HISTORY_PAGE } },
        { types: ['history', 'history_error'], roomId },
      );
      if (frame.type !== 'history') {
        const d = (frame.data ?? {}) as Record<string, unknown>;
        throw new Error(describeError(d.error_code as string, (d.error ?? d.message) as string, { roomName: room.name }));
      }
      const h = frame.data as unknown as HistoryReply;
      const older = (Array.isArray(h.messages) ? h.messages : [])
        .filter((m) => m.sequence_number < (room.oldestShown ?? Infinity))
        .sort((a, b) => a.sequence_number - b.sequence_number);
      if (typeof h.first_sequence === 'number' && h.first_sequence > 0) room.firstSequence = h.first_sequence;
      if (older.length > 0) room.oldestShown = older[0].sequence_number;
      room.hasOlder = older.length > 0 && Boolean(h.has_more) && (room.oldestShown ?? 1) > room.firstSequence;
      this.ctx.emit({ kind: 'older', room, messages: older });
      return older.length;
    } finally {
      room.loadingOlder = false;
    }
  }

  cancelGapRepair(roomId: string): void {
    this.gapRepairs.cancel(roomId);
  }

  cancelAll(): void {
    this.gapRepairs.cancelAll();
  }

  /** A gap that persists is filled from the server's history (after_sequence). */
  private scheduleGapRepair(room: RoomState): void {
    this.gapRepairs.schedule(room.id, this.gapRepairDelayMs, () => void this.repairGap(room));
  }

  private async repairGap(room: RoomState): Promise<void> {
    const gap = room.buffer.gap();
    if (!gap || this.ctx.rooms.get(room.id) !== room) return;
    try {
      const frame = await this.ctx.request(
        { type: 'get_history', data: { room_id: room.id, after_sequence: room.buffer.lastSeq, limit: 200 } },
        { types: ['history', 'history_error'], roomId: room.id },
      );
      if (frame.type === 'history') {
        const h = frame.data as unknown as HistoryReply;
        const before = room.buffer.lastSeq;
        this.accept(room, Array.isArray(h.messages) ? h.messages : []);
        if (room.buffer.lastSeq === before && room.buffer.hasGap) {
          // The server has nothing for the gap: stop waiting for it.
          const ready = room.buffer.skipGap();
          if (ready.length) this.ctx.emit({ kind: 'messages', room, messages: ready });
        }
      } else {
        const ready = room.buffer.skipGap();
        if (ready.length) this.ctx.emit({ kind: 'messages', room, messages: ready });
      }
    } catch {
      // disconnected: resume will replay from lastSeq anyway
    }
    if (room.buffer.hasGap) this.scheduleGapRepair(room);
  }
}
