interface Waiter {
  sequence: number;
  resolve: (reached: boolean) => void;
}

interface RoomWaiters {
  /** Ascending by sequence, so a delivered message releases waiters from the front. */
  waiting: Waiter[];
  /** When this room last made progress (a message applied, or the first waiter arrived). */
  lastProgress: number;
}

/**
 * Senders on this node waiting for their message to arrive by replication (so they see
 * new_message before message_sent). A room whose replication makes no progress for a while is
 * reported `stalled`, once, so the caller fetches the gap with one call instead of one per sender.
 */
export class SequenceWaiters {
  private readonly rooms = new Map<string, RoomWaiters>();

  get size(): number {
    return this.rooms.size;
  }

  wait(roomId: string, sequence: number, now: number): Promise<boolean> {
    return new Promise((resolve) => {
      let room = this.rooms.get(roomId);
      if (!room) this.rooms.set(roomId, (room = { waiting: [], lastProgress: now }));
      const list = room.waiting;
      let at = list.length;
      while (at > 0 && list[at - 1].sequence > sequence) at--; // usually appends
      list.splice(at, 0, { sequence, resolve });
    });
  }

  /** The room now holds everything up to `sequence`. */
  reached(roomId: string, sequence: number, now: number): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    room.lastProgress = now;
    let n = 0;
    while (n < room.waiting.length && room.waiting[n].sequence <= sequence) room.waiting[n++].resolve(true);
    if (n > 0) room.waiting.splice(0, n);
    if (room.waiting.length === 0) this.rooms.delete(roomId);
  }

  /** Rooms with waiters and no progress for `graceMs`; each is reported once per stall. */
  stalled(now: number, graceMs: number): { roomId: string; upTo: number }[] {
    const out: { roomId: string; upTo: number }[] = [];
    for (const [roomId, room] of this.rooms) {
      if (now - room.lastProgress < graceMs) continue;
      room.lastProgress = now; // report again only after another grace period
      out.push({ roomId, upTo: room.waiting[room.waiting.length - 1].sequence });
    }
    return out;
  }

  /** Gives up on a room's waiters (its host cannot be reached). */
  release(roomId: string): void {
    for (const w of this.rooms.get(roomId)?.waiting ?? []) w.resolve(false);
    this.rooms.delete(roomId);
  }
}
