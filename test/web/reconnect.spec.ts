import { Backoff, NodeRotation, ReconnectPlanner, nodesFromCluster, normalizeNode, parseNodeList, tokenSubject, wsUrl } from '../../web/src/reconnect';

describe('Backoff', () => {
  it('grows exponentially up to the cap and resets', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1000, 1000]);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('keeps jitter within the configured fraction', () => {
    const lo = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0 });
    const hi = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0.9999 });
    expect(lo.next()).toBe(800);
    expect(hi.next()).toBe(1200);
  });
});

describe('NodeRotation / ReconnectPlanner', () => {
  it('starts at the chosen node and wraps around', () => {
    const r = new NodeRotation(['a:1', 'b:2', 'c:3'], 'b:2');
    expect(r.current).toBe('b:2');
    expect([r.advance(), r.advance(), r.advance()]).toEqual(['c:3', 'a:1', 'b:2']);
  });

  it('retries the same node first, then rotates; success starts over', () => {
    const p = new ReconnectPlanner(new NodeRotation(['a:1', 'b:2', 'c:3']), new Backoff({ initialMs: 10, jitter: 0 }));
    expect(p.next()).toEqual({ node: 'a:1', delayMs: 10 });
    expect(p.next()).toEqual({ node: 'b:2', delayMs: 20 });
    expect(p.next()).toEqual({ node: 'c:3', delayMs: 40 });
    expect(p.next()).toEqual({ node: 'a:1', delayMs: 80 });
    p.connected();
    expect(p.next()).toEqual({ node: 'a:1', delayMs: 10 });
  });

  it('works with a single node', () => {
    const p = new ReconnectPlanner(new NodeRotation(['a:1']), new Backoff({ jitter: 0 }));
    expect(p.next().node).toBe('a:1');
    expect(p.next().node).toBe('a:1');
  });

  it('adds learned nodes after the known ones, once each, keeping the current node', () => {
    const r = new NodeRotation(['a:1', 'b:2'], 'b:2');
    expect(r.add(['b:2', 'c:3', 'c:3', 'a:1', 'd:4'])).toEqual(['c:3', 'd:4']);
    expect(r.nodes).toEqual(['a:1', 'b:2', 'c:3', 'd:4']);
    expect(r.current).toBe('b:2');
    expect([r.advance(), r.advance(), r.advance()]).toEqual(['c:3', 'd:4', 'a:1']);
  });

  it('rejects an empty node list', () => {
    expect(() => new NodeRotation([])).toThrow();
  });
});

describe('node lists', () => {
  it('parses, normalises and de-duplicates addresses', () => {
    expect(parseNodeList(' 127.0.0.1:8081, ws://127.0.0.1:8082/chat ;http://Node3:8080 127.0.0.1:8081')).toEqual([
      '127.0.0.1:8081',
      '127.0.0.1:8082',
      'node3:8080',
    ]);
  });

  it('drops invalid entries and falls back', () => {
    expect(parseNodeList('bad_host!, :80, x:99999', 'here:8080')).toEqual(['here:8080']);
    expect(parseNodeList('', 'here:8080')).toEqual(['here:8080']);
    expect(parseNodeList('')).toEqual([]);
  });

  it('accepts IPv6 literals and plain hosts', () => {
    expect(normalizeNode('[::1]:8080')).toBe('[::1]:8080');
    expect(normalizeNode('localhost')).toBe('localhost');
    expect(normalizeNode('a b')).toBeNull();
  });

  it('builds WebSocket URLs', () => {
    expect(wsUrl('h:1')).toBe('ws://h:1/');
    expect(wsUrl('h:1', true)).toBe('wss://h:1/');
  });
});

describe('nodesFromCluster (GET /cluster)', () => {
  it('takes the advertised client URLs as host:port, live nodes first, skipping unknown addresses', () => {
    const body = {
      node_id: 'node1',
      nodes: [
        { node_id: 'node1', client_url: 'ws://127.0.0.1:8081/', status: 'self' },
        { node_id: 'node2', client_url: 'ws://127.0.0.1:8082/', status: 'failed' },
        { node_id: 'node3', client_url: 'wss://chat3.example.com/', status: 'healthy' },
        { node_id: 'node4', client_url: null, status: 'healthy' },
      ],
    };
    expect(nodesFromCluster(body)).toEqual(['127.0.0.1:8081', 'chat3.example.com', '127.0.0.1:8082']);
  });

  it('yields nothing for answers that are not a cluster view', () => {
    for (const body of [null, 'x', 42, {}, { nodes: 'x' }, { nodes: [null, 1, { client_url: 'not a url!' }] }]) expect(nodesFromCluster(body)).toEqual([]);
  });
});

describe('client tokens in the page', () => {
  it('reads the username a token names, without trusting it', () => {
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    expect(tokenSubject(`${part({ alg: 'HS256' })}.${part({ sub: 'zoë', exp: 1 })}.sig`)).toBe('zoë');
    expect(tokenSubject(`${part({ alg: 'HS256' })}.${part({ exp: 1 })}.sig`)).toBeNull();
    expect(tokenSubject('not-a-token')).toBeNull();
  });
});
