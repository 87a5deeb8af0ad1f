// The chat session: one WebSocket to one node at a time, the rooms this user is in, request/reply
// matching, ordered delivery per room, reconnect with resume. No DOM access: the socket comes
// from a factory, so the same code runs in the browser and in node tests.

import { SequenceBuffer } from './sequence-buffer';
import { Backoff, NodeRotation, ReconnectPlanner, wsUrl } from './reconnect';
import { describeError, describeLeave, makeClientMessageId } from './format';
import type {
  ChatMessage,
  Frame,
  GlobalRoomsList,
  HistoryReply,
  JoinRoomSuccess,
  MemberEvent,
  RoomCreated,
} from './protocol';

export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}

export type SocketFactory = (url: string) => SocketLike;

export type ConnStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

export type RoomStatus = 'joining' | 'joined' | 'unavailable' | 'removed' | 'deleted' | 'left';

export interface OutgoingMessage {
  clientId: string;
  content: string;
  state: 'sending' | 'failed';
  error?: string;
}

export interface RoomState {
  id: string;
  name: string;
  description: string | null;
  adminNode: string;
  creatorId: string | null;
  members: Set<string>;
  status: RoomStatus;
  /** Set while a two-phase-commit deletion is running. */
  deleting: boolean;
  buffer: SequenceBuffer<ChatMessage>;
  /** Lowest sequence number shown (for loading older history), null if nothing shown. */
  oldestShown: number | null;
  firstSequence: number;
  hasOlder: boolean;
  loadingOlder: boolean;
  outbox: Map<string, OutgoingMessage>;
  notice: string | null;
}

export type Level = 'info' | 'success' | 'error';

export type SessionEvent =
  | { kind: 'status'; status: ConnStatus; node: string; delayMs?: number }
  | { kind: 'rooms'; list: GlobalRoomsList }
  | { kind: 'room'; room: RoomState }
  | { kind: 'messages'; room: RoomState; messages: ChatMessage[] }
  | { kind: 'older'; room: RoomState; messages: ChatMessage[] }
  | { kind: 'member'; room: RoomState; joined: boolean; username: string; text: string; timestamp: string }
  /** `key`: a later notice with the same key replaces the earlier one (e.g. unavailable -> available). */
  | { kind: 'notice'; level: Level; text: string; roomId?: string; key?: string }
  | { kind: 'gone'; room: RoomState };

export interface SessionOptions {
  username: string;
  nodes: string[];
  /** Node to connect to first (defaults to the first of `nodes`). */
  start?: string;
  createSocket: SocketFactory;
  secure?: boolean;
  backoff?: Backoff;
  requestTimeoutMs?: number;
  gapRepairDelayMs?: number;
  listRefreshMs?: number;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
  onEvent: (ev: SessionEvent) => void;
}

interface Pending {
  types: readonly string[];
  roomId?: string;
  clientId?: string;
  onFrame?: (frame: Frame) => void;
  resolve: (frame: Frame) => void;
  reject: (err: Error) => void;
  timer: unknown;
}

const OPEN = 1;
const HISTORY_PAGE = 50;
/** The server replays at most this many messages on a plain join. */
const JOIN_HISTORY = 100;

export class DisconnectedError extends Error {
  constructor() {
    super('Not connected');
  }
}

export class ChatSession {
  readonly username: string;
  readonly rooms = new Map<string, RoomState>();
  status: ConnStatus = 'closed';
  node: string;
  lastRoomsList: GlobalRoomsList | null = null;

  private socket: SocketLike | null = null;
  private readonly planner: ReconnectPlanner;
  private readonly pending: Pending[] = [];
  private readonly opts: SessionOptions;
  private readonly setT: (fn: () => void, ms: number) => unknown;
  private readonly clearT: (h: unknown) => void;
  private reconnectTimer: unknown = null;
  private readonly gapTimers = new Map<string, unknown>();
  private readonly rejoinTimers = new Map<string, unknown>();
  private closedByUser = false;
  private everOpened = false;
  private listTimer: unknown = null;
  private nextNode: string | null = null;
  private readonly autoRejoins = new Map<string, number[]>();
  /** Rooms this user asked to delete: id -> name, until the outcome arrives. */
  private readonly deleting = new Map<string, string>();

  constructor(opts: SessionOptions) {
    this.opts = opts;
    this.username = opts.username;
    const rotation = new NodeRotation(opts.nodes, opts.start);
    this.node = rotation.current;
    this.planner = new ReconnectPlanner(rotation, opts.backoff ?? new Backoff());
    this.setT = opts.setTimeout ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearT = opts.clearTimeout ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  // ---- connection -------------------------------------------------------------------------

  connect(): void {
    this.closedByUser = false;
    this.open(this.node, 'connecting');
  }

  /** Closes for good (no reconnect). */
  close(): void {
    this.closedByUser = true;
    if (this.reconnectTimer !== null) this.clearT(this.reconnectTimer);
    this.reconnectTimer = null;
    if (this.listTimer !== null) this.clearT(this.listTimer);
    this.listTimer = null;
    for (const t of [...this.gapTimers.values(), ...this.rejoinTimers.values()]) this.clearT(t);
    this.gapTimers.clear();
    this.rejoinTimers.clear();
    const s = this.socket;
    this.socket = null;
    this.failPending();
    if (s) {
      s.onclose = s.onerror = s.onmessage = s.onopen = null;
      try {
        s.close(1000, 'bye');
      } catch {
        /* already closed */
      }
    }
    this.setStatus('closed');
  }

  /** Skips the backoff wait: tries the next node at once (e.g. the browser came back online). */
  reconnectNow(): void {
    if (this.closedByUser || this.reconnectTimer === null) return;
    this.clearT(this.reconnectTimer);
    this.reconnectTimer = null;
    this.open(this.nextNode ?? this.node, 'reconnecting');
  }

  /** Drops the current connection as if the network failed (used by the UI's "reconnect"). */
  dropConnection(): void {
    this.socket?.close(4000, 'client reconnect');
  }

  private open(node: string, status: ConnStatus): void {
    this.node = node;
    this.setStatus(status);
    let socket: SocketLike;
    try {
      socket = this.opts.createSocket(wsUrl(node, this.opts.secure));
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.planner.connected();
      const resumed = this.everOpened;
      this.everOpened = true;
      this.setStatus('open');
      if (resumed) this.emit({ kind: 'notice', level: 'success', text: `Reconnected to ${node}.` });
      this.resumeRooms();
      this.discover().catch(() => undefined);
      this.scheduleListRefresh();
    };
    socket.onmessage = (ev) => {
      if (this.socket !== socket) return;
      this.onData(ev.data);
    };
    socket.onerror = () => undefined; // a close event always follows
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.failPending();
      if (this.closedByUser) return;
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.closedByUser || this.reconnectTimer !== null) return;
    for (const room of this.rooms.values()) if (room.status === 'joined') room.status = 'joining';
    const { node, delayMs } = this.planner.next();
    this.nextNode = node;
    this.status = 'reconnecting';
    this.emit({ kind: 'status', status: 'reconnecting', node, delayMs });
    this.reconnectTimer = this.setT(() => {
      this.reconnectTimer = null;
      this.open(node, 'reconnecting');
    }, delayMs);
  }

  private setStatus(status: ConnStatus): void {
    this.status = status;
    this.emit({ kind: 'status', status, node: this.node });
  }

  private emit(ev: SessionEvent): void {
    try {
      this.opts.onEvent(ev);
    } catch (err) {
      // A rendering bug must not break the protocol state machine.
      setTimeout(() => {
        throw err;
      }, 0);
    }
  }

  // ---- requests ---------------------------------------------------------------------------

  private send(frame: Frame): boolean {
    const s = this.socket;
    if (!s || s.readyState !== OPEN || this.status !== 'open') return false;
    s.send(JSON.stringify(frame));
    return true;
  }

  private request(frame: Frame, expect: Omit<Pending, 'resolve' | 'reject' | 'timer'>): Promise<Frame> {
    return new Promise<Frame>((resolve, reject) => {
      if (!this.send(frame)) {
        reject(new DisconnectedError());
        return;
      }
      const entry: Pending = { ...expect, resolve, reject, timer: null };
      entry.timer = this.setT(() => {
        const i = this.pending.indexOf(entry);
        if (i >= 0) this.pending.splice(i, 1);
        reject(new Error(`No reply to ${frame.type}`));
      }, this.opts.requestTimeoutMs ?? 15000);
      this.pending.push(entry);
    });
  }

  private failPending(): void {
    const all = this.pending.splice(0);
    for (const p of all) {
      this.clearT(p.timer);
      p.reject(new DisconnectedError());
    }
  }

  private matchPending(frame: Frame): Pending | undefined {
    const d = frame.data ?? {};
    if (frame.type === 'error') return this.pending[0];
    return this.pending.find(
      (p) =>
        p.types.includes(frame.type) &&
        (p.roomId === undefined || d.room_id === undefined || d.room_id === p.roomId) &&
        (p.clientId === undefined || d.client_message_id === undefined || d.client_message_id === p.clientId),
    );
  }

  // ---- incoming frames --------------------------------------------------------------------

  private onData(raw: unknown): void {
    let frame: Frame;
    try {
      frame = JSON.parse(typeof raw === 'string' ? raw : String(raw)) as Frame;
    } catch {
      return;
    }
    if (!frame || typeof frame.type !== 'string') return;
    const p = this.matchPending(frame);
    if (p) {
      this.pending.splice(this.pending.indexOf(p), 1);
      this.clearT(p.timer);
      p.onFrame?.(frame);
      p.resolve(frame);
      return;
    }
    this.onEventFrame(frame);
  }

  private onEventFrame(frame: Frame): void {
    const d = (frame.data ?? {}) as Record<string, unknown>;
    const room = typeof d.room_id === 'string' ? this.rooms.get(d.room_id) : undefined;
    switch (frame.type) {
      case 'new_message':
        if (room) this.acceptMessages(room, [d as unknown as ChatMessage]);
        return;
      case 'member_joined':
      case 'member_left':
        if (room) this.onMember(room, frame.type === 'member_joined', d as unknown as MemberEvent);
        return;
      case 'room_unavailable':
        if (!room) return;
        room.status = 'unavailable';
        room.adminNode = String(d.admin_node ?? room.adminNode);
        room.notice = describeError('ADMIN_NODE_UNAVAILABLE', undefined, { roomName: room.name, adminNode: room.adminNode });
        this.emit({ kind: 'room', room });
        this.emit({ kind: 'notice', level: 'error', text: room.notice, roomId: room.id, key: `avail:${room.id}` });
        this.refreshListSoon();
        return;
      case 'room_available':
        if (!room) return;
        if (room.status === 'unavailable') room.status = 'joined';
        room.notice = null;
        this.emit({ kind: 'room', room });
        this.emit({ kind: 'notice', level: 'success', text: `Room “${room.name}” is available again.`, roomId: room.id, key: `avail:${room.id}` });
        this.resendOutbox(room);
        this.refreshListSoon();
        return;
      case 'delete_room_initiated':
        if (!room || room.deleting) return;
        room.deleting = true;
        room.notice =
          d.initiator && d.initiator !== this.username
            ? `${String(d.initiator)} is deleting this room…`
            : 'Deleting this room (two-phase commit in progress)…';
        this.emit({ kind: 'room', room });
        return;
      case 'delete_room_success': {
        const id = String(d.room_id);
        const name = room?.name ?? this.deleting.get(id) ?? id;
        this.deleting.delete(id);
        this.emit({ kind: 'notice', level: 'success', text: `Room “${name}” deleted: every node committed.`, roomId: id, key: `delete:${id}` });
        if (room) this.markGone(room, 'deleted', null);
        return;
      }
      case 'delete_room_failed':
        this.deleting.delete(String(d.room_id));
        if (room) {
          room.deleting = false;
          room.notice = null;
          this.emit({ kind: 'room', room });
        }
        this.emit({
          kind: 'notice',
          level: 'error',
          text: describeError(String(d.error_code ?? 'DELETION_FAILED'), String(d.reason ?? ''), { roomName: room?.name }),
          roomId: d.room_id as string,
        });
        return;
      case 'delete_room_cancelled':
        if (!room) return;
        room.deleting = false;
        room.notice = null;
        this.emit({ kind: 'room', room });
        this.emit({ kind: 'notice', level: 'info', text: `Deletion of “${room.name}” was cancelled; the room is kept.`, roomId: room.id });
        return;
      case 'room_deleted':
        if (!room) {
          if (this.lastRoomsList) {
            this.lastRoomsList.rooms = this.lastRoomsList.rooms.filter((r) => r.room_id !== d.room_id);
            this.emit({ kind: 'rooms', list: this.lastRoomsList });
          }
          this.refreshListSoon();
          return;
        }
        // Our own deletion: delete_room_success says it (once); others get told here.
        this.markGone(room, 'deleted', this.deleting.has(room.id) ? null : `Room “${room.name}” has been deleted.`);
        return;
      case 'leave_room_success':
      case 'message_sent':
      case 'global_rooms_list':
        return;
      case 'error':
        this.emit({ kind: 'notice', level: 'error', text: describeError(d.error_code as string, d.message as string) });
        return;
      default:
        return;
    }
  }

  private markGone(room: RoomState, status: 'deleted' | 'removed', text: string | null): void {
    if (room.status === 'deleted') return;
    room.status = status;
    room.deleting = false;
    room.notice = text;
    this.rooms.delete(room.id);
    this.clearRoomTimers(room.id);
    if (text) this.emit({ kind: 'notice', level: status === 'deleted' ? 'info' : 'error', text, roomId: room.id, key: `delete:${room.id}` });
    if (status === 'deleted' && this.lastRoomsList) {
      this.lastRoomsList.rooms = this.lastRoomsList.rooms.filter((r) => r.room_id !== room.id);
      this.emit({ kind: 'rooms', list: this.lastRoomsList });
    }
    this.emit({ kind: 'gone', room });
    this.refreshListSoon();
  }

  /** Keeps the room list (hosts, node availability) fresh while connected. */
  private scheduleListRefresh(): void {
    if (this.listTimer !== null) this.clearT(this.listTimer);
    this.listTimer = this.setT(() => {
      this.listTimer = null;
      if (this.status !== 'open') return;
      this.discover().catch(() => undefined);
      this.scheduleListRefresh();
    }, this.opts.listRefreshMs ?? 10000);
  }

  private refreshListSoon(): void {
    this.setT(() => this.discover().catch(() => undefined), 200);
  }

  private onMember(room: RoomState, joined: boolean, ev: MemberEvent): void {
    const name = String(ev.username ?? '');
    if (!name) return;
    if (joined) {
      if (room.members.has(name)) return;
      room.members.add(name);
      this.emit({ kind: 'member', room, joined, username: name, text: `${name} joined`, timestamp: ev.timestamp });
      this.emit({ kind: 'room', room });
      return;
    }
    if (name === this.username) {
      this.onRemovedSelf(room, ev.reason);
      return;
    }
    if (!room.members.delete(name)) return;
    this.emit({ kind: 'member', room, joined, username: name, text: describeLeave(name, ev.reason), timestamp: ev.timestamp });
    this.emit({ kind: 'room', room });
  }

  /** A member_left about ourselves: removed by the server (inactivity) or a stale old connection. */
  private onRemovedSelf(room: RoomState, reason?: string): void {
    if (reason === 'Inactivity') {
      room.status = 'removed';
      room.notice = 'You were removed from this room for inactivity. Join it again to continue.';
      this.emit({ kind: 'notice', level: 'error', text: room.notice, roomId: room.id });
      this.emit({ kind: 'room', room });
      return;
    }
    // "User disconnected" / "Node unreachable" about us: our previous connection was dropped by
    // the cluster after we had already resumed here. Join again (from where we are) to stay in,
    // but not in a loop: at most 3 times a minute.
    const now = Date.now();
    const recent = (this.autoRejoins.get(room.id) ?? []).filter((t) => now - t < 60000);
    if (recent.length >= 3) {
      room.status = 'removed';
      room.notice = `You were removed from this room (${reason ?? 'no reason given'}). Join it again to continue.`;
      this.emit({ kind: 'notice', level: 'error', text: room.notice, roomId: room.id });
      this.emit({ kind: 'room', room });
      return;
    }
    recent.push(now);
    this.autoRejoins.set(room.id, recent);
    this.rejoin(room);
  }

  // ---- rooms --------------------------------------------------------------------------------

  async discover(): Promise<GlobalRoomsList> {
    const frame = await this.request({ type: 'discover_rooms' }, { types: ['global_rooms_list'] });
    if (frame.type !== 'global_rooms_list') throw new Error(describeError((frame.data as any)?.error_code, (frame.data as any)?.message));
    const list = frame.data as unknown as GlobalRoomsList;
    list.rooms = Array.isArray(list.rooms) ? list.rooms : [];
    this.lastRoomsList = list;
    this.emit({ kind: 'rooms', list });
    return list;
  }

  async createRoom(name: string, description: string | null): Promise<RoomCreated> {
    const frame = await this.request(
      { type: 'create_room', data: { room_name: name, creator_id: this.username, description } },
      { types: ['room_created'] },
    );
    const d = (frame.data ?? {}) as Record<string, unknown>;
    if (frame.type !== 'room_created' || d.success === false || typeof d.room_id !== 'string') {
      throw new Error(describeError(d.error_code as string, (d.message as string) ?? 'Could not create the room'));
    }
    return d as unknown as RoomCreated;
  }

  /** Joins a room (or re-joins, resuming from the last sequence shown). Throws a readable Error. */
  async join(roomId: string, hint?: { name?: string; description?: string | null; adminNode?: string; creatorId?: string }): Promise<RoomState> {
    let room = this.rooms.get(roomId);
    if (!room) {
      room = this.newRoom(roomId, hint);
      this.rooms.set(roomId, room);
    }
    room.status = 'joining';
    const r = room;
    const resume = r.buffer.isAnchored && r.buffer.lastSeq > 0 ? r.buffer.lastSeq : undefined;
    const data: Record<string, unknown> = { room_id: roomId, username: this.username };
    if (resume !== undefined) data.since_sequence = resume;
    let frame: Frame;
    try {
      frame = await this.request(
        { type: 'join_room', data },
        { types: ['join_room_success', 'join_room_error'], roomId, onFrame: (f) => this.onJoinReply(r, f, resume) },
      );
    } catch (err) {
      if (!(err instanceof DisconnectedError) && !r.buffer.isAnchored) this.rooms.delete(roomId);
      throw err;
    }
    if (frame.type === 'join_room_success') return r;
    const d = (frame.data ?? {}) as Record<string, unknown>;
    const text =
      frame.type === 'join_room_error'
        ? describeError(d.error_code as string, d.error as string, { roomName: r.name, adminNode: r.adminNode })
        : describeError(d.error_code as string, d.message as string);
    throw Object.assign(new Error(text), { code: d.error_code });
  }

  /** Runs synchronously on the join reply, before the history frames that follow it. */
  private onJoinReply(room: RoomState, frame: Frame, resume: number | undefined): void {
    const d = (frame.data ?? {}) as Record<string, unknown>;
    if (frame.type !== 'join_room_success') {
      const code = d.error_code as string | undefined;
      if (code === 'ROOM_NOT_FOUND' && room.buffer.isAnchored) {
        this.markGone(room, 'deleted', `Room “${room.name}” no longer exists (it was deleted).`);
      } else if (code === 'ADMIN_NODE_UNAVAILABLE' && room.buffer.isAnchored) {
        room.status = 'unavailable';
        room.notice = describeError(code, undefined, { roomName: room.name, adminNode: room.adminNode });
        this.emit({ kind: 'room', room });
        this.scheduleRejoin(room, 3000);
      } else if (!room.buffer.isAnchored) {
        this.rooms.delete(room.id);
      }
      return;
    }
    const s = d as unknown as JoinRoomSuccess;
    room.name = s.room_name ?? room.name;
    room.description = s.description ?? null;
    room.adminNode = s.admin_node ?? room.adminNode;
    if (s.creator_id !== undefined) room.creatorId = s.creator_id;
    room.members = new Set(Array.isArray(s.members) ? s.members : []);
    room.members.add(this.username);
    room.status = 'joined';
    room.notice = room.deleting ? room.notice : null;
    const first = typeof s.first_sequence === 'number' ? s.first_sequence : undefined;
    const last = typeof s.last_sequence === 'number' ? s.last_sequence : undefined;
    if (first !== undefined) room.firstSequence = Math.max(1, first);
    if (resume === undefined) {
      // Fresh join: the server replays the last JOIN_HISTORY messages; start just before them.
      const base = last !== undefined ? Math.max(0, last - JOIN_HISTORY, (first ?? 1) - 1) : null;
      room.buffer.reset(base);
      if (base !== null && last !== undefined && last > 0) {
        room.oldestShown = null;
      }
      if (last === 0) room.hasOlder = false;
    }
    this.emit({ kind: 'room', room });
    // Messages sent while we were away: send them again (the server de-duplicates by id).
    this.setT(() => this.resendOutbox(room), 0);
  }

  private newRoom(roomId: string, hint?: { name?: string; description?: string | null; adminNode?: string; creatorId?: string }): RoomState {
    return {
      id: roomId,
      name: hint?.name ?? roomId,
      description: hint?.description ?? null,
      adminNode: hint?.adminNode ?? '',
      creatorId: hint?.creatorId ?? null,
      members: new Set(),
      status: 'joining',
      deleting: false,
      buffer: new SequenceBuffer<ChatMessage>(null),
      oldestShown: null,
      firstSequence: 1,
      hasOlder: false,
      loadingOlder: false,
      outbox: new Map(),
      notice: null,
    };
  }

  private acceptMessages(room: RoomState, messages: ChatMessage[]): void {
    const ready = room.buffer.addAll(messages.filter((m) => m && m.room_id === room.id));
    if (ready.length > 0) {
      if (room.oldestShown === null || ready[0].sequence_number < room.oldestShown) {
        room.oldestShown = ready[0].sequence_number;
        room.hasOlder = room.oldestShown > room.firstSequence;
      }
      this.emit({ kind: 'messages', room, messages: ready });
    }
    if (room.buffer.hasGap) this.scheduleGapRepair(room);
  }

  /** A gap that persists is filled from the server's history (after_sequence). */
  private scheduleGapRepair(room: RoomState): void {
    if (this.gapTimers.has(room.id)) return;
    this.gapTimers.set(
      room.id,
      this.setT(() => {
        this.gapTimers.delete(room.id);
        void this.repairGap(room);
      }, this.opts.gapRepairDelayMs ?? 1000),
    );
  }

  private async repairGap(room: RoomState): Promise<void> {
    const gap = room.buffer.gap();
    if (!gap || this.rooms.get(room.id) !== room) return;
    try {
      const frame = await this.request(
        { type: 'get_history', data: { room_id: room.id, after_sequence: room.buffer.lastSeq, limit: 200 } },
        { types: ['history', 'history_error'], roomId: room.id },
      );
      if (frame.type === 'history') {
        const h = frame.data as unknown as HistoryReply;
        const before = room.buffer.lastSeq;
        this.acceptMessages(room, Array.isArray(h.messages) ? h.messages : []);
        if (room.buffer.lastSeq === before && room.buffer.hasGap) {
          // The server has nothing for the gap: stop waiting for it.
          const ready = room.buffer.skipGap();
          if (ready.length) this.emit({ kind: 'messages', room, messages: ready });
        }
      } else {
        const ready = room.buffer.skipGap();
        if (ready.length) this.emit({ kind: 'messages', room, messages: ready });
      }
    } catch {
      // disconnected: resume will replay from lastSeq anyway
    }
    if (room.buffer.hasGap) this.scheduleGapRepair(room);
  }

  /** Loads a page of older history above the oldest message shown. */
  async loadOlder(roomId: string): Promise<number> {
    const room = this.rooms.get(roomId);
    if (!room || room.loadingOlder || !room.hasOlder || room.oldestShown === null) return 0;
    room.loadingOlder = true;
    try {
      const before = room.oldestShown;
      const frame = await this.request(
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
      this.emit({ kind: 'older', room, messages: older });
      return older.length;
    } finally {
      room.loadingOlder = false;
    }
  }

  /** Queues a message; it is (re)sent until the server confirms it. Returns the client id. */
  sendMessage(roomId: string, content: string): string {
    const room = this.rooms.get(roomId);
    if (!room) throw new Error('You are not in this room.');
    const out: OutgoingMessage = { clientId: makeClientMessageId(), content, state: 'sending' };
    room.outbox.set(out.clientId, out);
    this.emit({ kind: 'room', room });
    void this.transmit(room, out);
    return out.clientId;
  }

  /** Removes a failed message from the outbox, or retries it. */
  retryMessage(roomId: string, clientId: string, retry: boolean): void {
    const room = this.rooms.get(roomId);
    const out = room?.outbox.get(clientId);
    if (!room || !out) return;
    if (!retry) room.outbox.delete(clientId);
    else {
      out.state = 'sending';
      out.error = undefined;
      void this.transmit(room, out);
    }
    this.emit({ kind: 'room', room });
  }

  private resendOutbox(room: RoomState): void {
    if (room.status !== 'joined' || this.status !== 'open') return;
    for (const out of room.outbox.values()) if (out.state === 'sending') void this.transmit(room, out);
  }

  private async transmit(room: RoomState, out: OutgoingMessage): Promise<void> {
    if (room.status === 'joining' || this.status !== 'open') return; // sent on resume
    if (room.status !== 'joined' && room.status !== 'unavailable') {
      out.state = 'failed';
      out.error = room.notice ?? 'You are not in this room.';
      this.emit({ kind: 'room', room });
      return;
    }
    let frame: Frame;
    try {
      frame = await this.request(
        { type: 'send_message', data: { room_id: room.id, username: this.username, content: out.content, client_message_id: out.clientId } },
        { types: ['message_sent', 'message_error'], roomId: room.id, clientId: out.clientId },
      );
    } catch (err) {
      if (err instanceof DisconnectedError) return; // stays queued, resent after reconnect
      out.state = 'failed';
      out.error = 'No answer from the server.';
      this.emit({ kind: 'room', room });
      return;
    }
    const d = (frame.data ?? {}) as Record<string, unknown>;
    if (frame.type === 'message_sent') {
      room.outbox.delete(out.clientId);
      this.emit({ kind: 'room', room });
      return;
    }
    const code = d.error_code as string | undefined;
    const text =
      frame.type === 'message_error'
        ? describeError(code, d.error as string, { roomName: room.name, adminNode: room.adminNode })
        : describeError(code, d.message as string);
    out.state = 'failed';
    out.error = text;
    this.emit({ kind: 'notice', level: 'error', text, roomId: room.id, key: code === 'ADMIN_NODE_UNAVAILABLE' ? `avail:${room.id}` : undefined });
    if (code === 'ADMIN_NODE_UNAVAILABLE' && room.status === 'joined') {
      room.status = 'unavailable';
      room.notice = text;
    } else if (code === 'NOT_MEMBER') {
      room.status = 'removed';
      room.notice = text;
    } else if (code === 'ROOM_NOT_FOUND') {
      this.markGone(room, 'deleted', null);
    }
    this.emit({ kind: 'room', room });
  }

  leave(roomId: string): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    this.send({ type: 'leave_room', data: { room_id: roomId, username: this.username } });
    room.status = 'left';
    this.rooms.delete(roomId);
    this.clearRoomTimers(roomId);
    this.emit({ kind: 'gone', room });
    this.refreshListSoon();
  }

  /** Starts the two-phase-commit deletion; the outcome arrives as events. */
  deleteRoom(roomId: string): boolean {
    const room = this.rooms.get(roomId);
    const ok = this.send({ type: 'delete_room', data: { room_id: roomId, username: this.username } });
    if (!ok) {
      this.emit({ kind: 'notice', level: 'error', text: 'Not connected: cannot delete the room now.' });
      return false;
    }
    if (room) {
      this.deleting.set(roomId, room.name);
      room.deleting = true;
      room.notice = 'Deleting this room (two-phase commit in progress)…';
      this.emit({ kind: 'room', room });
    }
    return true;
  }

  // ---- resume -------------------------------------------------------------------------------

  private resumeRooms(): void {
    for (const room of [...this.rooms.values()]) {
      if (room.status === 'removed' || room.status === 'left' || room.status === 'deleted') continue;
      this.rejoin(room);
    }
  }

  private rejoin(room: RoomState): void {
    this.join(room.id).catch((err: unknown) => {
      if (err instanceof DisconnectedError) return;
      if (this.rooms.get(room.id) === room && room.status !== 'unavailable') {
        this.emit({ kind: 'notice', level: 'error', text: (err as Error).message, roomId: room.id });
      }
    });
  }

  private scheduleRejoin(room: RoomState, ms: number): void {
    if (this.rejoinTimers.has(room.id)) return;
    this.rejoinTimers.set(
      room.id,
      this.setT(() => {
        this.rejoinTimers.delete(room.id);
        if (this.rooms.get(room.id) === room && room.status === 'unavailable' && this.status === 'open') this.rejoin(room);
      }, ms),
    );
  }

  private clearRoomTimers(roomId: string): void {
    for (const m of [this.gapTimers, this.rejoinTimers]) {
      const t = m.get(roomId);
      if (t !== undefined) this.clearT(t);
      m.delete(roomId);
    }
  }
}
