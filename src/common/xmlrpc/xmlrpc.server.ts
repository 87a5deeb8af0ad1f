import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { Logger, type LoggerService } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler, type WritePacket } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
import { BodyTooLargeFault, readRequestBody } from './xmlrpc-body';
import { decodeMethodCall, encodeFault, encodeMethodResponse } from './xmlrpc-codec';
import { XmlRpcParseError } from './xmlrpc-errors';
import { XmlRpcFault, XmlRpcFaultCode } from './xmlrpc-fault';
import { XmlRpcContext } from './xmlrpc.context';
import { XMLRPC_MAX_BODY_BYTES } from './xmlrpc-limits';

export interface XmlRpcServerOptions {
  host?: string;
  port: number;
  /** Largest request body accepted, before and after gzip decoding. */
  maxBodyBytes?: number;
  /** A handler that has not answered by then gets the caller a -32500 fault instead of a hung call. */
  handlerTimeoutMs?: number;
  logger?: LoggerService;
  /** Checks who is calling before any handler runs; throws an XmlRpcFault to refuse the call. */
  authenticator?: XmlRpcCallAuthenticator;
}

export interface XmlRpcCallAuthenticator {
  /** The verified caller's id (handlers read it as XmlRpcContext.getPeer()), or null when unverified. */
  authenticate(method: string, params: unknown[], body: Buffer, headers: IncomingHttpHeaders): string | null;
}

export const XMLRPC_TRANSPORT = Symbol.for('XMLRPC');
const RPC_PATHS = new Set(['/', '/RPC2']);
/** The spec's methodName alphabet; anything else is never a handler, so it is not looked up. */
const METHOD_NAME = /^[A-Za-z0-9_.:/-]{1,128}$/;

/**
 * XML-RPC over HTTP as a Nest microservice transport: each methodCall goes to the
 * @MessagePattern('<methodName>') handler with the params array as its payload.
 * Modelled on Nest's ServerTCP: listen() settles once, close() drops open connections.
 */
export class XmlRpcServer extends Server implements CustomTransportStrategy {
  override readonly transportId = XMLRPC_TRANSPORT;
  protected override readonly logger: LoggerService;
  private readonly httpServer: HttpServer;
  private readonly host: string;
  private readonly port: number;
  private readonly maxBodyBytes: number;
  private readonly handlerTimeoutMs: number;
  private readonly authenticator: XmlRpcCallAuthenticator | undefined;

  constructor(options: XmlRpcServerOptions) {
    super();
    this.host = options.host ?? '0.0.0.0';
    this.port = options.port;
    this.maxBodyBytes = options.maxBodyBytes ?? XMLRPC_MAX_BODY_BYTES;
    this.handlerTimeoutMs = options.handlerTimeoutMs ?? 30_000;
    this.logger = options.logger ?? new Logger(XmlRpcServer.name);
    this.authenticator = options.authenticator;
    this.httpServer = createServer((req, res) => void this.handleHttpRequest(req, res));
    // Bound slow senders; keep idle keep-alive connections longer than clients keep them.
    this.httpServer.headersTimeout = 10_000;
    this.httpServer.requestTimeout = 30_000;
    this.httpServer.keepAliveTimeout = 10_000;
  }

  listen(callback: (err?: unknown) => void): void {
    const onError = (err: NodeJS.ErrnoException) => {
      this._status$.next('disconnected');
      callback(new Error(`XML-RPC server cannot listen on ${this.host}:${this.port}: ${err.code ?? err.message}. Free the port or set XMLRPC_PORT to another one.`, { cause: err }));
    };
    this.httpServer.once('error', onError);
    this.httpServer.listen(this.port, this.host, () => {
      this.httpServer.off('error', onError);
      this.httpServer.on('error', (err) => this.logger.error(`XML-RPC server error: ${err.message}`));
      this._status$.next('connected');
      callback();
    });
  }

  /** Stops accepting and destroys open (also idle keep-alive) connections, like ServerTCP. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.httpServer.close(() => resolve());
      this.httpServer.closeAllConnections();
      this._status$.next('disconnected');
    });
  }

  /** Listens to the underlying http.Server's events ('connection', 'error', ...). */
  on<EventKey extends string = string, EventCallback extends Function = Function>(event: EventKey, callback: EventCallback): void {
    this.httpServer.on(event, callback as unknown as (...args: unknown[]) => void);
  }

  unwrap<T = HttpServer>(): T {
    return this.httpServer as T;
  }

  /** The port actually bound (useful with port 0), or undefined before listen. */
  get boundPort(): number | undefined {
    const address = this.httpServer.address();
    return typeof address === 'object' && address ? address.port : undefined;
  }

  private async handleHttpRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.on('error', (err) => this.logger.warn?.(`XML-RPC reply not delivered: ${err.message}`));
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'POST') {
      req.resume();
      return this.reply(res, 405, encodeFault(XmlRpcFaultCode.InvalidRequest, `HTTP ${req.method} is not supported; POST a methodCall`), { Allow: 'POST' });
    }
    if (!RPC_PATHS.has(path)) {
      req.resume();
      return this.reply(res, 404, encodeFault(XmlRpcFaultCode.InvalidRequest, `No XML-RPC endpoint at ${path}; use / or /RPC2`));
    }

    const socket = req.socket; // req lets go of it once the request is over
    let body: Buffer;
    try {
      body = await readRequestBody(req, this.maxBodyBytes);
    } catch (err) {
      if (!(err instanceof XmlRpcFault)) return; // the client went away mid-body: nobody to answer
      const stillSending = err instanceof BodyTooLargeFault && !err.drained;
      this.reply(res, 200, encodeFault(err.code, err.faultString), { Connection: 'close' });
      if (stillSending) res.once('finish', () => socket.destroy());
      return;
    }

    let method = '?';
    try {
      const call = decodeMethodCall(body.toString('utf8'));
      method = call.method;
      const peer = this.authenticator?.authenticate(call.method, call.params, body, req.headers) ?? null;
      const result = await this.dispatch(call.method, call.params, req, peer);
      this.reply(res, 200, this.encodeResult(method, result));
    } catch (err) {
      const fault = toFault(err);
      if (fault.code === XmlRpcFaultCode.ApplicationError) this.logger.warn?.(`XML-RPC ${method} failed: ${fault.faultString}`);
      this.reply(res, 200, encodeFault(fault.code, fault.faultString));
    }
  }

  /** Runs the handler through Nest's processing hooks and resolves with its last value. */
  private dispatch(method: string, params: unknown[], req: IncomingMessage, peer: string | null): Promise<unknown> {
    const handler = METHOD_NAME.test(method) ? this.getHandlerByPattern(method) : null;
    if (!handler) throw new XmlRpcFault(XmlRpcFaultCode.MethodNotFound, `method "${method}" is not supported`);
    const context = new XmlRpcContext([method, req, peer]);
    if (handler.isEventHandler) return Promise.resolve(this.handleEvent(method, { pattern: method, data: params }, context)).then(() => null);

    return new Promise((resolve, reject) => {
      let last: unknown = null;
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const timer = setTimeout(
        () => settle(() => reject(new XmlRpcFault(XmlRpcFaultCode.ApplicationError, `method "${method}" did not answer within ${this.handlerTimeoutMs} ms`))),
        this.handlerTimeoutMs,
      );
      const respond = (packet: WritePacket) => {
        if ('err' in packet) return settle(() => reject(packet.err));
        if ('response' in packet) last = packet.response;
        if (packet.isDisposed) settle(() => resolve(last));
      };
      try {
        const started = this.handleRequest(context, () => this.produce(handler, params, context), respond) as unknown;
        Promise.resolve(started).catch((err: unknown) => settle(() => reject(err)));
      } catch (err) {
        settle(() => reject(err));
      }
    });
  }

  /** A handler that throws synchronously becomes an erroring stream, so every failure takes one path. */
  private async produce(handler: MessageHandler, params: unknown[], context: XmlRpcContext): Promise<Observable<unknown>> {
    try {
      return this.transformToObservable(await handler(params, context));
    } catch (err) {
      return throwError(() => err);
    }
  }

  private encodeResult(method: string, result: unknown): string {
    try {
      return encodeMethodResponse(result);
    } catch (err) {
      throw new XmlRpcFault(XmlRpcFaultCode.ApplicationError, `method "${method}" returned a value XML-RPC cannot carry: ${(err as Error).message}`);
    }
  }

  private reply(res: ServerResponse, status: number, xml: string, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    const body = Buffer.from(xml, 'utf8');
    res.writeHead(status, { 'Content-Type': 'text/xml', 'Content-Length': body.length, ...headers });
    res.end(body);
  }
}

/** XmlRpcFault passes through; Nest's RPC filter hands other errors over as {status, message}. */
function toFault(err: unknown): XmlRpcFault {
  if (err instanceof XmlRpcFault) return err;
  if (err instanceof XmlRpcParseError) return new XmlRpcFault(err.code, err.message);
  const message = typeof (err as { message?: unknown })?.message === 'string' ? (err as { message: string }).message : String(err);
  return new XmlRpcFault(XmlRpcFaultCode.ApplicationError, message);
}
