import type { INestApplicationContext } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { WsAdapter } from '@nestjs/platform-ws';
import { STATUS_CODES, type Server as HttpServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { EMPTY, Observable, isObservable, lastValueFrom } from 'rxjs';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { ClientErrorFrames } from '../metrics/client-error-frames';
import { bindUpgradeIdentity } from './client-identity';
import type { UpgradeGate } from './upgrade-gate';
import { NODE_CONFIG, type NodeConfig } from '../config/node-config';
import { clientAddress, ConnectionsPerIp } from './connections-per-ip';

/** Largest frame a client may send (the reference's limit); bigger frames close with 1009. */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** How long a shutdown waits for requests under way. */
const SHUTDOWN_GRACE_MS = 3000;
/** Frames a socket may have waiting for their turn; beyond it the node stops reading that socket. */
export const MAX_QUEUED_FRAMES = 32;

type ErrorFrame = { type: 'error'; data: { success: false; message: string; error_code: string } };
const errorFrame = (message: string, error_code: string): ErrorFrame => ({
  type: 'error',
  data: { success: false, message, error_code },
});

/**
 * Nest's WsAdapter adapted to the chat protocol:
 * - upgrades on any path (like the reference) on the application's own HTTP server;
 * - routes the `{type, data}` envelope to `@SubscribeMessage(type)` handlers;
 * - answers bad JSON, non-object frames and unknown types with the protocol's `error` frame
 *   (the stock adapter drops them silently);
 * - handles one request per connection at a time, in order (the reference's contract); a client
 *   sending faster than its requests are handled has its socket paused (not read), not queued without bound;
 * - drops (terminates) a client whose unread replies pass WS_MAX_BUFFERED_BYTES, as ClientConnection does for deliveries;
 * - refuses an upgrade from an IP that has MAX_CONNECTIONS_PER_IP connections open (HTTP 429), and lets
 *   an UpgradeGate refuse one (401 without a valid token, 403 for a foreign origin).
 */
export class ChatWsAdapter extends WsAdapter {
  private readonly log = new Logger('WebSocket');
  private readonly upgradeHandlers = new Map<HttpServer, (req: IncomingMessage, socket: Duplex, head: Buffer) => void>();

  private readonly perIp: ConnectionsPerIp;
  /** The request chains of every socket that has work queued (awaited on shutdown). */
  private readonly inFlight = new Set<Promise<void>>();
  private closing = false;
  private readonly maxBufferedBytes: number;
  /** Message type -> position in a gateway's handler list, made once per list of types (not once per connection). */
  private readonly routes = new Map<string, ReadonlyMap<string, number>>();

  constructor(
    private readonly app: INestApplicationContext & { getHttpServer(): HttpServer },
    private readonly errors: ClientErrorFrames,
    private readonly gate: UpgradeGate | null = null,
  ) {
    super(app);
    const config = app.get<NodeConfig>(NODE_CONFIG, { strict: false });
    this.perIp = new ConnectionsPerIp(config.limits.connectionsPerIp);
    this.maxBufferedBytes = config.wsMaxBufferedBytes;
  }

  override create(_port: number, options: Record<string, unknown> = {}): WebSocketServer {
    const httpServer = this.app.getHttpServer();
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const ip = clientAddress(req);
      if (!this.perIp.admit(ip)) return this.refuseTooMany(socket, ip);
      // counted from here, before any asynchronous check: upgrades waiting for their token check
      // count against MAX_CONNECTIONS_PER_IP too, so a burst of them cannot slip past the cap
      this.perIp.opened(ip);
      let counted = true;
      const release = () => {
        if (counted) this.perIp.closed(ip);
        counted = false;
      };
      socket.once('close', release); // the connection ends, whether it became a WebSocket or not
      const accept = (username: string | null) => {
        if (socket.destroyed) return release();
        wss.handleUpgrade(req, socket, head, (ws) => {
          if (username !== null) bindUpgradeIdentity(ws, username);
          wss.emit('connection', ws, req);
        });
      };
      if (!this.gate) return accept(null);
      socket.on('error', () => socket.destroy()); // a client gone during the check is nobody's problem
      this.gate.decide(req).then(
        (decision) => {
          if (decision.accept) return accept(decision.username);
          release();
          this.log.debug(`Upgrade refused (${decision.status}): ${decision.message}`);
          refuseUpgrade(socket, decision.status, decision.message);
        },
        (err: Error) => {
          release();
          this.log.error(`Upgrade check failed: ${err.stack ?? err}`);
          refuseUpgrade(socket, 500, 'Internal server error');
        },
      );
    };
    httpServer.on('upgrade', onUpgrade);
    this.upgradeHandlers.set(httpServer, onUpgrade);
    wss.on('error', (err) => this.log.error(`WebSocket server error: ${err.message}`));
    void options;
    return wss;
  }

  override bindMessageHandlers(
    client: WebSocket,
    handlers: MessageMappingProperties[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    // a connection keeps only its handlers' callbacks (bound to it by Nest); the type lookup is shared
    const routes = this.routesOf(handlers);
    const callbacks = handlers.map((h) => h.callback);
    let queue: Promise<void> = Promise.resolve();
    let queued = 0;
    let paused = false;
    client.on('error', (err) => this.log.debug(`client socket error: ${err.message}`));
    client.on('message', (raw: RawData) => {
      // replies (errors included) pile up for a client that sends but never reads: same limit as deliveries
      if (this.maxBufferedBytes > 0 && client.bufferedAmount > this.maxBufferedBytes) {
        if (client.readyState !== client.OPEN) return;
        this.log.warn(`Closing slow client: ${client.bufferedAmount} bytes of replies unread, over WS_MAX_BUFFERED_BYTES=${this.maxBufferedBytes}`);
        client.terminate(); // at once: a close frame would wait behind what it does not read
        return;
      }
      if (++queued >= MAX_QUEUED_FRAMES && !paused) {
        paused = true;
        client.pause(); // TCP flow control then slows the sender; the rest of the node is unaffected
      }
      const tail = (queue = queue
        .then(() => (this.closing ? undefined : this.dispatch(client, raw, routes, callbacks, transform)))
        .finally(() => {
          this.inFlight.delete(tail);
          if (--queued <= MAX_QUEUED_FRAMES / 2 && paused) {
            paused = false;
            client.resume();
          }
        }));
      this.inFlight.add(tail);
    });
  }

  private routesOf(handlers: MessageMappingProperties[]): ReadonlyMap<string, number> {
    const key = handlers.map((h) => String(h.message)).join('\n');
    let routes = this.routes.get(key);
    if (!routes) this.routes.set(key, (routes = new Map(handlers.map((h, i) => [String(h.message), i]))));
    return routes;
  }

  /** Refused before the WebSocket handshake, so the client sees why (HTTP 429) and nothing is allocated. */
  private refuseTooMany(socket: Duplex, ip: string): void {
    if (this.perIp.firstRefusal(ip)) this.log.warn(`Refusing WebSocket connections from ${ip}: ${this.perIp.max} open (MAX_CONNECTIONS_PER_IP)`);
    socket.on('error', () => undefined); // a client that resets meanwhile is no concern of ours
    refuseUpgrade(socket, 429, `Too many connections from your address (at most ${this.perIp.max}); close some and try again.\n`, 'Retry-After: 10\r\n');
  }

  private async dispatch(
    client: WebSocket,
    raw: RawData,
    routes: ReadonlyMap<string, number>,
    callbacks: MessageMappingProperties['callback'][],
    transform: (data: unknown) => Observable<unknown>,
  ): Promise<void> {
    const reply = (frame: unknown) => {
      if (client.readyState === client.OPEN) client.send(JSON.stringify(frame));
    };
    const refuse = (request: string, frame: ErrorFrame) => {
      const text = this.errors.serialise(request, frame.data.error_code, frame.data.message, frame);
      if (client.readyState === client.OPEN) client.send(text);
    };
    let frame: unknown;
    try {
      frame = JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : Buffer.concat(raw as Buffer[]).toString('utf8'));
    } catch {
      return refuse('frame', errorFrame('Invalid JSON format', 'INVALID_JSON'));
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
      return refuse('frame', errorFrame('Message must be a JSON object', 'INVALID_FRAME'));
    }
    const { type, data } = frame as { type?: unknown; data?: unknown };
    const index = typeof type === 'string' ? routes.get(type) : undefined;
    if (index === undefined) {
      const shown = typeof type === 'string' ? type : type === undefined ? 'None' : JSON.stringify(type);
      return refuse(shown, errorFrame(`Unknown message type: ${shown}`, 'UNKNOWN_TYPE'));
    }
    try {
      const result = await lastValueFrom(this.toObservable(transform(callbacks[index](data === undefined ? {} : data, type))), {
        defaultValue: undefined,
      });
      if (result !== undefined && result !== null) reply(result);
    } catch (err) {
      // Handlers report refusals through the gateway's exception filter; anything reaching here is a bug.
      this.log.error(`Unhandled error in ${String(type)} handler: ${(err as Error).stack ?? err}`);
      refuse(String(type), errorFrame('Internal server error', 'INTERNAL_ERROR'));
    }
  }

  private toObservable(value: unknown): Observable<unknown> {
    return isObservable(value) ? value : EMPTY;
  }

  /**
   * On shutdown, requests not started yet are dropped and those under way may finish (for at most
   * SHUTDOWN_GRACE_MS): the store closes after the app, and a handler still running then would fail.
   */
  override async dispose(): Promise<void> {
    this.closing = true;
    for (const [server, handler] of this.upgradeHandlers) server.off('upgrade', handler);
    this.upgradeHandlers.clear();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => (timer = setTimeout(r, SHUTDOWN_GRACE_MS)))]);
    clearTimeout(timer);
    await super.dispose();
  }
}

/** Answers an upgrade with a plain HTTP error and closes the socket (what ws's own refusals do). */
function refuseUpgrade(socket: Duplex, status: number, message: string, headers = ''): void {
  if (!socket.writable) return void socket.destroy();
  const extra = (status === 401 ? 'WWW-Authenticate: Bearer\r\n' : '') + headers;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(message)}\r\n${extra}\r\n${message}`,
  );
}
