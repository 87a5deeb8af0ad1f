import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { Logger, type LoggerService } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler, type WritePacket } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
import { BodyTooLargeFault, readRequestBody } from './xmlrpc-body';
import { decodeMethodCall, encodeFault, encodeMethodResponse } from './xmlrpc-codec';
import { XmlRpcParseError } from './xmlrpc-errors';
import { XmlRpcFault, XmlRpcFaultCode } from './xmlrpc-fault';
import { XmlRpcContext } from './xmlrpc.context';
import { XMLRPC_MAX_BODY_BYTES } from './xmlrpc-limits';
import { PeerConnectionGuard, transportOf } from './peer-connection-guard';

export interface XmlRpcServerOptions {
  host?: string;
  port: number;
  /** Largest request body accepted, before and after gzip decoding. */
  maxBodyBytes?: number;
  /** A handler that has not answered by then gets the caller a -32500 fault instead of a hung call. */
  handlerTimeoutMs?: number;
  logger?: LoggerService;
  /** Checks who is calling before any handler runs (before the body is read, then before it is parsed). */
  authenticator?: XmlRpcCallAuthenticator;
  /** Serve HTTPS with this certificate chain and key (PEM). */
  tls?: { cert: string; key: string };
  /** Open connections kept at most (default 256); see PeerConnectionGuard. */
  maxConnections?: number;
  /** Slow senders: headers must arrive within this (default HEADERS_TIMEOUT_MS), the whole request within requestTimeoutMs. */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/** What an authenticator concluded from a request's headers alone, handed back to it at each later step. */
export interface CallAdmission {
  /** The largest body this request may send (an unsigned call to a node with a secret: a heartbeat's size). */
  readonly maxBodyBytes: number;
  /** The headers carried a valid peer signature: the connection is a peer's, and is kept at the connection cap. */
  readonly proven: boolean;
}

/**
 * Authentication in the order that keeps work before it small: headers first (nothing read yet),
 * then the raw body against what was signed (nothing parsed yet), then the parsed call.
 * Each step refuses by throwing an XmlRpcFault.
 */
export interface XmlRpcCallAuthenticator<A extends CallAdmission = CallAdmission> {
  admit(headers: IncomingHttpHeaders): A;
  checkBody(admission: A, body: Buffer): void;
  /** The verified caller's id (handlers read it as XmlRpcContext.getPeer()), or null when unverified. */
  authorize(admission: A, method: string, params: unknown[]): string | null;
  /** Headers that sign this reply to this request (none when the request was not signed). */
  replyHeaders(requestHeaders: IncomingHttpHeaders, reply: Buffer): Record<string, string>;
}

/** Slow senders: a request's headers must arrive within this, the whole request within REQUEST_TIMEOUT_MS. */
export const HEADERS_TIMEOUT_MS = 5_000;
export const REQUEST_TIMEOUT_MS = 15_000;
/** A call refused on its headers whose body is no larger is read (and dropped) before the connection closes. */
const DRAIN_UNREAD_BYTES = 64 * 1024;
/** A TLS handshake that has not finished by then is dropped. */
const HANDSHAKE_TIMEOUT_MS = 5_000;

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
  readonly connections: PeerConnectionGuard;
  private lastCapWarning = Number.NEGATIVE_INFINITY;
  /**
   * Handlers found so far, by method: Nest's lookup first tries the pattern as JSON, and a plain
   * method name makes that throw on every call. Only found ones are kept (unknown names are anyone's).
   */
  private readonly handlersByMethod = new Map<string, MessageHandler>();

  constructor(options: XmlRpcServerOptions) {
    super();
    this.host = options.host ?? '0.0.0.0';
    this.port = options.port;
    this.maxBodyBytes = options.maxBodyBytes ?? XMLRPC_MAX_BODY_BYTES;
    this.handlerTimeoutMs = options.handlerTimeoutMs ?? 30_000;
    this.logger = options.logger ?? new Logger(XmlRpcServer.name);
    this.authenticator = options.authenticator;
    // Slow senders are cut: headers within 5 s, the whole request within 15 s, checked every second
    // (Node's default check runs every 30 s); idle keep-alive connections last longer than clients keep them.
    const headersTimeout = options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
    const limits = { headersTimeout, requestTimeout: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, keepAliveTimeout: 10_000, connectionsCheckingInterval: Math.min(1_000, headersTimeout) };
    const handle = (req: IncomingMessage, res: ServerResponse) => void this.handleHttpRequest(req, res);
    this.httpServer = options.tls
      ? createTlsServer({ ...limits, cert: options.tls.cert, key: options.tls.key, handshakeTimeout: Math.min(HANDSHAKE_TIMEOUT_MS, headersTimeout) }, handle)
      : createServer(limits, handle);
    this.httpServer.keepAliveTimeout = limits.keepAliveTimeout;
    this.connections = new PeerConnectionGuard(options.maxConnections ?? 256, (socket, open) => this.warnAtCap(socket.remoteAddress, open));
    this.httpServer.on('connection', (socket) => this.connections.opened(socket));
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
    let admission: CallAdmission = { maxBodyBytes: this.maxBodyBytes, proven: false };
    try {
      if (this.authenticator) admission = this.authenticator.admit(req.headers);
    } catch (err) {
      return this.refuseUnread(req, res, toFault(err), err instanceof RefusedCallFault && err.drainBody);
    }
    let body: Buffer;
    try {
      body = await readRequestBody(req, Math.min(admission.maxBodyBytes, this.maxBodyBytes));
    } catch (err) {
      if (!(err instanceof XmlRpcFault)) return; // the client went away mid-body: nobody to answer
      const stillSending = err instanceof BodyTooLargeFault && !err.drained;
      this.reply(res, 200, encodeFault(err.code, err.faultString), { Connection: 'close' }, req.headers);
      if (stillSending) res.once('finish', () => socket.destroy());
      return;
    }

    let method = '?';
    try {
      this.authenticator?.checkBody(admission, body);
      const call = decodeMethodCall(body.toString('utf8'));
      method = call.method;
      const peer = this.authenticator?.authorize(admission, call.method, call.params) ?? null;
      if (admission.proven) this.connections.prove(transportOf(socket));
      const result = await this.dispatch(call.method, call.params, req, peer);
      this.reply(res, 200, this.encodeResult(method, result), {}, req.headers);
    } catch (err) {
      const fault = toFault(err);
      if (fault.code === XmlRpcFaultCode.ApplicationError) this.logger.warn?.(`XML-RPC ${method} failed: ${fault.faultString}`);
      this.reply(res, 200, encodeFault(fault.code, fault.faultString), {}, req.headers);
    }
  }

  /**
   * A call refused on its headers alone: its body is never kept. A small one (or one from a peer
   * that will sign again) is read and dropped so the caller surely gets the fault; a large one is
   * cut once the fault is out, instead of spending the time to read it.
   */
  private refuseUnread(req: IncomingMessage, res: ServerResponse, fault: XmlRpcFault, drain: boolean): void {
    const socket = req.socket;
    const declared = Number(req.headers['content-length'] ?? 0);
    req.resume();
    this.reply(res, 200, encodeFault(fault.code, fault.faultString), { Connection: 'close' }, req.headers);
    if (!drain && !(declared <= DRAIN_UNREAD_BYTES)) res.once('finish', () => socket.destroy());
  }

  /** One WARNING per minute at most: a flood must not turn into a flood of log lines. */
  private warnAtCap(address: string | undefined, open: number): void {
    const now = performance.now();
    if (now - this.lastCapWarning < 60_000) return;
    this.lastCapWarning = now;
    this.logger.warn?.(`XML-RPC port has ${open} connections open (XMLRPC_MAX_CONNECTIONS): dropping the oldest not proven to be a peer (newest from ${address ?? 'unknown'}); ${this.connections.evicted} dropped so far`);
  }

  /** Runs the handler through Nest's processing hooks and resolves with its last value. */
  private dispatch(method: string, params: unknown[], req: IncomingMessage, peer: string | null): Promise<unknown> {
    const handler = this.handlerFor(method);
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

  private handlerFor(method: string): MessageHandler | null {
    let handler = this.handlersByMethod.get(method) ?? null;
    if (handler || !METHOD_NAME.test(method)) return handler;
    handler = this.getHandlerByPattern(method);
    if (handler) this.handlersByMethod.set(method, handler);
    return handler;
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

  /** Writes the answer; with the request's headers, it is signed for the caller (when the request was signed). */
  private reply(res: ServerResponse, status: number, xml: string, headers: Record<string, string> = {}, request?: IncomingHttpHeaders): void {
    if (res.headersSent || res.destroyed) return;
    const body = Buffer.from(xml, 'utf8');
    const signature = request && this.authenticator ? this.authenticator.replyHeaders(request, body) : {};
    res.writeHead(status, { 'Content-Type': 'text/xml', 'Content-Length': body.length, ...headers, ...signature });
    res.end(body);
  }
}

/** A refusal of a call from its headers; `drainBody`: the caller is a peer that will try again, let it read the fault. */
export class RefusedCallFault extends XmlRpcFault {
  constructor(code: number, faultString: string, readonly drainBody: boolean) {
    super(code, faultString);
  }
}

/** XmlRpcFault passes through; Nest's RPC filter hands other errors over as {status, message}. */
function toFault(err: unknown): XmlRpcFault {
  if (err instanceof XmlRpcFault) return err;
  if (err instanceof XmlRpcParseError) return new XmlRpcFault(err.code, err.message);
  const message = typeof (err as { message?: unknown })?.message === 'string' ? (err as { message: string }).message : String(err);
  return new XmlRpcFault(XmlRpcFaultCode.ApplicationError, message);
}
