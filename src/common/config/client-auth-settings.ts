import * as fs from 'node:fs';
import { ConfigError } from './config-error';

type Env = Record<string, string | undefined>;

export type AuthMode = 'open' | 'token';

export interface ClientAuthSettings {
  readonly authMode: AuthMode;
  readonly authSecret: string | null;
  readonly allowedOrigins: readonly string[] | null;
}

/** HS256 keys shorter than the hash output are guessable offline from one token. */
const MIN_SECRET_LENGTH = 32;

/**
 * AUTH_SECRET or AUTH_SECRET_FILE (a Docker secret), trimmed; null when neither is set. Shared by
 * the node's config and the token-minting command so both read the same secret the same way.
 */
export function readAuthSecret(env: Env = process.env): string | null {
  const inline = env.AUTH_SECRET?.trim() || null;
  const file = env.AUTH_SECRET_FILE?.trim() || null;
  if (inline && file) throw new ConfigError('AUTH_SECRET_FILE', 'cannot be set together with AUTH_SECRET (use one of them)');
  let secret = inline;
  if (file) {
    try {
      secret = fs.readFileSync(file, 'utf8').trim();
    } catch (e) {
      throw new ConfigError('AUTH_SECRET_FILE', `"${file}" cannot be read: ${(e as Error).message}`);
    }
  }
  if (secret !== null && secret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(file ? 'AUTH_SECRET_FILE' : 'AUTH_SECRET', `must hold at least ${MIN_SECRET_LENGTH} characters (e.g. openssl rand -hex 32)`);
  }
  return secret;
}

/** AUTH_MODE, its secret, and ALLOWED_ORIGINS: who may open a client WebSocket. */
export function loadClientAuthSettings(env: Env): ClientAuthSettings {
  const authMode = (env.AUTH_MODE?.trim() || 'open').toLowerCase();
  if (authMode !== 'open' && authMode !== 'token') throw new ConfigError('AUTH_MODE', `must be open or token (got "${authMode}")`);
  const authSecret = readAuthSecret(env);
  if (authMode === 'token' && authSecret === null) {
    throw new ConfigError('AUTH_SECRET', 'must be set (or AUTH_SECRET_FILE) when AUTH_MODE=token');
  }
  return { authMode, authSecret, allowedOrigins: parseAllowedOrigins(env.ALLOWED_ORIGINS ?? '') };
}

/** `https://chat.example.com,http://127.0.0.1:8081` -> normalised origins; empty = any origin. */
function parseAllowedOrigins(raw: string): string[] | null {
  const entries = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (entries.length === 0) return null;
  return entries.map((entry) => {
    const origin = normalizeOrigin(entry);
    if (origin === null) throw new ConfigError('ALLOWED_ORIGINS', `entries must be origins like https://chat.example.com (got "${entry}")`);
    return origin;
  });
}

/** The origin as browsers send it (scheme://host[:port], lower case, default port dropped), or null. */
export function normalizeOrigin(value: string): string | null {
  if (!/^https?:\/\/[^\s/]+\/?$/i.test(value)) return null;
  try {
    return new URL(value).origin;
  } catch {
    return null;
  }
}
