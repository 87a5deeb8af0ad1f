// The `xmlrpc` npm package (1.3.2) as a third-party peer for the interoperability suite: its client
// and its server, promisified, over real sockets. Our nodes never use it (docs/performance.md).
import type { AddressInfo } from 'node:net';
import * as xmlrpc from 'xmlrpc';

interface PackageSerializer {
  serializeMethodCall(method: string, params: unknown[], encoding?: string): string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the package's own writer, to sign exactly the body its client sends
const serializer = require('xmlrpc/lib/serializer') as PackageSerializer;

/** What the package's client reports for a fault (an Error carrying the fault's fields). */
export interface PackageFault {
  faultCode: number;
  faultString: string;
}

/** Signs a body for a method (our PeerCallSigner.headers). */
type Signer = { headers(method: string, body: Buffer): Record<string, string> };

/** The package's client against `url` (calls to /RPC2, as ours and Python's do). */
export class PackageClient {
  private readonly client: xmlrpc.Client;

  constructor(url: string) {
    const u = new URL(url);
    this.client = xmlrpc.createClient({ host: u.hostname, port: Number(u.port), path: u.pathname === '/' ? '/RPC2' : u.pathname });
  }

  /** Resolves with the decoded result; rejects with the package's error (a fault has faultCode and faultString). */
  call(method: string, params: unknown[], signer?: Signer): Promise<unknown> {
    const headers = this.client.options.headers!;
    for (const name of Object.keys(headers)) if (name.startsWith('X-Chat-')) delete headers[name];
    // the package serialises deterministically: the body it sends is the one signed here
    if (signer) Object.assign(headers, signer.headers(method, Buffer.from(serializer.serializeMethodCall(method, params), 'utf8')));
    return new Promise((resolve, reject) => this.client.methodCall(method, params, (err, value) => (err ? reject(err) : resolve(value))));
  }

  /** The fault a call ends in; fails when it succeeds or ends otherwise. */
  async fault(method: string, params: unknown[], signer?: Signer): Promise<PackageFault> {
    const outcome = await this.call(method, params, signer).then(
      (value) => ({ value }),
      (err: Error & Partial<PackageFault>) => ({ err }),
    );
    if (!('err' in outcome) || outcome.err.faultCode === undefined) throw new Error(`expected a fault, got ${JSON.stringify(outcome).slice(0, 300)}`);
    return { faultCode: outcome.err.faultCode, faultString: outcome.err.faultString ?? '' };
  }
}

export type PackageHandler = (params: unknown[]) => unknown;

/** A server built with the package on 127.0.0.1 (a free port); each handler answers or throws a `{faultCode, faultString}`. */
export class PackageServer {
  private constructor(
    private readonly server: xmlrpc.Server,
    readonly url: string,
  ) {}

  static async start(handlers: Record<string, PackageHandler>): Promise<PackageServer> {
    const server = await new Promise<xmlrpc.Server>((resolve) => {
      const s = xmlrpc.createServer({ host: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    for (const [method, handler] of Object.entries(handlers)) {
      server.on(method, (_err: unknown, params: unknown[], reply: (error: unknown, value: unknown) => void) => {
        let value: unknown;
        try {
          value = handler(params);
        } catch (fault) {
          return reply(fault, undefined);
        }
        reply(null, value);
      });
    }
    const { port } = server.httpServer.address() as AddressInfo;
    return new PackageServer(server, `http://127.0.0.1:${port}`);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.httpServer.close(() => resolve());
      (this.server.httpServer as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
  }
}
