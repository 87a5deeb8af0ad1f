/**
 * Container health probe and operator diagnostic: calls the node's XML-RPC `heartbeat()` and exits
 * 0 when it answers `status: ok`, 1 otherwise (printing why).
 *
 *   node dist/healthcheck.js                       # this container's node: 127.0.0.1:$XMLRPC_PORT/RPC2
 *   node dist/healthcheck.js http://node2:9090 ... # any node(s) reachable from here, e.g. over the overlay
 *
 * It is a separate tiny program run by the image's HEALTHCHECK every few seconds, so it uses only
 * `node:http(s)` and the app's Nest-free XML-RPC codec (no Nest, no app modules) and, unlike the app,
 * reads process.env itself (XMLRPC_PORT, and whether PEER_TLS_* is set; the app's validated config
 * lives in src/common/config/). With TLS the local node is asked over https without checking its
 * certificate (it is this container's own node, on loopback, where its certificate's names do not
 * apply); https URLs given as arguments are checked against PEER_TLS_CA(_FILE).
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readMethodResponse } from './common/xmlrpc/xmlrpc-decode';
import { encodeMethodCall } from './common/xmlrpc/xmlrpc-encode';

const TIMEOUT_MS = 5000;
const MAX_RESPONSE_BYTES = 64 * 1024;

const HEARTBEAT_CALL = encodeMethodCall('heartbeat', []);

export interface HeartbeatResult {
  readonly ok: boolean;
  /** Members of the returned struct (string values only), or the reason the probe failed. */
  readonly detail: Record<string, string> | string;
}

/** The scalar members of a heartbeat's struct as strings (nested values are left out), or null if it is no struct. */
export function heartbeatMembers(value: unknown): Record<string, string> | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Buffer.isBuffer(value)) return null;
  const members: Record<string, string> = {};
  for (const [name, member] of Object.entries(value)) {
    if (member === null || typeof member !== 'object') members[name] = String(member);
  }
  return members;
}

/** What the probe concludes from a reply body with HTTP 200. */
export function judgeHeartbeatReply(body: string): HeartbeatResult {
  let response: ReturnType<typeof readMethodResponse>;
  try {
    response = readMethodResponse(body);
  } catch (err) {
    return { ok: false, detail: `not an XML-RPC methodResponse: ${(err as Error).message}` };
  }
  if ('fault' in response) return { ok: false, detail: `XML-RPC fault ${response.fault.code}: ${response.fault.faultString.slice(0, 300)}` };
  const members = heartbeatMembers(response.value);
  if (members?.status === 'ok') return { ok: true, detail: members };
  return { ok: false, detail: `status is not ok: ${JSON.stringify(response.value).slice(0, 300)}` };
}

export function heartbeat(url: string, timeoutMs = TIMEOUT_MS, tls: Pick<RequestOptions & { ca?: string; rejectUnauthorized?: boolean }, 'ca' | 'rejectUnauthorized'> = {}): Promise<HeartbeatResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: HeartbeatResult): void => {
      if (!settled) {
        settled = true;
        resolve(result);
      }
    };
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      done({ ok: false, detail: `not a URL: ${url}` });
      return;
    }
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(
      target,
      {
        ...(target.protocol === 'https:' ? tls : {}),
        method: 'POST',
        headers: { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(HEARTBEAT_CALL) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy();
            done({ ok: false, detail: `response larger than ${MAX_RESPONSE_BYTES} bytes` });
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          done(res.statusCode === 200 ? judgeHeartbeatReply(body) : { ok: false, detail: `HTTP ${res.statusCode} from ${url}` });
        });
        res.on('error', (err) => done({ ok: false, detail: `${url}: ${err.message}` }));
      },
    );
    req.on('timeout', () => {
      req.destroy();
      done({ ok: false, detail: `no answer from ${url} within ${timeoutMs} ms` });
    });
    req.on('error', (err) => done({ ok: false, detail: `${url}: ${err.message}` }));
    req.end(HEARTBEAT_CALL);
  });
}

/** `http://host:port` (the PEER_NODES form) gets the `/RPC2` path; an explicit path is kept. */
export function heartbeatUrl(arg: string | undefined, env: Record<string, string | undefined> = process.env): string {
  const scheme = tlsOn(env) ? 'https' : 'http';
  if (!arg) return `${scheme}://127.0.0.1:${env.XMLRPC_PORT || '9090'}/RPC2`;
  const url = new URL(arg.includes('://') ? arg : `${scheme}://${arg}`);
  if (url.pathname === '/' && !arg.endsWith('/')) url.pathname = '/RPC2';
  return url.toString();
}

/** PEER_TLS_CERT or its _FILE form set: the node serves XML-RPC over TLS. */
const tlsOn = (env: Record<string, string | undefined>) => Boolean(env.PEER_TLS_CERT?.trim() || env.PEER_TLS_CERT_FILE?.trim());

function trustedCa(env: Record<string, string | undefined>): string | undefined {
  if (env.PEER_TLS_CA_FILE?.trim()) return readFileSync(env.PEER_TLS_CA_FILE.trim(), 'utf8');
  return env.PEER_TLS_CA?.trim().replace(/\\n/g, '\n') || undefined;
}

async function main(argv: readonly string[]): Promise<number> {
  const targets = argv.length > 0 ? argv : [undefined];
  let failures = 0;
  for (const arg of targets) {
    let url: string;
    try {
      url = heartbeatUrl(arg);
    } catch {
      console.error(`healthcheck: not a URL: ${arg}`);
      failures++;
      continue;
    }
    // this container's own node: its certificate names it for peers, not for 127.0.0.1
    const tls = arg === undefined ? { rejectUnauthorized: false } : { ca: trustedCa(process.env) };
    const result = await heartbeat(url, TIMEOUT_MS, tls);
    if (result.ok) {
      console.log(`${url} ${JSON.stringify(result.detail)}`);
    } else {
      console.error(`healthcheck: ${url} unhealthy: ${String(result.detail)}`);
      failures++;
    }
  }
  return failures === 0 ? 0 : 1;
}

// Run only as a program (not when a spec imports it); works whether the build emits CJS or ESM.
if (/healthcheck\.[cm]?[jt]s$/.test(process.argv[1] ?? '')) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`healthcheck: ${String(err)}`);
      process.exit(1);
    },
  );
}
