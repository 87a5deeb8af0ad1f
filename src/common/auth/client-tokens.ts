import { errors, jwtVerify, SignJWT } from 'jose';
import { LIMITS } from '../protocol/text-limits';
import { nameProblem, normalizeName } from '../protocol/chat-names';

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
    const problem = nameProblem(username, MAX_USERNAME, 'username');
    if (problem) throw new Error(problem);
    if (!TTL_PATTERN.test(ttl)) throw new Error('ttl must look like 3600s, 30m, 24h or 7d');
    return new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(normalizeName(username)).setIssuedAt().setExpirationTime(ttl).sign(this.key);
  }

  async verify(token: string): Promise<TokenCheck> {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], requiredClaims: ['sub', 'exp'] });
      const problem = nameProblem(payload.sub, MAX_USERNAME, 'the token\'s username (sub)');
      if (problem) return { valid: false, reason: problem };
      return { valid: true, username: normalizeName(payload.sub as string) };
    } catch (e) {
      if (e instanceof errors.JWTExpired) return { valid: false, reason: 'the token has expired' };
      if (e instanceof errors.JWTClaimValidationFailed) return { valid: false, reason: `the token lacks a valid ${e.claim} claim` };
      return { valid: false, reason: 'the token is not a valid token signed for this cluster' };
    }
  }
}
