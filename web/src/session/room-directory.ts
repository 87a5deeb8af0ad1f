// The cluster-wide room list (rooms, hosts, node availability): discovered on connect, kept fresh
// while connected, trimmed when a room is deleted; and creating a room in it.

import { describeError } from '../format';
import type { GlobalRoomsList, RoomCreated } from '../protocol';
import type { SessionContext } from './session-context';

export class RoomDirectory {
  /** The latest list from the server, null before the first one. */
  last: GlobalRoomsList | null = null;
  private readonly ctx: SessionContext;
  private readonly refreshMs: number;
  private refreshTimer: unknown = null;

  constructor(ctx: SessionContext, refreshMs: number) {
    this.ctx = ctx;
    this.refreshMs = refreshMs;
  }

  async discover(): Promise<GlobalRoomsList> {
    const frame = await this.ctx.request({ type: 'discover_rooms' }, { types: ['global_rooms_list'] });
    if (frame.type !== 'global_rooms_list') throw new Error(describeError((frame.data as any)?.error_code, (frame.data as any)?.message));
    const list = frame.data as unknown as GlobalRoomsList;
    list.rooms = Array.isArray(list.rooms) ? list.rooms : [];
    this.last = list;
    this.ctx.emit({ kind: 'rooms', list });
    return list;
  }

  /** `isPrivate`: listed and joinable only by us and the users invited (the server decides). */
  async createRoom(name: string, description: string | null, isPrivate = false): Promise<RoomCreated> {
    const frame = await this.ctx.request(
      { type: 'create_room', data: { room_name: name, creator_id: this.ctx.username, description, ...(isPrivate ? { private: true } : {}) } },
      { types: ['room_created'] },
    );
    const d = (frame.data ?? {}) as Record<string, unknown>;
    if (frame.type !== 'room_created' || d.success === false || typeof d.room_id !== 'string') {
      throw new Error(describeError(d.error_code as string, (d.message as string) ?? 'Could not create the room'));
    }
    return d as unknown as RoomCreated;
  }

  /** Keeps the list (hosts, node availability) fresh while connected. */
  scheduleRefresh(): void {
    if (this.refreshTimer !== null) this.ctx.timers.clear(this.refreshTimer);
    this.refreshTimer = this.ctx.timers.set(() => {
      this.refreshTimer = null;
      if (!this.ctx.isOpen()) return;
      this.discover().catch(() => undefined);
      this.scheduleRefresh();
    }, this.refreshMs);
  }

  refreshSoon(): void {
    this.ctx.timers.set(() => this.discover().catch(() => undefined), 200);
  }

  stopRefresh(): void {
    if (this.refreshTimer !== null) this.ctx.timers.clear(this.refreshTimer);
    this.refreshTimer = null;
  }

  /** Drops a deleted room from the list shown (until the next refresh confirms it). */
  forget(roomId: string): void {
    if (!this.last) return;
    this.last.rooms = this.last.rooms.filter((r) => r.room_id !== roomId);
    this.ctx.emit({ kind: 'rooms', list: this.last });
  }

  /** The host the list shows for a room; undefined if it is not listed (or no list yet). */
  hostOf(roomId: string): string | undefined {
    return this.last?.rooms.find((r) => r.room_id === roomId)?.admin_node;
  }

  /** Shows a room under the host it moved to (until the next refresh confirms it). */
  showHost(roomId: string, adminNode: string): void {
    const listed = this.last?.rooms.find((r) => r.room_id === roomId);
    if (!this.last || !listed || listed.admin_node === adminNode) return;
    listed.admin_node = adminNode;
    this.ctx.emit({ kind: 'rooms', list: this.last });
  }
}
