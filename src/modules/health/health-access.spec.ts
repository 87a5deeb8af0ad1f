import type { IncomingMessage } from 'node:http';
import { loadConfig } from '../../common/config/load-config';
import { HealthAccess } from './health-access';

const request = (remoteAddress: string, authorization?: string) =>
  ({ socket: { remoteAddress }, headers: authorization ? { authorization } : {} }) as unknown as IncomingMessage;

describe(HealthAccess.name, () => {
  const CLUSTER_SECRET = 'the-cluster-secret-0123';
  const TOKEN = 'operators-token-4567';

  it('shows details to loopback callers, IPv4, IPv6 and mapped', () => {
    const sut = new HealthAccess(loadConfig({}));
    for (const a of ['127.0.0.1', '127.0.0.11', '::1', '::ffff:127.0.0.1']) expect(sut.mayReadDetails(request(a))).toBe(true);
  });

  it('hides them from other addresses unless they present HEALTH_TOKEN', () => {
    const sut = new HealthAccess(loadConfig({ HEALTH_TOKEN: TOKEN }));
    expect(sut.mayReadDetails(request('10.10.0.5'))).toBe(false);
    expect(sut.mayReadDetails(request('::ffff:10.10.0.5', 'Bearer wrong-value'))).toBe(false);
    expect(sut.mayReadDetails(request('10.10.0.5', `Bearer ${TOKEN.slice(0, -1)}`))).toBe(false);
    expect(sut.mayReadDetails(request('10.10.0.5', `Basic ${TOKEN}`))).toBe(false);
    expect(sut.mayReadDetails(request('10.10.0.5', `Bearer ${TOKEN}`))).toBe(true);
  });

  it('never takes the cluster secret as a key to the details (it must not travel to the client port)', () => {
    const sut = new HealthAccess(loadConfig({ PEER_SECRET: CLUSTER_SECRET, HEALTH_TOKEN: TOKEN }));
    expect(sut.mayReadDetails(request('10.10.0.5', `Bearer ${CLUSTER_SECRET}`))).toBe(false);
    const withoutToken = new HealthAccess(loadConfig({ PEER_SECRET: CLUSTER_SECRET }));
    expect(withoutToken.mayReadDetails(request('10.10.0.5', `Bearer ${CLUSTER_SECRET}`))).toBe(false);
  });

  it('accepts no bearer at all when no token is configured: details from loopback only', () => {
    const sut = new HealthAccess(loadConfig({}));
    expect(sut.mayReadDetails(request('10.10.0.5', 'Bearer '))).toBe(false);
    expect(sut.mayReadDetails(request('10.10.0.5', 'Bearer null'))).toBe(false);
  });
});
