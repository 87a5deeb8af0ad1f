import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { Clock } from '../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import type { ChatMessage, ServerEventMap, ServerEventType } from '../../common/protocol/client-wire';
import { ClientConnection, type BackpressurePolicy } from './client-connection';

/**
 * Which client sockets are on this node and which rooms they are in. The only place that writes
 * to client sockets, so delivery order and exactly-once per socket are decided here.
 */
@Injectable()
export class ClientRegistry implements OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(ClientRegistry.name);
  private readonly connections = new Map<string, ClientConnection>();
  private readonly byRoom = new Map<string, Set<ClientConnection>>();
  /** Connections in at least one room, by the username they are there as: the name's live holders. */
  private readonly holders = new Map<string, Set<ClientConnection>>();
  private readonly keepalive: NodeJS.Timeout;
  /** new_message frames written to sockets since start (chat_deliveries_total; a plain count, read at scrape time). */
  deliveredMessages = 0;
  private readonly backpressure: BackpressurePolicy;

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly clock: Clock,
  ) {
    this.keepalive = setInterval(() => this.pingAll(), config.wsPingIntervalMs);
    this.keepalive.unref();
    this.backpressure = {
      maxBufferedBytes: config.wsMaxBufferedBytes,
      onTooSlow: (conn, bytes) =>
        this.logger.warn(`Closing slow client ${conn.id}${conn.username ? ` (${conn.username})` : ''}: ${bytes} bytes buffered, over WS_MAX_BUFFERED_BYTES=${config.wsMaxBufferedBytes}`),
    };
  }

  onModuleDestroy(): void {
    clearInterval(this.keepalive);
  }

  /** Tells every client the node is going away (1001) so it can reconnect elsewhere. */
  beforeApplicationShutdown(): void {
    for (const conn of this.connections.values()) conn.close(1001, 'Node shutting down');
  }

  get size(): number {
    return this.connections.size;
  }

  /** `username`: the identity the connection proved at the upgrade (token mode), bound from the start; `address`: the client's IP. */
  connect(socket: WebSocket, username: string | null = null, address = 'unknown'): ClientConnection {
    const conn = new ClientConnection(randomUUID(), socket, this.clock.monotonic(), this.backpressure);
    conn.username = username;
    conn.address = address;
    socket.on('pong', () => {
      if (conn.answeredPing) return; // an unsolicited pong is not a sign of life (a script could keep a dead member alive)
      conn.answeredPing = true;
      conn.lastActivity = this.clock.monotonic();
    });
    this.connections.set(conn.id, conn);
    return conn;
  }

  /** Forgets the connection; returns the rooms it was in so the caller can announce the leave. */
  disconnect(conn: ClientConnection): Map<string, string> {
    this.connections.delete(conn.id);
    const rooms = new Map<string, string>();
    for (const [roomId, reg] of conn.rooms) {
      rooms.set(roomId, reg.username);
      this.unregister(conn, roomId);
    }
    return rooms;
  }

  all(): Iterable<ClientConnection> {
    return this.connections.values();
  }

  touch(conn: ClientConnection): void {
    conn.lastActivity = this.clock.monotonic();
  }

  register(conn: ClientConnection, roomId: string, username: string, cursor: number, replaying = false): void {
    conn.enter(roomId, { username, cursor, replaying });
    let set = this.byRoom.get(roomId);
    if (!set) this.byRoom.set(roomId, (set = new Set()));
    set.add(conn);
    let held = this.holders.get(username);
    if (!held) this.holders.set(username, (held = new Set()));
    held.add(conn);
  }

  unregister(conn: ClientConnection, roomId: string): void {
    const reg = conn.rooms.get(roomId);
    conn.leave(roomId);
    const set = this.byRoom.get(roomId);
    set?.delete(conn);
    if (set?.size === 0) this.byRoom.delete(roomId);
    if (reg) this.releaseIfIdle(conn, reg.username);
  }

  /** Drops every registration in a room (it was deleted). */
  unregisterRoom(roomId: string): void {
    for (const conn of this.byRoom.get(roomId) ?? []) {
      const reg = conn.rooms.get(roomId);
      conn.leave(roomId);
      if (reg) this.releaseIfIdle(conn, reg.username);
    }
    this.byRoom.delete(roomId);
  }

  /** Takes every connection in the room as `username` out of it (kicked or banned by a moderator). */
  unregisterUserInRoom(roomId: string, username: string): void {
    for (const conn of [...(this.byRoom.get(roomId) ?? [])]) if (conn.rooms.get(roomId)?.username === username) this.unregister(conn, roomId);
  }

  /** A connection holds a name while it is in some room under it. */
  private releaseIfIdle(conn: ClientConnection, username: string): void {
    for (const reg of conn.rooms.values()) if (reg.username === username) return;
    const held = this.holders.get(username);
    held?.delete(conn);
    if (held?.size === 0) this.holders.delete(username);
  }

  /** True when `conn` itself is in a room as `username` (it holds the name). O(1) on the send path. */
  holds(conn: ClientConnection, username: string): boolean {
    return this.holders.get(username)?.has(conn) ?? false;
  }

  /** True when an open connection on this node other than `except` is in a room as `username`. */
  isHeldByAnother(username: string, except?: ClientConnection): boolean {
    for (const c of this.holders.get(username) ?? []) if (c !== except && c.isOpen) return true;
    return false;
  }

  inRoom(roomId: string): ClientConnection[] {
    return [...(this.byRoom.get(roomId) ?? [])];
  }

  hasRoom(roomId: string): boolean {
    return (this.byRoom.get(roomId)?.size ?? 0) > 0;
  }

  /** The lowest sequence a socket in the room has been sent (null: no socket here), to deliver what some have not seen. */
  lowestCursor(roomId: string): number | null {
    let lowest: number | null = null;
    for (const conn of this.byRoom.get(roomId) ?? []) {
      const cursor = conn.rooms.get(roomId)?.cursor;
      if (cursor !== undefined && (lowest === null || cursor < lowest)) lowest = cursor;
    }
    return lowest;
  }

  /** True when some socket on this node is in the room under `username`. */
  usernameInRoom(roomId: string, username: string): boolean {
    for (const c of this.byRoom.get(roomId) ?? []) if (c.rooms.get(roomId)?.username === username) return true;
    return false;
  }

  /** True when another socket on this node is still in the room under the same username. */
  usernameStillInRoom(roomId: string, username: string, except: ClientConnection): boolean {
    for (const c of this.byRoom.get(roomId) ?? []) {
      if (c !== except && c.rooms.get(roomId)?.username === username) return true;
    }
    return false;
  }

  /** Sends a message to every socket in its room that has not had it yet (in sequence order). */
  deliverMessage(message: ChatMessage): void {
    const members = this.byRoom.get(message.room_id);
    if (!members) return;
    let frame: Buffer | undefined;
    let delivered = 0;
    for (const conn of members) {
      if (advanceCursor(conn, message) && conn.sendFrame((frame ??= Buffer.from(JSON.stringify({ type: 'new_message', data: message }))))) delivered++;
    }
    this.deliveredMessages += delivered;
  }

  /** Replay (and catch-up) of one message to one socket; unlike deliverMessage it goes through while the socket replays. */
  deliverTo(conn: ClientConnection, message: ChatMessage): void {
    if (advanceCursor(conn, message, true) && conn.sendFrame(JSON.stringify({ type: 'new_message', data: message }))) this.deliveredMessages++;
  }

  /** Sends an event to the room's sockets, optionally skipping those joined as `exceptUsername`. */
  broadcast<K extends ServerEventType>(roomId: string, type: K, data: ServerEventMap[K], exceptUsername?: string): void {
    let frame: Buffer | undefined;
    for (const conn of this.byRoom.get(roomId) ?? []) {
      if (exceptUsername !== undefined && conn.rooms.get(roomId)?.username === exceptUsername) continue;
      conn.sendFrame((frame ??= Buffer.from(JSON.stringify({ type, data }))));
    }
  }

  /** Sends an event to the sockets in the room under `username` only (all of that user's connections here). */
  sendToUserInRoom<K extends ServerEventType>(roomId: string, username: string, type: K, data: ServerEventMap[K]): void {
    let frame: Buffer | undefined;
    for (const conn of this.byRoom.get(roomId) ?? []) {
      if (conn.rooms.get(roomId)?.username === username) conn.sendFrame((frame ??= Buffer.from(JSON.stringify({ type, data }))));
    }
  }

  /** Every connection of `username` on this node, in a room or not (an invitation reaches it before it joins). Rare: a scan. */
  sendToUser<K extends ServerEventType>(username: string, type: K, data: ServerEventMap[K]): void {
    let frame: Buffer | undefined;
    for (const conn of this.connections.values()) {
      if (conn.username === username) conn.sendFrame((frame ??= Buffer.from(JSON.stringify({ type, data }))));
    }
  }

  /** Keepalive: a socket that did not answer the previous ping is dead and is closed. */
  private pingAll(): void {
    for (const conn of this.connections.values()) {
      if (!conn.answeredPing) {
        this.logger.debug(`Closing connection ${conn.id}: no pong within ${this.config.wsPingIntervalMs} ms`);
        conn.terminate();
        continue;
      }
      conn.answeredPing = false;
      conn.ping();
    }
  }
}

/** True (and the cursor moved) when the socket is in the room and has not had this message yet. */
function advanceCursor(conn: ClientConnection, message: ChatMessage, replay = false): boolean {
  const reg = conn.rooms.get(message.room_id);
  if (!reg || message.sequence_number <= reg.cursor || (reg.replaying && !replay)) return false;
  reg.cursor = message.sequence_number;
  return true;
}
