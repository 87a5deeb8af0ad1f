// Which rooms we are in: joining (fresh, or resuming from the last sequence shown), joining again
// after a reconnect or while a room's host is down, leaving, and letting go of rooms that are gone.

import { describeError, describeWaitingForHost } from '../format';
import type { ClientRequestMap, Frame, JoinRoomSuccess } from '../protocol';
import { DisconnectedError } from './pending-requests';
import { newRoomState, type RoomHint, type RoomState } from './room-state';
import type { SessionContext } from './session-context';
import { KeyedTimers } from './timers';

/** The server replays at most this many messages on a plain join. */
const JOIN_HISTORY = 100;
/** How long to wait before joining again a room whose host was down. */
const REJOIN_UNAVAILABLE_MS = 3000;
/** How long a first join refused as retryable keeps trying before the user is told. */
const FIRST_JOIN_RETRY_MS = 10000;
/** A refusal marked retryable (the room's host is switching) comes back sooner: its retry_after_ms, at least this. */
const REJOIN_RETRYABLE_MIN_MS = 100;

export interface RoomMembershipDeps {
  /** Records the host (and epoch) a join reply names. */
  hostJoined(room: RoomState, adminNode: string | undefined, epoch: unknown): void;
  cancelGapRepair(roomId: string): void;
  resendOutbox(room: RoomState): void;
  refreshListSoon(): void;
  /** Drops a deleted room from the room list. */
  forgetListedRoom(roomId: string): void;
  /** A join reply's read marker and unread count. */
  readJoined(room: RoomState, reply: Record<string, unknown>): void;
  /** A join reply's moderators and banned names. */
  rolesJoined(room: RoomState, reply: Record<string, unknown>): void;
}

export class RoomMembership {
  private readonly ctx: SessionContext;
  private readonly deps: RoomMembershipDeps;
  private readonly rejoins: KeyedTimers;

  constructor(ctx: SessionContext, deps: RoomMembershipDeps) {
    this.ctx = ctx;
    this.deps = deps;
    this.rejoins = new KeyedTimers(ctx.timers);
  }

  /**
   * Joins a room (or re-joins, resuming from the last sequence shown). Throws a readable Error. A
   * first join refused as retryable (the room's host is switching) is tried again for a while, so
   * a click during a failover just takes a little longer; a rejoin has its own retry (scheduleRejoin).
   */
  async join(roomId: string, hint?: RoomHint): Promise<RoomState> {
    for (let waited = 0; ; ) {
      try {
        return await this.joinOnce(roomId, hint);
      } catch (err) {
        const retryAfterMs = (err as { retryAfterMs?: number }).retryAfterMs;
        if (retryAfterMs === undefined || waited >= FIRST_JOIN_RETRY_MS || this.ctx.rooms.has(roomId)) throw err;
        await new Promise<void>((resolve) => this.ctx.timers.set(resolve, retryAfterMs));
        waited += retryAfterMs;
      }
    }
  }

  private async joinOnce(roomId: string, hint?: RoomHint): Promise<RoomState> {
    let room = this.ctx.rooms.get(roomId);
    if (!room) {
      room = newRoomState(roomId, hint);
      this.ctx.rooms.set(roomId, room);
    }
    room.status = 'joining';
    const r = room;
    const resume = r.buffer.isAnchored && r.buffer.lastSeq > 0 ? r.buffer.lastSeq : undefined;
    const data: ClientRequestMap['join_room'] = { room_id: roomId, username: this.ctx.username };
    if (resume !== undefined) data.since_sequence = resume;
    else data.history_limit = JOIN_HISTORY; // a plain join replays the whole room (for the reference client); we page older ones on demand
    let frame: Frame;
    try {
      frame = await this.ctx.request(
        { type: 'join_room', data },
        { types: ['join_room_success', 'join_room_error'], roomId, onFrame: (f) => this.onJoinReply(r, f, resume) },
      );
    } catch (err) {
      if (!(err instanceof DisconnectedError) && !r.buffer.isAnchored) this.ctx.rooms.delete(roomId);
      throw err;
    }
    if (frame.type === 'join_room_success') return r;
    const d = (frame.data ?? {}) as Record<string, unknown>;
    const text =
      frame.type === 'join_room_error'
        ? describeError(d.error_code as string, d.error as string, { roomName: r.name, adminNode: r.adminNode })
        : describeError(d.error_code as string, d.message as string);
    throw Object.assign(new Error(text), { code: d.error_code, ...(d.retryable === true ? { retryAfterMs: rejoinDelay(d) } : {}) });
  }

  /**
   * Our direct conversation with `other`: the server derives its room id and answers as for a join,
   * so the room is known here only from the reply (handled before the replay that follows it).
   * After that it is a room like any other (rejoined by id after a reconnect).
   */
  async openDirect(other: string): Promise<RoomState> {
    let opened: RoomState | undefined;
    const frame = await this.ctx.request(
      { type: 'open_direct', data: { username: this.ctx.username, with: other, history_limit: JOIN_HISTORY } },
      {
        types: ['join_room_success'],
        onFrame: (f) => {
          const id = (f.data as { room_id?: unknown } | undefined)?.room_id;
          if (f.type !== 'join_room_success' || typeof id !== 'string') return;
          opened = this.ctx.rooms.get(id) ?? newRoomState(id);
          this.ctx.rooms.set(id, opened);
          this.onJoinReply(opened, f, undefined);
        },
      },
    );
    if (frame.type === 'join_room_success' && opened) return opened;
    const d = (frame.data ?? {}) as Record<string, unknown>;
    throw new Error(describeError(d.error_code as string, d.message as string));
  }

  /** After a reconnect: joins again every room we are still in. */
  resumeAll(): void {
    for (const room of [...this.ctx.rooms.values()]) {
      if (room.status === 'removed' || room.status === 'left' || room.status === 'deleted') continue;
      this.rejoin(room);
    }
  }

  rejoin(room: RoomState): void {
    this.join(room.id).catch((err: unknown) => {
      if (err instanceof DisconnectedError) return;
      if (this.ctx.rooms.get(room.id) === room && room.status !== 'unavailable') {
        this.ctx.emit({ kind: 'notice', level: 'error', text: (err as Error).message, roomId: room.id });
      }
    });
  }

  leave(roomId: string): void {
    const room = this.ctx.rooms.get(roomId);
    if (!room) return;
    this.ctx.send({ type: 'leave_room', data: { room_id: roomId, username: this.ctx.username } });
    room.status = 'left';
    this.ctx.rooms.delete(roomId);
    this.cancelTimers(roomId);
    this.ctx.emit({ kind: 'gone', room });
    this.deps.refreshListSoon();
  }

  /** The room was deleted, or we were removed from it: stop tracking it and tell the UI once. */
  markGone(room: RoomState, status: 'deleted' | 'removed', text: string | null): void {
    if (room.status === 'deleted') return;
    room.status = status;
    room.deleting = false;
    room.notice = text;
    this.ctx.rooms.delete(room.id);
    this.cancelTimers(room.id);
    if (text) this.ctx.emit({ kind: 'notice', level: status === 'deleted' ? 'info' : 'error', text, roomId: room.id, key: `delete:${room.id}` });
    if (status === 'deleted') this.deps.forgetListedRoom(room.id);
    this.ctx.emit({ kind: 'gone', room });
    this.deps.refreshListSoon();
  }

  cancelAllRejoins(): void {
    this.rejoins.cancelAll();
  }

  /** Runs synchronously on the join reply, before the history frames that follow it. */
  private onJoinReply(room: RoomState, frame: Frame, resume: number | undefined): void {
    const d = (frame.data ?? {}) as Record<string, unknown>;
    if (frame.type !== 'join_room_success') {
      const code = d.error_code as string | undefined;
      if (code === 'ROOM_NOT_FOUND' && room.buffer.isAnchored) {
        this.markGone(room, 'deleted', `Room “${room.name}” no longer exists (it was deleted).`);
      } else if ((code === 'ADMIN_NODE_UNAVAILABLE' || code === 'USERNAME_TAKEN') && room.buffer.isAnchored) {
        // USERNAME_TAKEN on a rejoin: our previous socket is not yet seen closed; it will be soon.
        room.status = 'unavailable';
        room.notice =
          d.retryable === true
            ? describeWaitingForHost(room.name, 'joining again in a moment.')
            : describeError(code, undefined, { roomName: room.name, adminNode: room.adminNode });
        this.ctx.emit({ kind: 'room', room });
        this.scheduleRejoin(room, rejoinDelay(d));
      } else if (!room.buffer.isAnchored) {
        this.ctx.rooms.delete(room.id);
      }
      return;
    }
    const s = d as unknown as JoinRoomSuccess;
    room.name = s.room_name ?? room.name;
    room.description = s.description ?? null;
    this.deps.hostJoined(room, s.admin_node, (d as { host_epoch?: unknown }).host_epoch);
    if (s.creator_id !== undefined) room.creatorId = s.creator_id;
    room.private = s.private === true;
    room.direct = s.direct === true;
    this.deps.rolesJoined(room, d);
    room.members = new Set(Array.isArray(s.members) ? s.members : []);
    room.members.add(this.ctx.username);
    room.status = 'joined';
    room.notice = room.deleting ? room.notice : null;
    const first = typeof s.first_sequence === 'number' ? s.first_sequence : undefined;
    const last = typeof s.last_sequence === 'number' ? s.last_sequence : undefined;
    if (first !== undefined) room.firstSequence = Math.max(1, first);
    if (resume === undefined) {
      // Fresh join: we asked for the last JOIN_HISTORY messages (history_limit); start just before them.
      const base = last !== undefined ? Math.max(0, last - JOIN_HISTORY, (first ?? 1) - 1) : null;
      room.buffer.reset(base);
      if (base !== null && last !== undefined && last > 0) {
        room.oldestShown = null;
      }
      if (last === 0) room.hasOlder = false;
    }
    this.ctx.emit({ kind: 'room', room });
    this.deps.readJoined(room, d);
    // Messages sent while we were away: send them again (the server de-duplicates by id).
    this.ctx.timers.set(() => this.deps.resendOutbox(room), 0);
  }

  private scheduleRejoin(room: RoomState, ms: number): void {
    this.rejoins.schedule(room.id, ms, () => {
      if (this.ctx.rooms.get(room.id) === room && room.status === 'unavailable' && this.ctx.isOpen()) this.rejoin(room);
    });
  }

  private cancelTimers(roomId: string): void {
    this.deps.cancelGapRepair(roomId);
    this.rejoins.cancel(roomId);
  }
}

/** When to join again after a refused rejoin: soon if the server says the refusal is temporary. */
function rejoinDelay(d: Record<string, unknown>): number {
  if (d.retryable !== true) return REJOIN_UNAVAILABLE_MS;
  const asked = typeof d.retry_after_ms === 'number' && Number.isFinite(d.retry_after_ms) ? d.retry_after_ms : 500;
  return Math.min(REJOIN_UNAVAILABLE_MS, Math.max(REJOIN_RETRYABLE_MIN_MS, asked));
}
