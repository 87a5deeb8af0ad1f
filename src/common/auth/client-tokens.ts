import { errors, jwtVerify, SignJWT } from 'jose';
import { LIMITS } from '../protocol/text-limits';

/** The protocol's username limit; a token naming more could never join. */
const MAX_USERNAME = LIMITS.username;

export type TokenCheck = { valid: true; username: string } | { valid: false; reason: string };

/** `24h`, `30m`, `7d`, `3600s`: the lifetimes the token command accepts. */
export const TTL_PATTERN = /^[1-9]\d*[smhd]$/;

/**
 * Client tokens for AUTH_MODE=token: HS256 JWTs whose `sub` is the username and whose `exp` is
 * required. jose does the signature and claim checks; this class only fixes the rules.
 */
export class ClientTokens {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  mint(username: string, ttl: string): Promise<string> {
    if (!usernameAllowed(username)) throw new Error(`username must be 1-${MAX_USERNAME} characters without control characters`);
    if (!TTL_PATTERN.test(ttl)) throw new Error('ttl must look like 3600s, 30m, 24h or 7d');
    return new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(username).setIssuedAt().setExpirationTime(ttl).sign(this.key);
  }

  async verify(token: string): Promise<TokenCheck> {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], requiredClaims: ['sub', 'exp'] });
      if (typeof payload.sub !== 'string' || !usernameAllowed(payload.sub)) return { valid: false, reason: 'the token does not name a valid username (sub)' };
      return { valid: true, username: payload.sub };
    } catch (e) {
      if (e instanceof errors.JWTExpired) return { valid: false, reason: 'the token has expired' };
      if (e instanceof errors.JWTClaimValidationFailed) return { valid: false, reason: `the token lacks a valid ${e.claim} claim` };
      return { valid: false, reason: 'the token is not a valid token signed for this cluster' };
    }
  }
}

function usernameAllowed(name: string): boolean {
  const length = [...name].length;
  return length >= 1 && length <= MAX_USERNAME && !/[\u0000-\u001f\u007f]/.test(name);
}
