import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { ServerEventMap, ServerEventType } from '../rooms/wire';

/** A room this connection is in, and the last sequence number delivered to it there. */
export interface RoomRegistration {
  username: string;
  cursor: number;
}

/** One client WebSocket: its bound username, its rooms, and when it last showed life. */
export class ClientConnection {
  /** Bound at the first successful join; later requests must use the same name. */
  username: string | null = null;
  readonly rooms = new Map<string, RoomRegistration>();
  lastActivity: number;
  /** Cleared when a ping goes out, set again by the pong. */
  answeredPing = true;
  private corked = false;
  /** Forwarded sends of this connection still waiting for their host, and the last of them. */
  pendingSends = 0;
  lastForwardedSend: Promise<void> = Promise.resolve();

  constructor(
    readonly id: string,
    private readonly socket: WebSocket,
    now: number,
  ) {
    this.lastActivity = now;
  }

  get isOpen(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  send<K extends ServerEventType>(type: K, data: ServerEventMap[K]): void {
    this.sendFrame(JSON.stringify({ type, data }));
  }

  /**
   * Sends an already serialised frame (a broadcast is serialised and UTF-8 encoded once for all
   * recipients, instead of once per socket inside `ws`).
   * Frames sent in the same tick share one socket write: the TCP socket is corked until the
   * next tick, which turns a burst of replicated messages into one syscall per client.
   */
  /** Returns false when the socket is no longer open (nothing was sent). */
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
    return true;
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
