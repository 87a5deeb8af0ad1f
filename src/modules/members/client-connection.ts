import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { ServerEventMap, ServerEventType } from '../../common/protocol/client-wire';

/** A room this connection is in, and the last sequence number delivered to it there. */
export interface RoomRegistration {
  username: string;
  cursor: number;
  /** While the join's history replay streams, live messages wait in the store (the replay picks them up). */
  replaying?: boolean;
}

/** What a connection does when its socket buffer is over the limit. */
export interface BackpressurePolicy {
  /** Bytes queued for the socket beyond which it is closed; 0 = no limit. */
  maxBufferedBytes: number;
  onTooSlow(conn: ClientConnection, bufferedBytes: number): void;
}

const NO_LIMIT: BackpressurePolicy = { maxBufferedBytes: 0, onTooSlow: () => undefined };
/** Shared by every connection in no room and with no forwarded send: most idle connections. */
const NO_ROOMS: ReadonlyMap<string, RoomRegistration> = new Map();
const SETTLED: Promise<void> = Promise.resolve();

/** One client WebSocket: its bound username, its rooms, and when it last showed life. */
export class ClientConnection {
  /** Bound at the first successful join; later requests must use the same name. */
  username: string | null = null;
  /** The client's IP address (budgets shared by all connections from it); 'unknown' when the socket did not say. */
  address = 'unknown';
  /** Made at the first join: an idle connection carries no map of its own. */
  private roomMap: Map<string, RoomRegistration> | null = null;
  lastActivity: number;
  /** Cleared when a ping goes out, set again by the pong. */
  answeredPing = true;
  private corked = false;
  /** Forwarded sends of this connection still waiting for their host, and the last of them. */
  pendingSends = 0;
  lastForwardedSend: Promise<void> = SETTLED;

  constructor(
    readonly id: string,
    private readonly socket: WebSocket,
    now: number,
    private readonly backpressure: BackpressurePolicy = NO_LIMIT,
  ) {
    this.lastActivity = now;
  }

  /** The rooms this connection is in (ClientRegistry changes them through enter and leave). */
  get rooms(): ReadonlyMap<string, RoomRegistration> {
    return this.roomMap ?? NO_ROOMS;
  }

  enter(roomId: string, registration: RoomRegistration): void {
    (this.roomMap ??= new Map()).set(roomId, registration);
  }

  leave(roomId: string): void {
    this.roomMap?.delete(roomId);
  }

  get isOpen(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  /** Bytes written to this socket that the client has not taken yet (ws queue + TCP buffer). */
  get bufferedBytes(): number {
    return this.socket.bufferedAmount ?? 0;
  }

  /** Resolves once at most `lowWater` bytes wait for the client, or the socket is gone. */
  async drained(lowWater: number): Promise<void> {
    while (this.isOpen && this.bufferedBytes > lowWater) await new Promise((r) => setTimeout(r, 10));
  }

  send<K extends ServerEventType>(type: K, data: ServerEventMap[K]): void {
    this.sendFrame(JSON.stringify({ type, data }));
  }

  /**
   * Sends an already serialised frame (a broadcast is serialised and UTF-8 encoded once for all
   * recipients, instead of once per socket inside `ws`).
   * Frames sent in the same tick share one socket write: the TCP socket is corked until the
   * next tick, which turns a burst of replicated messages into one syscall per client.
   * Returns false when the socket is no longer open (nothing was sent).
   */
  sendFrame(frame: string | Buffer): boolean {
    if (!this.isOpen) return false;
    const tcp = (this.socket as unknown as { _socket?: Socket })._socket;
    if (tcp && !this.corked) {
      this.corked = true;
      tcp.cork();
      process.nextTick(() => {
        this.corked = false;
        tcp.uncork();
      });
    }
    this.socket.send(frame, { binary: false }); // a Buffer holding UTF-8 JSON still goes out as a text frame
    const limit = this.backpressure.maxBufferedBytes;
    if (limit > 0 && this.bufferedBytes > limit) this.closeTooSlow();
    return true;
  }

  /**
   * Drops a socket whose client does not keep up, at once: a close frame would wait behind the
   * megabytes it does not read, and the socket would keep them until the close handshake timed out
   * (30 s). Sends after this are dropped (it is no longer OPEN).
   */
  private closeTooSlow(): void {
    const buffered = this.bufferedBytes;
    this.backpressure.onTooSlow(this, buffered);
    this.socket.terminate();
  }

  ping(): void {
    if (this.isOpen) this.socket.ping();
  }

  terminate(): void {
    this.socket.terminate();
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }
}
