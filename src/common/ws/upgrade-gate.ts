import type { IncomingMessage } from 'node:http';
import { ClientTokens } from '../auth/client-tokens';
import { normalizeOrigin, type ClientAuthSettings } from '../config/client-auth-settings';

export type UpgradeDecision =
  | { accept: true; username: string | null }
  | { accept: false; status: 401 | 403; message: string };

/**
 * Decides whether a WebSocket upgrade may go ahead, before any frame is read: the browser origin
 * (ALLOWED_ORIGINS) and, in token mode, the client's token. An accepted token's subject becomes
 * the connection's username.
 */
export class UpgradeGate {
  private readonly tokens: ClientTokens | null;
  private readonly origins: ReadonlySet<string> | null;

  constructor(settings: ClientAuthSettings) {
    this.tokens = settings.authMode === 'token' && settings.authSecret ? new ClientTokens(settings.authSecret) : null;
    this.origins = settings.allowedOrigins ? new Set(settings.allowedOrigins) : null;
  }

  async decide(req: IncomingMessage): Promise<UpgradeDecision> {
    const origin = req.headers.origin;
    // Browsers always send Origin on a WebSocket upgrade; other clients (the reference client, bots) need not.
    if (this.origins && origin !== undefined && !this.origins.has(normalizeOrigin(origin) ?? origin)) {
      return { accept: false, status: 403, message: `Origin ${origin} is not allowed to connect (ALLOWED_ORIGINS)` };
    }
    if (!this.tokens) return { accept: true, username: null };
    const token = tokenOf(req);
    if (!token) return { accept: false, status: 401, message: 'A token is required: pass ?token=<jwt> or an Authorization: Bearer header' };
    const check = await this.tokens.verify(token);
    return check.valid ? { accept: true, username: check.username } : { accept: false, status: 401, message: `Token refused: ${check.reason}` };
  }
}

/** The bearer token from the Authorization header, else from the URL's `token` query parameter. */
function tokenOf(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  const bearer = header?.match(/^Bearer\s+(\S+)\s*$/i);
  if (bearer) return bearer[1];
  try {
    return new URL(req.url ?? '/', 'http://localhost').searchParams.get('token') || null;
  } catch {
    return null;
  }
}
