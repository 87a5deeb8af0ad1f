import type { IncomingMessage } from 'node:http';
import { loadConfig } from '../../common/config/load-config';
import type { NodeConfig } from '../../common/config/node-config';
import { HealthAccess } from './health-access';

const request = (remoteAddress: string, authorization?: string) =>
  ({ socket: { remoteAddress }, headers: authorization ? { authorization } : {} }) as unknown as IncomingMessage;

describe(HealthAccess.name, () => {
  const withSecret = (peerSecret: string | null): NodeConfig => ({ ...loadConfig({}), peerSecret });

  it('shows details to loopback callers, IPv4, IPv6 and mapped', () => {
    const sut = new HealthAccess(withSecret(null));
    for (const a of ['127.0.0.1', '127.0.0.11', '::1', '::ffff:127.0.0.1']) expect(sut.mayReadDetails(request(a))).toBe(true);
  });

  it('hides them from other addresses unless they present the cluster secret', () => {
    const sut = new HealthAccess(withSecret('s3cret-value'));
    expect(sut.mayReadDetails(request('10.10.0.5'))).toBe(false);
    expect(sut.mayReadDetails(request('::ffff:10.10.0.5', 'Bearer wrong-value'))).toBe(false);
    expect(sut.mayReadDetails(request('10.10.0.5', 'Bearer s3cret'))).toBe(false);
    expect(sut.mayReadDetails(request('10.10.0.5', 'Basic s3cret-value'))).toBe(false);
    expect(sut.mayReadDetails(request('10.10.0.5', 'Bearer s3cret-value'))).toBe(true);
  });

  it('accepts no bearer at all when no secret is configured', () => {
    const sut = new HealthAccess(withSecret(null));
    expect(sut.mayReadDetails(request('10.10.0.5', 'Bearer '))).toBe(false);
    expect(sut.mayReadDetails(request('10.10.0.5', 'Bearer null'))).toBe(false);
  });
});
