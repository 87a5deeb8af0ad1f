import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** HTTP headers that carry a peer call's signature and its reply's; the XML-RPC body itself stays standard. */
export const PEER_HEADERS = {
  peer: 'x-chat-peer',
  method: 'x-chat-method',
  boot: 'x-chat-boot',
  timestamp: 'x-chat-timestamp',
  nonce: 'x-chat-nonce',
  bodyHash: 'x-chat-body-sha256',
  signature: 'x-chat-signature',
} as const;

const SCHEME = 'chat-peer-v2';
const REPLY_SCHEME = 'chat-peer-reply-v2';
/** What a caller puts in X-Chat-Boot before it has heard the callee's boot id (the callee then refuses once, naming it). */
export const UNKNOWN_BOOT = '-';
const NONCE = /^[A-Za-z0-9_-]{16,64}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const TIMESTAMP = /^\d{1,16}$/;
const BOOT = /^[A-Za-z0-9-]{1,64}$/;
const METHOD = /^[A-Za-z0-9_.:/-]{1,128}$/;

/** The fields of a call's signature; the body enters through its SHA-256, so the headers can be checked before it is read. */
export interface SignedCall {
  method: string;
  sender: string;
  recipient: string;
  /** The recipient's boot id as the sender knows it: a call captured before the recipient restarted does not verify after. */
  recipientBoot: string;
  timestamp: string;
  nonce: string;
  bodyHash: string;
}

/**
 * HMAC-SHA256 over everything a replayed or redirected call could change: method, sender,
 * recipient and its run (boot id), timestamp, nonce and the body's hash.
 */
export function peerSignature(secret: string, c: SignedCall): Buffer {
  return createHmac('sha256', secret).update(`${SCHEME}\n${c.method}\n${c.sender}\n${c.recipient}\n${c.recipientBoot}\n${c.timestamp}\n${c.nonce}\n${c.bodyHash}`).digest();
}

/** A reply's HMAC: bound to the callee, its run, and the request it answers (its nonce and signature), over the exact reply bytes. */
export function replySignature(secret: string, callee: string, boot: string, nonce: string, requestSignature: string, body: Buffer): Buffer {
  return createHmac('sha256', secret).update(`${REPLY_SCHEME}\n${callee}\n${boot}\n${nonce}\n${requestSignature}\n`).update(body).digest();
}

export const sha256Hex = (body: Buffer): string => createHash('sha256').update(body).digest('hex');

/** Why a call, or a reply, was not accepted as coming from a peer (logged; a refused caller gets it in the fault). */
export class PeerAuthError extends Error {
  /** The call was signed for an earlier run of this node: the caller should sign again with `currentBoot`. */
  readonly staleBoot: boolean;
  constructor(message: string, staleBoot = false) {
    super(message);
    this.staleBoot = staleBoot;
  }
}

/** What a reply check tells the client: whether the callee runs under a boot id other than the one this call was signed for. */
export interface ReplyCheck {
  bootChanged: boolean;
}

/**
 * Signs the calls one node makes to one peer and checks the peer's signed replies. Nonces need to
 * be unique, not secret (the HMAC covers them): a random prefix per signer and a counter. The
 * peer's boot id is learned from its signed replies.
 */
export class PeerCallSigner {
  private readonly noncePrefix = randomBytes(12).toString('base64url');
  private calls = 0;

  constructor(
    private readonly secret: string,
    private readonly sender: string,
    private readonly recipient: string,
    private readonly now: () => number = Date.now,
    /** The peer's boot id, when already known (from a heartbeat); else learned from its first signed reply. */
    private peerBoot: string = UNKNOWN_BOOT,
  ) {}

  headers(method: string, body: Buffer): Record<string, string> {
    const call: SignedCall = {
      method,
      sender: this.sender,
      recipient: this.recipient,
      recipientBoot: this.peerBoot,
      timestamp: String(this.now()),
      nonce: `${this.noncePrefix}${(this.calls++).toString(36)}`,
      bodyHash: sha256Hex(body),
    };
    return {
      'X-Chat-Peer': call.sender,
      'X-Chat-Method': call.method,
      'X-Chat-Boot': call.recipientBoot,
      'X-Chat-Timestamp': call.timestamp,
      'X-Chat-Nonce': call.nonce,
      'X-Chat-Body-SHA256': call.bodyHash,
      'X-Chat-Signature': peerSignature(this.secret, call).toString('hex'),
    };
  }

  /**
   * Accepts a reply only with the peer's valid signature for this very request; throws
   * PeerAuthError otherwise (a forged `true`, a reply to another call, or a peer without the secret).
   */
  checkReply(requestHeaders: Record<string, string>, replyHeaders: IncomingHttpHeaders, body: Buffer): ReplyCheck {
    const signature = header(replyHeaders, PEER_HEADERS.signature);
    const boot = header(replyHeaders, PEER_HEADERS.boot);
    if (!signature || !boot) throw new PeerAuthError('the reply is not signed (does the peer have this PEER_SECRET?)');
    if (!HEX64.test(signature) || !BOOT.test(boot)) throw new PeerAuthError('the reply\'s signature headers are malformed');
    const expected = replySignature(this.secret, this.recipient, boot, requestHeaders['X-Chat-Nonce'], requestHeaders['X-Chat-Signature'], body);
    if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) throw new PeerAuthError('the reply\'s signature does not match this call (forged, or meant for another call)');
    const bootChanged = boot !== requestHeaders['X-Chat-Boot'];
    this.peerBoot = boot;
    return { bootChanged };
  }
}

export interface PeerCallVerifierOptions {
  secret: string;
  /** This node: the recipient every accepted signature must name. */
  nodeId: string;
  /** This run of this node: calls signed for another run (captured before a restart) are refused. */
  bootId: string;
  /** Only these senders (PEER_NODES ids) are accepted. */
  peers: Iterable<string>;
  /** Accepted difference between the sender's and our clock, either way (default 30 s). */
  maxSkewMs?: number;
  /** Nonces remembered at most; when full of unexpired ones, further calls are refused (default 200k). */
  maxNonces?: number;
  /** Wall clock: timestamps come from other nodes' wall clocks. */
  now?: () => number;
}

/**
 * Checks a signed call from its headers alone, before its body is read: known sender, fresh
 * timestamp, valid HMAC, this run of this node, nonce not seen within the skew window. The body
 * is then held to the signed hash. Only calls whose headers verified are remembered, so strangers
 * cannot fill the nonce cache. Also signs this node's replies.
 */
export class PeerCallVerifier {
  private readonly secret: string;
  private readonly nodeId: string;
  readonly bootId: string;
  private readonly peers: Set<string>;
  private readonly maxSkewMs: number;
  private readonly maxNonces: number;
  private readonly now: () => number;
  /** nonce -> the time after which its timestamp is stale anyway; insertion order ~ expiry order. */
  private readonly seen = new Map<string, number>();

  constructor(options: PeerCallVerifierOptions) {
    this.secret = options.secret;
    this.nodeId = options.nodeId;
    this.bootId = options.bootId;
    this.peers = new Set(options.peers);
    this.maxSkewMs = options.maxSkewMs ?? 30_000;
    this.maxNonces = options.maxNonces ?? 200_000;
    this.now = options.now ?? Date.now;
  }

  get remembered(): number {
    return this.seen.size;
  }

  /** Whether the request carries signature headers at all (a probe or a reference node does not). */
  static isSigned(headers: IncomingHttpHeaders): boolean {
    return header(headers, PEER_HEADERS.signature) !== undefined;
  }

  /** The signed call, or PeerAuthError saying what is wrong. Costs one HMAC over a few short strings. */
  verifyHeaders(headers: IncomingHttpHeaders): SignedCall {
    const sender = header(headers, PEER_HEADERS.peer);
    const method = header(headers, PEER_HEADERS.method);
    const recipientBoot = header(headers, PEER_HEADERS.boot);
    const timestamp = header(headers, PEER_HEADERS.timestamp);
    const nonce = header(headers, PEER_HEADERS.nonce);
    const bodyHash = header(headers, PEER_HEADERS.bodyHash);
    const signature = header(headers, PEER_HEADERS.signature);
    if (!sender || !method || !recipientBoot || !timestamp || !nonce || !bodyHash || !signature) throw new PeerAuthError('the call is not signed');
    if (!this.peers.has(sender)) throw new PeerAuthError(`sender "${sender.slice(0, 64)}" is not in PEER_NODES`);
    if (!METHOD.test(method) || !BOOT.test(recipientBoot) || !TIMESTAMP.test(timestamp) || !NONCE.test(nonce) || !HEX64.test(bodyHash) || !HEX64.test(signature)) {
      throw new PeerAuthError('the signature headers are malformed');
    }
    const now = this.now();
    if (Math.abs(now - Number(timestamp)) > this.maxSkewMs) throw new PeerAuthError(`the timestamp is more than ${this.maxSkewMs / 1000} s from this node's clock`);
    const call: SignedCall = { method, sender, recipient: this.nodeId, recipientBoot, timestamp, nonce, bodyHash };
    if (!timingSafeEqual(peerSignature(this.secret, call), Buffer.from(signature, 'hex'))) throw new PeerAuthError('the signature does not match (a different PEER_SECRET?)');
    if (recipientBoot !== this.bootId) {
      throw new PeerAuthError(`the call was signed for ${recipientBoot === UNKNOWN_BOOT ? 'an unknown run' : 'an earlier run'} of this node (boot id ${this.bootId} now); sign again`, true);
    }
    this.forgetExpired(now);
    if (this.seen.has(nonce)) throw new PeerAuthError('the call was replayed (nonce already used)');
    if (this.seen.size >= this.maxNonces) throw new PeerAuthError('too many calls within the replay window; try again shortly');
    this.seen.set(nonce, Number(timestamp) + this.maxSkewMs);
    return call;
  }

  /** Throws PeerAuthError unless `body` is the one the call signed. */
  verifyBody(call: SignedCall, body: Buffer): void {
    if (!timingSafeEqual(Buffer.from(sha256Hex(body), 'hex'), Buffer.from(call.bodyHash, 'hex'))) throw new PeerAuthError('the body is not the one that was signed');
  }

  /** Headers that sign a reply to a request carrying a nonce and a signature (verified or not); none otherwise. */
  signReply(requestHeaders: IncomingHttpHeaders, body: Buffer): Record<string, string> {
    const nonce = header(requestHeaders, PEER_HEADERS.nonce);
    const signature = header(requestHeaders, PEER_HEADERS.signature);
    if (!nonce || !signature || !NONCE.test(nonce) || !HEX64.test(signature)) return {};
    return { 'X-Chat-Boot': this.bootId, 'X-Chat-Signature': replySignature(this.secret, this.nodeId, this.bootId, nonce, signature, body).toString('hex') };
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
