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
    if (this.isOpen) this.socket.send(JSON.stringify({ type, data }));
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
