import * as http from 'node:http';
import * as https from 'node:https';
import { promisify } from 'node:util';
import { urlToHttpOptions } from 'node:url';
import { gunzip } from 'node:zlib';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { decodeMethodResponse, encodeMethodCall } from './xmlrpc-codec';
import { XmlRpcTimeoutError, XmlRpcTransportError } from './xmlrpc-errors';
import { XmlRpcFault, XmlRpcFaultCode } from './xmlrpc-fault';
import type { ReplyCheck } from './peer-signature';

export interface XmlRpcClientOptions {
  /** The peer: `http://host:port` (calls go to /RPC2, as Python clients do) or a URL with a path. */
  url: string;
  /** Hard limit on every call, connect to last byte (default 5000). */
  timeoutMs?: number;
  /** Largest reply accepted, after gzip decoding (default 16 MiB). */
  maxResponseBytes?: number;
  /** Concurrent connections to the peer (default 16); further calls queue in the agent. */
  maxSockets?: number;
  /** Signs every call and checks every reply (PEER_SECRET); none = unsigned calls, unchecked replies. */
  signer?: XmlRpcCallSigner;
  /** For https:// peers: the CA (PEM) their certificates must be signed by; only it is trusted. */
  tls?: { ca: string };
}

export interface XmlRpcCallSigner {
  headers(method: string, body: Buffer): Record<string, string>;
  /** Throws unless the reply carries the peer's signature for this request (the raw bytes, before gzip decoding). */
  checkReply(requestHeaders: Record<string, string>, replyHeaders: http.IncomingHttpHeaders, body: Buffer): ReplyCheck;
}

const gunzipAsync = promisify(gunzip);
/** For calls nobody can cancel: one shared signal that never aborts, instead of an AbortController per call. */
const NEVER_ABORTED = new AbortController().signal;

/** Calls one peer over XML-RPC, reusing keep-alive connections. */
export class XmlRpcClient extends ClientProxy {
  readonly url: string;
  private readonly endpoint: URL;
  /** The endpoint as http.request options, parsed once instead of on every call. */
  private readonly target: http.RequestOptions;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly agent: http.Agent;
  private readonly signer: XmlRpcClientOptions['signer'];

  constructor(options: XmlRpcClientOptions) {
    super();
    this.endpoint = new URL(options.url);
    if (this.endpoint.protocol !== 'http:' && this.endpoint.protocol !== 'https:') {
      throw new Error(`XML-RPC peer URL must be http:// or https://, got ${options.url}`);
    }
    if (this.endpoint.pathname === '/') this.endpoint.pathname = '/RPC2';
    this.url = this.endpoint.href;
    this.target = urlToHttpOptions(this.endpoint);
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxResponseBytes = options.maxResponseBytes ?? 16 * 1024 * 1024;
    this.signer = options.signer;
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 16 };
    // https: the peer's certificate must chain to PEER_TLS_CA and name the host of its URL (checked by node:tls)
    this.agent = this.endpoint.protocol === 'https:' ? new https.Agent({ ...agentOptions, ca: options.tls?.ca }) : new http.Agent(agentOptions);
  }

  /** Resolves with the result; rejects with XmlRpcFault, XmlRpcTimeoutError or XmlRpcTransportError. */
  /** `signal` ends the call early (e.g. its peer is suspected down), as a transport error. */
  call<T = unknown>(method: string, params: unknown[], timeoutMs = this.timeoutMs, signal: AbortSignal = NEVER_ABORTED): Promise<T> {
    return this.request<T>(method, params, timeoutMs, signal);
  }

  /** Nothing to open: connections are made per call and kept alive by the agent. */
  async connect(): Promise<void> {}

  close(): void {
    this.agent.destroy();
  }

  unwrap<T = http.Agent>(): T {
    return this.agent as T;
  }

  /** `send(method, params)` as an Observable; unsubscribing aborts the call. */
  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const abort = new AbortController();
    this.request(this.normalizePattern(packet.pattern), toParams(packet.data), this.timeoutMs, abort.signal).then(
      (response) => callback({ response, isDisposed: true }),
      (err: unknown) => callback({ err }),
    );
    return () => abort.abort();
  }

  /** `emit(method, params)`: XML-RPC has no one-way calls, so this is a call whose result is dropped. */
  protected async dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    await this.call(this.normalizePattern(packet.pattern), toParams(packet.data));
    return undefined as T;
  }

  private async request<T>(method: string, params: unknown[], timeoutMs: number, signal: AbortSignal): Promise<T> {
    const body = Buffer.from(encodeMethodCall(method, params), 'utf8'); // throws XmlRpcEncodeError before any I/O
    try {
      return await this.attempt<T>(method, body, timeoutMs, signal);
    } catch (e) {
      // the peer restarted since it last answered: the call was signed for its previous run; sign again, once
      if (!(e instanceof StaleBootFault)) throw e;
      return this.attempt<T>(method, body, timeoutMs, signal).catch((again: unknown) => {
        throw again instanceof StaleBootFault ? again.fault : again;
      });
    }
  }

  private attempt<T>(method: string, body: Buffer, timeoutMs: number, signal: AbortSignal): Promise<T> {
    const transport = this.endpoint.protocol === 'https:' ? https : http;
    const failure = (problem: string, cause?: unknown) => new XmlRpcTransportError(`XML-RPC call ${method} to ${this.url} failed: ${problem}`, { cause });
    const signature = this.signer?.headers(method, body);

    return new Promise<T>((resolve, reject) => {
      const req = transport.request({
        ...this.target,
        method: 'POST',
        agent: this.agent,
        headers: { 'Content-Type': 'text/xml', 'Content-Length': body.length, 'Accept-Encoding': 'gzip', 'User-Agent': 'chat-node-xmlrpc', ...signature },
      });
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        outcome();
      };
      const fail = (err: Error) => settle(() => {
        reject(err);
        req.destroy();
      });
      const onAbort = () => fail(failure('aborted by the caller'));
      // Covers connect, a peer that accepts and never answers, and a reply that trickles in.
      const timer = setTimeout(() => fail(new XmlRpcTimeoutError(method, this.url, timeoutMs)), timeoutMs);
      signal.addEventListener('abort', onAbort);

      req.on('error', (err) => fail(failure(err.message, err)));
      req.on('response', (res) => {
        res.on('error', (err) => fail(failure(err.message, err)));
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.maxResponseBytes) return fail(failure(`reply is larger than ${this.maxResponseBytes} bytes`));
          chunks.push(chunk);
        });
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          let check: ReplyCheck = { bootChanged: false };
          if (this.signer && signature) {
            try {
              check = this.signer.checkReply(signature, res.headers, raw);
            } catch (e) {
              return fail(failure(`the reply was refused: ${(e as Error).message}`, e));
            }
          }
          this.decodeReply(method, res, raw, check).then(
            (value) => settle(() => resolve(value as T)),
            (err: Error) => fail(err),
          );
        });
      });
      req.end(body);
    });
  }

  /** Faults come back as XmlRpcFault whatever the HTTP status; other bad replies are transport errors. */
  private async decodeReply(method: string, res: http.IncomingMessage, raw: Buffer, check: ReplyCheck): Promise<unknown> {
    let text: string;
    try {
      const gzipped = res.headers['content-encoding']?.toLowerCase() === 'gzip';
      text = (gzipped ? await gunzipAsync(raw, { maxOutputLength: this.maxResponseBytes }) : raw).toString('utf8');
    } catch (err) {
      throw new XmlRpcTransportError(`XML-RPC reply to ${method} from ${this.url} could not be decompressed: ${(err as Error).message}`, { cause: err });
    }
    try {
      return decodeMethodResponse(text);
    } catch (err) {
      if (err instanceof XmlRpcFault && err.code === XmlRpcFaultCode.PeerAuthRequired && check.bootChanged) throw new StaleBootFault(err);
      if (err instanceof XmlRpcFault) throw err;
      const status = res.statusCode === 200 ? '' : ` (HTTP ${res.statusCode})`;
      throw new XmlRpcTransportError(`XML-RPC reply to ${method} from ${this.url}${status} is not a valid methodResponse: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** A -32401 from a peer that runs under another boot id than the call was signed for: worth one more try. */
class StaleBootFault extends Error {
  constructor(readonly fault: XmlRpcFault) {
    super(fault.message);
  }
}

/** The params array as given, or a lone payload wrapped as the only param. */
function toParams(data: unknown): unknown[] {
  return Array.isArray(data) ? data : [data];
}
