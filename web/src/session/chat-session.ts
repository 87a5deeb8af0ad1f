// The chat session: the public face of the protocol client. It wires together one connection (with
// reconnect), request/reply matching, the rooms this user is in, ordered delivery per room and the
// outbox. No DOM access: the socket comes from a factory, so the same code runs in the browser and
// in node tests.

import { Connection, type SocketFactory } from './connection';
import { inviteToRoom, Moderation, type ModerationDetails, type ModerationRequestType } from './moderation';
import { MessageChanges } from './message-changes';
import { PendingRequests } from './pending-requests';
import { ReadMarkers } from './read-markers';
import { Outbox } from './outbox';
import { RoomDeletion } from './room-deletion';
import { RoomDirectory } from './room-directory';
import { RoomEvents } from './room-events';
import { RoomHistory } from './room-history';
import { RoomHost } from './room-host';
import { RoomMembership } from './room-membership';
import { searchRoom, type SearchPage } from './room-search';
import type { RoomHint, RoomState } from './room-state';
import type { SessionContext } from './session-context';
import type { ConnStatus, SessionEvent } from './session-events';
import { timersFrom } from './timers';
import type { Backoff } from '../reconnect';
import type { GlobalRoomsList, RoomCreated } from '../protocol';

export type { SocketFactory, SocketLike } from './connection';
export type { MessageChange } from './message-changes';
export type { ModerationDetails, ModerationRequestType } from './moderation';
export type { SearchPage } from './room-search';
export type { OutgoingMessage, RoomState, RoomStatus } from './room-state';
export type { ConnStatus, Level, SessionEvent, StatusEvent } from './session-events';
export { DisconnectedError } from './pending-requests';

export interface SessionOptions {
  username: string;
  nodes: string[];
  /** Node to connect to first (defaults to the first of `nodes`). */
  start?: string;
  createSocket: SocketFactory;
  /** Asks a node for its cluster's client addresses (`GET /cluster`), so reconnects can go there too. */
  discoverNodes?: (node: string) => Promise<string[]>;
  secure?: boolean;
  /** Client token (AUTH_MODE=token): its subject is the username. */
  token?: string;
  backoff?: Backoff;
  requestTimeoutMs?: number;
  gapRepairDelayMs?: number;
  listRefreshMs?: number;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
  onEvent: (ev: SessionEvent) => void;
}

export class ChatSession {
  readonly username: string;
  readonly token: string | undefined;
  readonly rooms = new Map<string, RoomState>();

  private readonly connection: Connection;
  private readonly requests: PendingRequests;
  private readonly directory: RoomDirectory;
  private readonly history: RoomHistory;
  private readonly outbox: Outbox;
  private readonly membership: RoomMembership;
  private readonly deletion: RoomDeletion;
  private readonly events: RoomEvents;
  private readonly host: RoomHost;
  private readonly changes: MessageChanges;
  private readonly moderation: Moderation;
  private readonly readMarkers: ReadMarkers;
  private readonly ctx: SessionContext;
  private readonly discoverNodes?: (node: string) => Promise<string[]>;

  constructor(opts: SessionOptions) {
    this.username = opts.username;
    this.token = opts.token;
    this.discoverNodes = opts.discoverNodes;
    const timers = timersFrom(opts);
    const emit = (ev: SessionEvent): void => {
      try {
        opts.onEvent(ev);
      } catch (err) {
        // A rendering bug must not break the protocol state machine.
        setTimeout(() => {
          throw err;
        }, 0);
      }
    };
    this.connection = new Connection(
      { nodes: opts.nodes, start: opts.start, createSocket: opts.createSocket, secure: opts.secure, token: opts.token, backoff: opts.backoff, timers },
      {
        onStatus: emit,
        onOpen: (node, resumed) => this.onOpen(node, resumed, emit),
        onFrame: (frame) => {
          if (!this.requests.settle(frame)) this.events.handle(frame);
        },
        onDisconnected: () => this.requests.failAll(),
        onReconnectPlanned: () => {
          for (const room of this.rooms.values()) if (room.status === 'joined') room.status = 'joining';
        },
      },
    );
    this.requests = new PendingRequests((frame) => this.connection.send(frame), timers, opts.requestTimeoutMs ?? 15000);
    const ctx: SessionContext = {
      username: this.username,
      rooms: this.rooms,
      timers,
      emit,
      isOpen: () => this.connection.isOpen,
      send: (frame) => this.connection.send(frame),
      request: (frame, expect) => this.requests.request(frame, expect),
    };
    this.ctx = ctx;
    this.readMarkers = new ReadMarkers(ctx);
    this.directory = new RoomDirectory(ctx, opts.listRefreshMs ?? 10000);
    this.history = new RoomHistory(ctx, opts.gapRepairDelayMs ?? 1000);
    const listDeps = {
      refreshListSoon: () => this.directory.refreshSoon(),
      forgetListedRoom: (roomId: string) => this.directory.forget(roomId),
    };
    this.host = new RoomHost(ctx, {
      showListedHost: (roomId, adminNode) => this.directory.showHost(roomId, adminNode),
      listedHost: (roomId) => this.directory.hostOf(roomId),
      resendOutbox: (room) => this.outbox.resend(room),
      refreshListSoon: listDeps.refreshListSoon,
    });
    this.membership = new RoomMembership(ctx, {
      ...listDeps,
      hostJoined: (room, adminNode, epoch) => this.host.onJoined(room, adminNode, epoch),
      cancelGapRepair: (roomId) => this.history.cancelGapRepair(roomId),
      resendOutbox: (room) => this.outbox.resend(room),
      readJoined: (room, reply) => this.readMarkers.onJoined(room, reply),
      rolesJoined: (room, reply) => this.moderation.onJoined(room, reply),
    });
    const markGone = this.membership.markGone.bind(this.membership);
    this.outbox = new Outbox(ctx, markGone, (room, refusal) => this.host.onHostChanged(room, refusal));
    this.deletion = new RoomDeletion(ctx, { ...listDeps, markGone });
    this.changes = new MessageChanges(ctx);
    this.moderation = new Moderation(ctx, (room) => this.membership.rejoin(room));
    this.events = new RoomEvents(ctx, {
      deletion: this.deletion,
      host: this.host,
      changes: this.changes,
      readMarkers: this.readMarkers,
      moderation: this.moderation,
      acceptMessages: (room, messages) => this.history.accept(room, messages),
      rejoin: (room) => this.membership.rejoin(room),
      resendOutbox: (room) => this.outbox.resend(room),
      refreshListSoon: listDeps.refreshListSoon,
    });
  }

  get status(): ConnStatus {
    return this.connection.status;
  }

  get node(): string {
    return this.connection.node;
  }

  /** Every node this session may reconnect to (given at start, or learned from the cluster). */
  get nodes(): readonly string[] {
    return this.connection.nodes;
  }

  get lastRoomsList(): GlobalRoomsList | null {
    return this.directory.last;
  }

  // ---- connection -------------------------------------------------------------------------

  connect(): void {
    this.connection.connect();
  }

  /** Closes for good (no reconnect). */
  close(): void {
    this.directory.stopRefresh();
    this.history.cancelAll();
    this.membership.cancelAllRejoins();
    this.outbox.cancelAll();
    this.changes.cancelAll();
    this.readMarkers.cancelAll();
    this.connection.close();
  }

  /** Skips the backoff wait: tries the next node at once (e.g. the browser came back online). */
  reconnectNow(): void {
    this.connection.reconnectNow();
  }

  /** Drops the current connection as if the network failed (used by the UI's "reconnect"). */
  dropConnection(): void {
    this.connection.drop();
  }

  // ---- rooms --------------------------------------------------------------------------------

  discover(): Promise<GlobalRoomsList> {
    return this.directory.discover();
  }

  createRoom(name: string, description: string | null, isPrivate = false): Promise<RoomCreated> {
    return this.directory.createRoom(name, description, isPrivate);
  }

  /** Opens (creating it the first time) and joins our direct conversation with `other`. Throws a readable Error. */
  openDirect(other: string): Promise<RoomState> {
    return this.membership.openDirect(other);
  }

  /** Joins a room (or re-joins, resuming from the last sequence shown). Throws a readable Error. */
  join(roomId: string, hint?: RoomHint): Promise<RoomState> {
    return this.membership.join(roomId, hint);
  }

  leave(roomId: string): void {
    this.membership.leave(roomId);
  }

  /** Appoints, kicks, bans, unbans or mutes a member of a room we moderate. Throws a readable Error. */
  moderate(roomId: string, type: ModerationRequestType, member: string, details?: ModerationDetails): Promise<void> {
    return this.moderation.act(roomId, type, member, details);
  }

  mayModerate(room: RoomState): boolean {
    return this.moderation.mayModerate(room);
  }

  /** Whether we may kick, ban or mute `member` of the room (as far as the page knows). */
  mayActOn(room: RoomState, member: string): boolean {
    return this.moderation.mayActOn(room, member);
  }

  /** Invites `member` to our private room. Throws a readable Error. */
  invite(roomId: string, member: string): Promise<void> {
    return inviteToRoom(this.ctx, roomId, member);
  }

  /** Starts the two-phase-commit deletion; the outcome arrives as events. */
  deleteRoom(roomId: string): boolean {
    return this.deletion.request(roomId);
  }

  // ---- messages -----------------------------------------------------------------------------

  /** Loads a page of older history above the oldest message shown. */
  loadOlder(roomId: string): Promise<number> {
    return this.history.loadOlder(roomId);
  }

  /** Queues a message; it is (re)sent until the server confirms it. Returns the client id. */
  sendMessage(roomId: string, content: string): string {
    return this.outbox.send(roomId, content);
  }

  /** Removes a failed message from the outbox, or retries it. */
  retryMessage(roomId: string, clientId: string, retry: boolean): void {
    this.outbox.retry(roomId, clientId, retry);
  }

  /** Replaces the text of one of our messages; resolves once the server applied it (throws a readable Error). */
  editMessage(roomId: string, messageId: string, content: string): Promise<void> {
    return this.changes.edit(roomId, messageId, content);
  }

  /** Deletes a message: ours, or anyone's in a room we created (throws a readable Error). */
  deleteMessage(roomId: string, messageId: string): Promise<void> {
    return this.changes.remove(roomId, messageId);
  }

  /** Tells the room we are typing (at most every couple of seconds). */
  typing(roomId: string): void {
    this.changes.typing(roomId);
  }

  /** The room is on screen: marks it read up to its newest message (for our other tabs and devices too). */
  markRead(roomId: string): void {
    this.readMarkers.markRead(roomId);
  }

  /** A page of the room's messages matching `query`, newest first (throws a readable Error). */
  search(roomId: string, query: string, before?: number): Promise<SearchPage> {
    return searchRoom(this.ctx, roomId, query, before);
  }

  private onOpen(node: string, resumed: boolean, emit: (ev: SessionEvent) => void): void {
    if (resumed) emit({ kind: 'notice', level: 'success', text: `Reconnected to ${node}.` });
    this.membership.resumeAll();
    this.directory.discover().catch(() => undefined);
    this.directory.scheduleRefresh();
    this.discoverNodes?.(node)
      .then((nodes) => {
        const added = this.connection.learnNodes(nodes);
        if (added.length > 0) emit({ kind: 'nodes', nodes: [...this.connection.nodes] });
      })
      .catch(() => undefined); // the list we have still works; the next connect asks again
  }
}
