// Frames the server pushes unasked: new messages, members joining and leaving, a room's host going
// down, coming back or moving to another node, deletion progress, errors. Each one updates the
// room and tells the UI.

import { describeError, describeLeave } from '../format';
import type { ChatMessage, Frame, MemberEvent } from '../protocol';
import type { MessageChanges } from './message-changes';
import type { Moderation } from './moderation';
import type { ReadMarkers } from './read-markers';
import type { RoomDeletion } from './room-deletion';
import type { RoomHost } from './room-host';
import type { RoomState } from './room-state';
import type { SessionContext } from './session-context';

export interface RoomEventDeps {
  deletion: RoomDeletion;
  host: RoomHost;
  changes: MessageChanges;
  readMarkers: ReadMarkers;
  moderation: Moderation;
  acceptMessages(room: RoomState, messages: ChatMessage[]): void;
  rejoin(room: RoomState): void;
  resendOutbox(room: RoomState): void;
  refreshListSoon(): void;
}

/** Our own "removed" events that we answer by joining again, at most this many a minute. */
const AUTO_REJOINS_PER_MINUTE = 3;

export class RoomEvents {
  private readonly ctx: SessionContext;
  private readonly deps: RoomEventDeps;
  private readonly autoRejoins = new Map<string, number[]>();

  constructor(ctx: SessionContext, deps: RoomEventDeps) {
    this.ctx = ctx;
    this.deps = deps;
  }

  handle(frame: Frame): void {
    const d = (frame.data ?? {}) as Record<string, unknown>;
    const room = typeof d.room_id === 'string' ? this.ctx.rooms.get(d.room_id) : undefined;
    const deletion = this.deps.deletion;
    if (this.deps.moderation.handle(frame.type, room, d)) return;
    switch (frame.type) {
      case 'new_message':
        if (!room) return;
        this.deps.changes.stoppedTyping(room, String(d.username ?? ''));
        this.deps.acceptMessages(room, [d as unknown as ChatMessage]);
        return;
      case 'message_edited':
        if (room) this.deps.changes.onEdited(room, d);
        return;
      case 'message_deleted':
        if (room) this.deps.changes.onDeleted(room, d);
        return;
      case 'read_marker':
        if (room) this.deps.readMarkers.onMarker(room, d);
        return;
      case 'user_typing':
        if (room) this.deps.changes.onTyping(room, d);
        return;
      case 'member_joined':
      case 'member_left':
        if (room) this.onMember(room, frame.type === 'member_joined', d as unknown as MemberEvent);
        return;
      case 'room_unavailable':
        if (room && !this.deps.host.isStaleOutage(room, d)) this.onUnavailable(room, d);
        return;
      case 'room_host_changed':
        if (room) void this.deps.host.onHostChanged(room, d);
        return;
      case 'room_available':
        if (room) this.onAvailable(room);
        return;
      case 'delete_room_initiated':
        deletion.onInitiated(d, room);
        return;
      case 'delete_room_success':
        deletion.onCommitted(d, room);
        return;
      case 'delete_room_failed':
        deletion.onFailed(d, room);
        return;
      case 'delete_room_cancelled':
        deletion.onCancelled(room);
        return;
      case 'room_deleted':
        deletion.onRoomDeleted(d, room);
        return;
      case 'room_invitation':
        this.ctx.emit({ kind: 'notice', level: 'info', text: `${String(d.invited_by ?? 'Someone')} invited you to the private room “${String(d.room_name ?? '')}”.` });
        this.deps.refreshListSoon();
        return;
      case 'leave_room_success':
      case 'invite_user_success':
      case 'add_moderator_success':
      case 'kick_member_success':
      case 'ban_member_success':
      case 'unban_member_success':
      case 'mute_member_success':
      case 'message_sent':
      case 'edit_message_success':
      case 'delete_message_success':
      case 'mark_read_success':
      case 'global_rooms_list':
        return;
      case 'error':
        if (this.deps.changes.isTypingRefusal(d) || this.deps.readMarkers.isRefusal(d)) return;
        this.ctx.emit({ kind: 'notice', level: 'error', text: describeError(d.error_code as string, d.message as string) });
        return;
      default:
        return;
    }
  }

  private onUnavailable(room: RoomState, d: Record<string, unknown>): void {
    room.status = 'unavailable';
    room.adminNode = String(d.admin_node ?? room.adminNode);
    room.notice = describeError('ADMIN_NODE_UNAVAILABLE', undefined, { roomName: room.name, adminNode: room.adminNode });
    this.ctx.emit({ kind: 'room', room });
    this.ctx.emit({ kind: 'notice', level: 'error', text: room.notice, roomId: room.id, key: `avail:${room.id}` });
    this.deps.refreshListSoon();
  }

  private onAvailable(room: RoomState): void {
    // already writable again: a room_host_changed came first and said where the room moved (its notice stays)
    if (room.status !== 'unavailable') return;
    room.status = 'joined';
    room.notice = null;
    this.ctx.emit({ kind: 'room', room });
    this.ctx.emit({ kind: 'notice', level: 'success', text: `Room “${room.name}” is available again.`, roomId: room.id, key: `avail:${room.id}` });
    this.deps.resendOutbox(room);
    this.deps.refreshListSoon();
  }

  private onMember(room: RoomState, joined: boolean, ev: MemberEvent): void {
    const name = String(ev.username ?? '');
    if (!name) return;
    if (joined) {
      if (room.members.has(name)) return;
      room.members.add(name);
      this.ctx.emit({ kind: 'member', room, joined, username: name, text: `${name} joined`, timestamp: ev.timestamp });
      this.ctx.emit({ kind: 'room', room });
      return;
    }
    if (name === this.ctx.username) {
      this.onRemovedSelf(room, ev.reason);
      return;
    }
    if (!room.members.delete(name)) return;
    this.ctx.emit({ kind: 'member', room, joined, username: name, text: describeLeave(name, ev.reason), timestamp: ev.timestamp });
    this.ctx.emit({ kind: 'room', room });
  }

  /** A member_left about ourselves: removed by the server (inactivity) or a stale old connection. */
  private onRemovedSelf(room: RoomState, reason?: string): void {
    if (reason === 'Inactivity') {
      room.status = 'removed';
      room.notice = 'You were removed from this room for inactivity. Join it again to continue.';
      this.ctx.emit({ kind: 'notice', level: 'error', text: room.notice, roomId: room.id });
      this.ctx.emit({ kind: 'room', room });
      return;
    }
    // "User disconnected" / "Node unreachable" about us: our previous connection was dropped by
    // the cluster after we had already resumed here. Join again (from where we are) to stay in,
    // but not in a loop.
    const now = Date.now();
    const recent = (this.autoRejoins.get(room.id) ?? []).filter((t) => now - t < 60000);
    if (recent.length >= AUTO_REJOINS_PER_MINUTE) {
      room.status = 'removed';
      room.notice = `You were removed from this room (${reason ?? 'no reason given'}). Join it again to continue.`;
      this.ctx.emit({ kind: 'notice', level: 'error', text: room.notice, roomId: room.id });
      this.ctx.emit({ kind: 'room', room });
      return;
    }
    recent.push(now);
    this.autoRejoins.set(room.id, recent);
    this.deps.rejoin(room);
  }
}
