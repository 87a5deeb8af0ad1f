import * as fs from 'node:fs';
import { makeTestPki, type TestPki } from '../../testing/test-certificates';
import { ConfigError } from './config-error';
import { loadConfig } from './load-config';
import { loadPeerTls } from './peer-tls-settings';

describe(loadPeerTls.name, () => {
  let pki: TestPki;
  let other: TestPki;
  const files = () => ({ PEER_TLS_CERT_FILE: pki.nodes.node1.cert, PEER_TLS_KEY_FILE: pki.nodes.node1.key, PEER_TLS_CA_FILE: pki.caCert });
  const refusal = (env: Record<string, string>, now?: number) => {
    try {
      loadPeerTls(env, now);
    } catch (e) {
      if (e instanceof ConfigError) return { variable: e.variable, message: e.message };
      throw e;
    }
    throw new Error('expected a ConfigError');
  };

  beforeAll(() => {
    pki = makeTestPki({ node1: ['node1', '127.0.0.1'], node2: ['node2'] });
    other = makeTestPki({ node1: ['node1'] });
  });
  afterAll(() => {
    pki.remove();
    other.remove();
  });

  it('is off when none of the three is set', () => {
    expect(loadPeerTls({})).toBeNull();
    expect(loadConfig({}).peerTls).toBeNull();
  });

  it('reads the three PEM files (Docker secrets), or the PEM text itself with line breaks written as \\n', () => {
    const tls = loadPeerTls(files());
    expect(tls?.cert).toContain('BEGIN CERTIFICATE');
    const inline = Object.fromEntries(Object.entries(files()).map(([k, f]) => [k.replace(/_FILE$/, ''), fs.readFileSync(f, 'utf8').replace(/\n/g, '\\n')]));
    expect(loadPeerTls(inline)).toEqual(tls);
  });

  it.each([
    ['one missing', { PEER_TLS_CA_FILE: '' }, 'PEER_TLS_CA', /must be set too/],
    ['an unreadable file', { PEER_TLS_KEY_FILE: '/no/such/key.pem' }, 'PEER_TLS_KEY_FILE', /cannot be read \(ENOENT/],
    ['a path where PEM text belongs', { PEER_TLS_CERT: '/etc/chat/node1.crt', PEER_TLS_CERT_FILE: '' }, 'PEER_TLS_CERT', /must hold PEM text.*PEER_TLS_CERT_FILE/],
    ['both forms', { PEER_TLS_CERT: '-----BEGIN CERTIFICATE-----' }, 'PEER_TLS_CERT', /both set/],
  ])('stops the node on %s, naming the variable', (_, change, variable, message) => {
    const e = refusal({ ...files(), ...change });
    expect(e.variable).toBe(variable);
    expect(e.message).toMatch(message);
  });

  it('refuses a key that is not the certificate\'s, and a certificate the CA did not sign', () => {
    expect(refusal({ ...files(), PEER_TLS_KEY_FILE: pki.nodes.node2.key })).toEqual({ variable: 'PEER_TLS_KEY', message: expect.stringMatching(/does not belong to the certificate/) });
    expect(refusal({ ...files(), PEER_TLS_CA_FILE: other.caCert })).toEqual({ variable: 'PEER_TLS_CERT', message: expect.stringMatching(/not signed by a certificate in PEER_TLS_CA/) });
  });

  it('refuses an expired certificate', () => {
    expect(refusal(files(), Date.now() + 365 * 86_400_000)).toEqual({ variable: 'PEER_TLS_CERT', message: expect.stringMatching(/expired on/) });
  });

  it('with TLS, peers and the advertised address are https (also by default), and an http:// peer stops the node', () => {
    const sut = loadConfig({ ...files(), NODE_ID: 'node1', PEER_NODES: 'node2:node2:9090,node3:https://node3:9090' });
    expect(sut.peers.map((p) => p.url)).toEqual(['https://node2:9090', 'https://node3:9090']);
    expect(sut.xmlrpcAddress).toBe('https://node1:9090');
    expect(() => loadConfig({ ...files(), PEER_NODES: 'node2:http://node2:9090' })).toThrow(/PEER_NODES entry "node2:http:\/\/node2:9090" uses http:\/\/ while PEER_TLS_\* is set/);
    expect(() => loadConfig({ ...files(), XMLRPC_ADDRESS: 'http://node1:9090' })).toThrow(/XMLRPC_ADDRESS must be a URL like https:/);
  });

  it('without TLS, an https:// peer stops the node: there is no CA to check it against', () => {
    expect(() => loadConfig({ PEER_NODES: 'node2:https://node2:9090' })).toThrow(/uses https:\/\/ but PEER_TLS_CERT, PEER_TLS_KEY and PEER_TLS_CA are not set/);
  });
});
