// Two-phase-commit room deletion as this client sees it: asking for it, then the outcome events
// (initiated, committed, failed, cancelled, and room_deleted for everyone in the room).

import { describeError } from '../format';
import type { RoomState } from './room-state';
import type { MarkGone, SessionContext } from './session-context';

type FrameData = Record<string, unknown>;

const IN_PROGRESS = 'Deleting this room (two-phase commit in progress)…';

export interface RoomDeletionDeps {
  markGone: MarkGone;
  refreshListSoon(): void;
  /** Drops a deleted room from the room list. */
  forgetListedRoom(roomId: string): void;
}

export class RoomDeletion {
  private readonly ctx: SessionContext;
  private readonly deps: RoomDeletionDeps;
  /** Rooms this user asked to delete: id -> name, until the outcome arrives. */
  private readonly asked = new Map<string, string>();

  constructor(ctx: SessionContext, deps: RoomDeletionDeps) {
    this.ctx = ctx;
    this.deps = deps;
  }

  /** Starts the deletion; the outcome arrives as events. False if not connected. */
  request(roomId: string): boolean {
    const room = this.ctx.rooms.get(roomId);
    const ok = this.ctx.send({ type: 'delete_room', data: { room_id: roomId, username: this.ctx.username } });
    if (!ok) {
      this.ctx.emit({ kind: 'notice', level: 'error', text: 'Not connected: cannot delete the room now.' });
      return false;
    }
    if (room) {
      this.asked.set(roomId, room.name);
      room.deleting = true;
      room.notice = IN_PROGRESS;
      this.ctx.emit({ kind: 'room', room });
    }
    return true;
  }

  onInitiated(d: FrameData, room: RoomState | undefined): void {
    if (!room || room.deleting) return;
    room.deleting = true;
    room.notice = d.initiator && d.initiator !== this.ctx.username ? `${String(d.initiator)} is deleting this room…` : IN_PROGRESS;
    this.ctx.emit({ kind: 'room', room });
  }

  onCommitted(d: FrameData, room: RoomState | undefined): void {
    const id = String(d.room_id);
    const name = room?.name ?? this.asked.get(id) ?? id;
    this.asked.delete(id);
    this.ctx.emit({ kind: 'notice', level: 'success', text: `Room “${name}” deleted: every node committed.`, roomId: id, key: `delete:${id}` });
    if (room) this.deps.markGone(room, 'deleted', null);
  }

  onFailed(d: FrameData, room: RoomState | undefined): void {
    this.asked.delete(String(d.room_id));
    if (room) {
      room.deleting = false;
      room.notice = null;
      this.ctx.emit({ kind: 'room', room });
    }
    this.ctx.emit({
      kind: 'notice',
      level: 'error',
      text: describeError(String(d.error_code ?? 'DELETION_FAILED'), String(d.reason ?? ''), { roomName: room?.name }),
      roomId: d.room_id as string,
    });
  }

  onCancelled(room: RoomState | undefined): void {
    if (!room) return;
    room.deleting = false;
    room.notice = null;
    this.ctx.emit({ kind: 'room', room });
    this.ctx.emit({ kind: 'notice', level: 'info', text: `Deletion of “${room.name}” was cancelled; the room is kept.`, roomId: room.id });
  }

  onRoomDeleted(d: FrameData, room: RoomState | undefined): void {
    if (!room) {
      this.deps.forgetListedRoom(d.room_id as string);
      this.deps.refreshListSoon();
      return;
    }
    // Our own deletion: delete_room_success says it (once); others get told here.
    this.deps.markGone(room, 'deleted', this.asked.has(room.id) ? null : `Room “${room.name}” has been deleted.`);
  }
}
