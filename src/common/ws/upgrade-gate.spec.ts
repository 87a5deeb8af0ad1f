import type { IncomingMessage } from 'node:http';
import { ClientTokens } from '../auth/client-tokens';
import { UpgradeGate } from './upgrade-gate';

const SECRET = 's'.repeat(40);
const request = (url: string, headers: Record<string, string> = {}) => ({ url, headers }) as unknown as IncomingMessage;

describe(UpgradeGate.name, () => {
  it('lets everyone in open mode without ALLOWED_ORIGINS', async () => {
    const sut = new UpgradeGate({ authMode: 'open', authSecret: null, allowedOrigins: null });
    expect(await sut.decide(request('/', { origin: 'http://anything.test' }))).toEqual({ accept: true, username: null });
  });

  it("takes the token from the Authorization header or ?token=, and the username from its sub", async () => {
    const sut = new UpgradeGate({ authMode: 'token', authSecret: SECRET, allowedOrigins: null });
    const token = await new ClientTokens(SECRET).mint('alice', '1h');
    expect(await sut.decide(request(`/?token=${token}`))).toEqual({ accept: true, username: 'alice' });
    expect(await sut.decide(request('/ws', { authorization: `Bearer ${token}` }))).toEqual({ accept: true, username: 'alice' });
    expect(await sut.decide(request('/'))).toMatchObject({ accept: false, status: 401, message: expect.stringMatching(/token is required/) });
    expect(await sut.decide(request(`/?token=${token}x`))).toMatchObject({ accept: false, status: 401 });
  });

  it('refuses a listed-out browser origin with 403, and a request without Origin is not a browser', async () => {
    const sut = new UpgradeGate({ authMode: 'open', authSecret: null, allowedOrigins: ['https://chat.example.com'] });
    expect(await sut.decide(request('/', { origin: 'https://evil.example.com' }))).toMatchObject({ accept: false, status: 403 });
    expect(await sut.decide(request('/', { origin: 'https://CHAT.example.com' }))).toEqual({ accept: true, username: null });
    expect(await sut.decide(request('/'))).toEqual({ accept: true, username: null });
  });
});
