import type { IncomingHttpHeaders } from 'node:http';
import { PeerAuthError, PeerCallSigner, PeerCallVerifier } from './peer-signature';

const SECRET = 'a-cluster-secret-of-some-length';
const BODY = Buffer.from('<?xml version="1.0"?><methodCall><methodName>get_room_states</methodName><params/></methodCall>');

/** Node's http module hands headers over lower-cased. */
const lower = (h: Record<string, string>): IncomingHttpHeaders => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

describe(PeerCallVerifier.name, () => {
  let now: number;
  let sut: PeerCallVerifier;
  const sign = (opts: { secret?: string; sender?: string; recipient?: string; at?: number; method?: string; body?: Buffer } = {}) =>
    lower(new PeerCallSigner(opts.secret ?? SECRET, opts.sender ?? 'node2', opts.recipient ?? 'node1', () => opts.at ?? now).headers(opts.method ?? 'get_room_states', opts.body ?? BODY));
  const refusal = (headers: IncomingHttpHeaders, method = 'get_room_states', body = BODY) => {
    try {
      sut.verify(method, body, headers);
    } catch (e) {
      if (e instanceof PeerAuthError) return e.message;
      throw e;
    }
    return null;
  };

  beforeEach(() => {
    now = 1_000_000;
    sut = new PeerCallVerifier({ secret: SECRET, nodeId: 'node1', peers: ['node2', 'node3'], maxSkewMs: 30_000, maxNonces: 3, now: () => now });
  });

  it('accepts a call signed by a configured peer and names the sender', () => {
    expect(sut.verify('get_room_states', BODY, sign())).toBe('node2');
  });

  it('refuses an unsigned call, malformed headers and an unknown sender', () => {
    expect(refusal({})).toMatch(/not signed/);
    expect(refusal({ ...sign(), 'x-chat-signature': 'zz' })).toMatch(/malformed/);
    expect(refusal(sign({ sender: 'node9' }))).toMatch(/node9" is not in PEER_NODES/);
  });

  it('refuses another secret, another method, another body and a call meant for another node', () => {
    expect(refusal(sign({ secret: 'another-secret-entirely' }))).toMatch(/does not match/);
    expect(refusal(sign({ method: 'get_messages' }))).toMatch(/does not match/);
    expect(refusal(sign(), 'get_room_states', Buffer.concat([BODY, Buffer.from(' ')]))).toMatch(/does not match/);
    expect(refusal(sign({ recipient: 'node3' }))).toMatch(/does not match/);
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
  it('sends the four headers with a fresh nonce every call', () => {
    const sut = new PeerCallSigner(SECRET, 'node2', 'node1', () => 42);
    const a = sut.headers('heartbeat', BODY);
    const b = sut.headers('heartbeat', BODY);
    expect(Object.keys(a).sort()).toEqual(['X-Chat-Nonce', 'X-Chat-Peer', 'X-Chat-Signature', 'X-Chat-Timestamp']);
    expect(a).toMatchObject({ 'X-Chat-Peer': 'node2', 'X-Chat-Timestamp': '42' });
    expect(a['X-Chat-Nonce']).not.toBe(b['X-Chat-Nonce']);
    expect(a['X-Chat-Signature']).toMatch(/^[0-9a-f]{64}$/);
  });
});
