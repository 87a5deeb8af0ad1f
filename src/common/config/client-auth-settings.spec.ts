import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from './config-error';
import { loadClientAuthSettings, normalizeOrigin, readAuthSecret } from './client-auth-settings';

const SECRET = 'x'.repeat(32);
const problemOf = (env: Record<string, string>) => {
  try {
    loadClientAuthSettings(env);
    return null;
  } catch (e) {
    return e instanceof ConfigError ? `${e.variable}: ${e.problem}` : String(e);
  }
};

describe(loadClientAuthSettings.name, () => {
  it('defaults to open mode, no secret, any origin', () => {
    expect(loadClientAuthSettings({})).toEqual({ authMode: 'open', authSecret: null, allowedOrigins: null });
  });

  it('requires a secret of at least 32 characters in token mode, from AUTH_SECRET or AUTH_SECRET_FILE', () => {
    expect(problemOf({ AUTH_MODE: 'token' })).toMatch(/^AUTH_SECRET: must be set/);
    expect(problemOf({ AUTH_MODE: 'Token', AUTH_SECRET: 'short' })).toMatch(/^AUTH_SECRET: must hold at least 32/);
    expect(loadClientAuthSettings({ AUTH_MODE: 'TOKEN', AUTH_SECRET: ` ${SECRET} ` })).toMatchObject({ authMode: 'token', authSecret: SECRET });
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'auth-secret-')), 'secret');
    fs.writeFileSync(file, `${SECRET}\n`);
    expect(readAuthSecret({ AUTH_SECRET_FILE: file })).toBe(SECRET);
    expect(problemOf({ AUTH_SECRET_FILE: file, AUTH_SECRET: SECRET })).toMatch(/^AUTH_SECRET_FILE: cannot be set together/);
    expect(problemOf({ AUTH_MODE: 'token', AUTH_SECRET_FILE: `${file}.missing` })).toMatch(/^AUTH_SECRET_FILE: ".*missing" cannot be read/);
    expect(problemOf({ AUTH_MODE: 'basic' })).toBe('AUTH_MODE: must be open or token (got "basic")');
  });

  it('reads ALLOWED_ORIGINS as normalised origins and names it for a bad entry', () => {
    expect(loadClientAuthSettings({ ALLOWED_ORIGINS: 'https://Chat.Example.com/, http://127.0.0.1:8081,' }).allowedOrigins).toEqual([
      'https://chat.example.com',
      'http://127.0.0.1:8081',
    ]);
    expect(problemOf({ ALLOWED_ORIGINS: 'chat.example.com' })).toMatch(/^ALLOWED_ORIGINS: entries must be origins/);
    expect(problemOf({ ALLOWED_ORIGINS: 'https://chat.example.com/app' })).toMatch(/^ALLOWED_ORIGINS/);
    expect(normalizeOrigin('https://chat.example.com:443')).toBe('https://chat.example.com');
  });
});
