import type { IncomingHttpHeaders } from 'node:http';
import { PeerAuthError, PeerCallSigner, PeerCallVerifier, UNKNOWN_BOOT } from './peer-signature';

const SECRET = 'a-cluster-secret-of-some-length';
const BOOT = '6c7bd6ad-1c51-4b2b-9a57-2f0a4b2f3f10';
const BODY = Buffer.from('<?xml version="1.0"?><methodCall><methodName>get_room_states</methodName><params/></methodCall>');

/** Node's http module hands headers over lower-cased. */
const lower = (h: Record<string, string>): IncomingHttpHeaders => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

describe(PeerCallVerifier.name, () => {
  let now: number;
  let sut: PeerCallVerifier;
  const sign = (opts: { secret?: string; sender?: string; recipient?: string; at?: number; method?: string; body?: Buffer; boot?: string } = {}) =>
    lower(new PeerCallSigner(opts.secret ?? SECRET, opts.sender ?? 'node2', opts.recipient ?? 'node1', () => opts.at ?? now, opts.boot ?? BOOT).headers(opts.method ?? 'get_room_states', opts.body ?? BODY));
  const refusal = (headers: IncomingHttpHeaders, body = BODY) => {
    try {
      sut.verifyBody(sut.verifyHeaders(headers), body);
    } catch (e) {
      if (e instanceof PeerAuthError) return e.message;
      throw e;
    }
    return null;
  };

  beforeEach(() => {
    now = 1_000_000;
    sut = new PeerCallVerifier({ secret: SECRET, nodeId: 'node1', bootId: BOOT, peers: ['node2', 'node3'], maxSkewMs: 30_000, maxNonces: 3, now: () => now });
  });

  it('accepts a call signed by a configured peer for this run of this node, and names the sender and method', () => {
    expect(sut.verifyHeaders(sign())).toMatchObject({ sender: 'node2', method: 'get_room_states' });
  });

  it('checks everything but the body from the headers alone; the body must then be the signed one', () => {
    const call = sut.verifyHeaders(sign());
    expect(() => sut.verifyBody(call, Buffer.concat([BODY, Buffer.from(' ')]))).toThrow(/not the one that was signed/);
    expect(() => sut.verifyBody(call, BODY)).not.toThrow();
  });

  it('refuses an unsigned call, malformed headers and an unknown sender', () => {
    expect(refusal({})).toMatch(/not signed/);
    expect(refusal({ ...sign(), 'x-chat-signature': 'zz' })).toMatch(/malformed/);
    expect(refusal({ ...sign(), 'x-chat-method': 'no spaces allowed' })).toMatch(/malformed/);
    expect(refusal(sign({ sender: 'node9' }))).toMatch(/node9" is not in PEER_NODES/);
  });

  it('refuses another secret, another signed method or body hash, and a call meant for another node', () => {
    expect(refusal(sign({ secret: 'another-secret-entirely' }))).toMatch(/does not match/);
    expect(refusal({ ...sign(), 'x-chat-method': 'get_messages' })).toMatch(/does not match/);
    expect(refusal({ ...sign(), 'x-chat-body-sha256': '0'.repeat(64) })).toMatch(/does not match/);
    expect(refusal(sign({ recipient: 'node3' }))).toMatch(/does not match/);
  });

  it('refuses a call signed for another run of this node (captured before a restart), saying so', () => {
    let error: unknown;
    try {
      sut.verifyHeaders(sign({ boot: 'an-earlier-boot-id' }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PeerAuthError);
    expect((error as PeerAuthError).staleBoot).toBe(true);
    expect((error as Error).message).toMatch(/signed for an earlier run of this node/);
    expect(refusal(sign({ boot: UNKNOWN_BOOT }))).toMatch(/signed for an unknown run/);
  });

  it('refuses timestamps outside the skew either way, and accepts those inside', () => {
    expect(refusal(sign({ at: now - 30_001 }))).toMatch(/timestamp/);
    expect(refusal(sign({ at: now + 30_001 }))).toMatch(/timestamp/);
    expect(refusal(sign({ at: now - 29_000 }))).toBeNull();
    expect(refusal(sign({ at: now + 29_000 }))).toBeNull();
  });

  it('refuses a replay within the window; afterwards the stale timestamp refuses it, and the nonce is forgotten', () => {
    const headers = sign();
    expect(refusal(headers)).toBeNull();
    expect(refusal(headers)).toMatch(/replayed/);
    now += 31_000;
    expect(refusal(headers)).toMatch(/timestamp/);
    expect(refusal(sign())).toBeNull();
    expect(sut.remembered).toBe(1);
  });

  it('remembers at most maxNonces: when full of live nonces it refuses instead of forgetting one early', () => {
    for (let i = 0; i < 3; i++) expect(refusal(sign())).toBeNull();
    expect(refusal(sign())).toMatch(/too many calls/);
    now += 31_000;
    expect(refusal(sign())).toBeNull();
    expect(sut.remembered).toBe(1);
  });

  it('does not remember calls that failed verification (strangers cannot fill the cache)', () => {
    for (let i = 0; i < 10; i++) refusal(sign({ secret: 'wrong-secret-wrong-secret' }));
    expect(sut.remembered).toBe(0);
  });
});

describe(PeerCallSigner.name, () => {
  const verifier = new PeerCallVerifier({ secret: SECRET, nodeId: 'node1', bootId: BOOT, peers: ['node2'], now: () => 42 });

  it('sends the signature headers with a fresh nonce every call', () => {
    const sut = new PeerCallSigner(SECRET, 'node2', 'node1', () => 42);
    const a = sut.headers('heartbeat', BODY);
    const b = sut.headers('heartbeat', BODY);
    expect(Object.keys(a).sort()).toEqual(['X-Chat-Body-SHA256', 'X-Chat-Boot', 'X-Chat-Method', 'X-Chat-Nonce', 'X-Chat-Peer', 'X-Chat-Signature', 'X-Chat-Timestamp']);
    expect(a).toMatchObject({ 'X-Chat-Peer': 'node2', 'X-Chat-Method': 'heartbeat', 'X-Chat-Boot': UNKNOWN_BOOT, 'X-Chat-Timestamp': '42' });
    expect(a['X-Chat-Nonce']).not.toBe(b['X-Chat-Nonce']);
    expect(a['X-Chat-Signature']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('accepts only the peer\'s signed reply to this very request, and learns the peer\'s run from it', () => {
    const sut = new PeerCallSigner(SECRET, 'node2', 'node1', () => 42);
    const request = sut.headers('get_room_states', BODY);
    const other = sut.headers('get_room_states', BODY);
    const reply = Buffer.from('<methodResponse>true</methodResponse>');
    const signed = lower(verifier.signReply(lower(request), reply));
    expect(() => sut.checkReply(request, {}, reply)).toThrow(/reply is not signed/);
    expect(() => sut.checkReply(request, signed, Buffer.from('<methodResponse>false</methodResponse>'))).toThrow(/does not match this call/);
    expect(() => sut.checkReply(other, signed, reply)).toThrow(/does not match this call/); // a reply to one call passed off as another's
    expect(() => new PeerCallSigner('another-secret-entirely', 'node2', 'node1').checkReply(request, signed, reply)).toThrow(/does not match/);
    expect(sut.checkReply(request, signed, reply)).toEqual({ bootChanged: true });
    expect(sut.headers('get_room_states', BODY)['X-Chat-Boot']).toBe(BOOT);
  });

  it('signs no reply to a request that carried no signature (a probe, a reference node)', () => {
    expect(verifier.signReply({}, Buffer.from('x'))).toEqual({});
  });
});
