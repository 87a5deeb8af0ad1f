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

/** Largest frame a client may send (the reference's limit); bigger frames close with 1009. */
export const MAX_FRAME_BYTES = 1024 * 1024;

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
 * - handles one request per connection at a time, in order (the reference's contract);
 * - lets an UpgradeGate refuse an upgrade (401 without a valid token, 403 for a foreign origin).
 */
export class ChatWsAdapter extends WsAdapter {
  private readonly log = new Logger('WebSocket');
  private readonly upgradeHandlers = new Map<HttpServer, (req: IncomingMessage, socket: Duplex, head: Buffer) => void>();

  constructor(
    private readonly app: INestApplicationContext & { getHttpServer(): HttpServer },
    private readonly errors: ClientErrorFrames,
    private readonly gate: UpgradeGate | null = null,
  ) {
    super(app);
  }

  override create(_port: number, options: Record<string, unknown> = {}): WebSocketServer {
    const httpServer = this.app.getHttpServer();
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!this.gate) return wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
      socket.on('error', () => socket.destroy()); // a client gone during the check is nobody's problem
      this.gate.decide(req).then(
        (decision) => {
          if (!decision.accept) {
            this.log.debug(`Upgrade refused (${decision.status}): ${decision.message}`);
            return refuseUpgrade(socket, decision.status, decision.message);
          }
          wss.handleUpgrade(req, socket, head, (ws) => {
            if (decision.username !== null) bindUpgradeIdentity(ws, decision.username);
            wss.emit('connection', ws, req);
          });
        },
        (err: Error) => {
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
    const byType = new Map(handlers.map((h) => [h.message as string, h]));
    let queue: Promise<void> = Promise.resolve();
    client.on('error', (err) => this.log.debug(`client socket error: ${err.message}`));
    client.on('message', (raw: RawData) => {
      queue = queue.then(() => this.dispatch(client, raw, byType, transform));
    });
  }

  private async dispatch(
    client: WebSocket,
    raw: RawData,
    byType: Map<string, MessageMappingProperties>,
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
    const handler = typeof type === 'string' ? byType.get(type) : undefined;
    if (!handler) {
      const shown = typeof type === 'string' ? type : type === undefined ? 'None' : JSON.stringify(type);
      return refuse(shown, errorFrame(`Unknown message type: ${shown}`, 'UNKNOWN_TYPE'));
    }
    try {
      const result = await lastValueFrom(this.toObservable(transform(handler.callback(data === undefined ? {} : data, type))), {
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

  override async dispose(): Promise<void> {
    for (const [server, handler] of this.upgradeHandlers) server.off('upgrade', handler);
    this.upgradeHandlers.clear();
    await super.dispose();
  }
}

/** Answers an upgrade with a plain HTTP error and closes the socket (what ws's own refusals do). */
function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  if (!socket.writable) return void socket.destroy();
  const extra = status === 401 ? 'WWW-Authenticate: Bearer\r\n' : '';
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(message)}\r\n${extra}\r\n${message}`,
  );
}
