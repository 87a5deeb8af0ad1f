import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** HTTP headers that carry a peer call's signature; the XML-RPC body itself stays standard. */
export const PEER_HEADERS = {
  peer: 'x-chat-peer',
  timestamp: 'x-chat-timestamp',
  nonce: 'x-chat-nonce',
  signature: 'x-chat-signature',
} as const;

const SCHEME = 'chat-peer-v1';
const NONCE = /^[A-Za-z0-9_-]{16,64}$/;
const SIGNATURE = /^[0-9a-f]{64}$/;
const TIMESTAMP = /^\d{1,16}$/;

/**
 * HMAC-SHA256 over everything a replayed or redirected call could change: method, sender,
 * recipient (a call to node2 does not verify on node3), timestamp, nonce and the exact body.
 */
export function peerSignature(secret: string, method: string, sender: string, recipient: string, timestamp: string, nonce: string, body: Buffer): Buffer {
  return createHmac('sha256', secret).update(`${SCHEME}\n${method}\n${sender}\n${recipient}\n${timestamp}\n${nonce}\n`).update(body).digest();
}

/**
 * Signs the calls one node makes to one peer. Nonces need to be unique, not secret (the HMAC
 * covers them): a random prefix per signer and a counter, instead of random bytes per call.
 */
export class PeerCallSigner {
  private readonly noncePrefix = randomBytes(12).toString('base64url');
  private calls = 0;

  constructor(
    private readonly secret: string,
    private readonly sender: string,
    private readonly recipient: string,
    private readonly now: () => number = Date.now,
  ) {}

  headers(method: string, body: Buffer): Record<string, string> {
    const timestamp = String(this.now());
    const nonce = `${this.noncePrefix}${(this.calls++).toString(36)}`;
    const signature = peerSignature(this.secret, method, this.sender, this.recipient, timestamp, nonce, body).toString('hex');
    return { 'X-Chat-Peer': this.sender, 'X-Chat-Timestamp': timestamp, 'X-Chat-Nonce': nonce, 'X-Chat-Signature': signature };
  }
}

/** Why a call was not accepted as coming from a peer (logged; the caller gets the reason in the fault). */
export class PeerAuthError extends Error {}

export interface PeerCallVerifierOptions {
  secret: string;
  /** This node: the recipient every accepted signature must name. */
  nodeId: string;
  /** Only these senders (PEER_NODES ids) are accepted. */
  peers: Iterable<string>;
  /** Accepted difference between the sender's and our clock, either way (default 30 s). */
  maxSkewMs?: number;
  /** Nonces remembered at most; when full of unexpired ones, further calls are refused (default 200k). */
  maxNonces?: number;
  now?: () => number;
}

/**
 * Checks a signed call: known sender, fresh timestamp, valid HMAC, nonce not seen within the
 * skew window. Only calls that verified are remembered, so strangers cannot fill the nonce cache.
 */
export class PeerCallVerifier {
  private readonly secret: string;
  private readonly nodeId: string;
  private readonly peers: Set<string>;
  private readonly maxSkewMs: number;
  private readonly maxNonces: number;
  private readonly now: () => number;
  /** nonce -> the time after which its timestamp is stale anyway; insertion order ~ expiry order. */
  private readonly seen = new Map<string, number>();

  constructor(options: PeerCallVerifierOptions) {
    this.secret = options.secret;
    this.nodeId = options.nodeId;
    this.peers = new Set(options.peers);
    this.maxSkewMs = options.maxSkewMs ?? 30_000;
    this.maxNonces = options.maxNonces ?? 200_000;
    this.now = options.now ?? Date.now;
  }

  get remembered(): number {
    return this.seen.size;
  }

  /** Returns the sender's node id, or throws PeerAuthError saying what is wrong. */
  verify(method: string, body: Buffer, headers: IncomingHttpHeaders): string {
    const sender = header(headers, PEER_HEADERS.peer);
    const timestamp = header(headers, PEER_HEADERS.timestamp);
    const nonce = header(headers, PEER_HEADERS.nonce);
    const signature = header(headers, PEER_HEADERS.signature);
    if (!sender || !timestamp || !nonce || !signature) throw new PeerAuthError('the call is not signed');
    if (!this.peers.has(sender)) throw new PeerAuthError(`sender "${sender.slice(0, 64)}" is not in PEER_NODES`);
    if (!TIMESTAMP.test(timestamp) || !NONCE.test(nonce) || !SIGNATURE.test(signature)) throw new PeerAuthError('the signature headers are malformed');
    const now = this.now();
    if (Math.abs(now - Number(timestamp)) > this.maxSkewMs) throw new PeerAuthError(`the timestamp is more than ${this.maxSkewMs / 1000} s from this node's clock`);
    const expected = peerSignature(this.secret, method, sender, this.nodeId, timestamp, nonce, body);
    if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) throw new PeerAuthError('the signature does not match (a different PEER_SECRET?)');
    this.forgetExpired(now);
    if (this.seen.has(nonce)) throw new PeerAuthError('the call was replayed (nonce already used)');
    if (this.seen.size >= this.maxNonces) throw new PeerAuthError('too many calls within the replay window; try again shortly');
    this.seen.set(nonce, Number(timestamp) + this.maxSkewMs);
    return sender;
  }

  private forgetExpired(now: number): void {
    for (const [nonce, expires] of this.seen) {
      if (expires >= now) break;
      this.seen.delete(nonce);
    }
  }
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}
