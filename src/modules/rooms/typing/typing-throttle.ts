/** At most one typing notice per connection and room in this long; the ones between are dropped. */
export const TYPING_INTERVAL_MS = 1000;

/**
 * Per connection and room, when its last typing notice went out (monotonic ms). A connection is in
 * at most a bounded number of rooms, and the entries go with the connection (a WeakMap).
 */
export class TypingThrottle<Conn extends object> {
  private readonly last = new WeakMap<Conn, Map<string, number>>();

  constructor(private readonly intervalMs = TYPING_INTERVAL_MS) {}

  /** True when a notice from `conn` in `roomId` may go out now (and counts it); false: drop it. */
  admit(conn: Conn, roomId: string, now: number): boolean {
    let rooms = this.last.get(conn);
    if (!rooms) this.last.set(conn, (rooms = new Map()));
    const previous = rooms.get(roomId);
    if (previous !== undefined && now - previous < this.intervalMs) return false;
    rooms.set(roomId, now);
    return true;
  }
}
