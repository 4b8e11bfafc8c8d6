import { jwtVerify, type JWTVerifyGetKey, type KeyLike } from 'jose';
import { type RevocationList } from '../sessions/revocation-list';
import {
  ACCESS_TOKEN_ALGORITHMS,
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_ISSUER,
} from './auth.constants';
import { type AuthenticatedUser } from './authenticated-user';
import { JwksKeySource } from './jwks-key-source';

/** Where the verifier finds public keys: a JWKS URL (cached) or a key held locally. */
export type KeySource = { jwksUrl: string } | { getKey: () => Promise<KeyLike> };

export interface VerifiedTokenCacheOptions {
  /** Most tokens remembered; the oldest is forgotten first. Default 10 000; 0 turns it off. */
  maxEntries?: number;
  /** Longest a verification is reused, ms, however late the token expires. Default 60 s. */
  maxAgeMs?: number;
  /**
   * Revoked sessions: a token whose `sid` is listed is refused, cached or not, so the cache
   * never hides a logout or a revocation.
   */
  revocations?: RevocationList;
}

interface CachedVerification {
  user: AuthenticatedUser;
  /** The earlier of the token's `exp` and the cache's own bound, epoch ms. */
  validUntil: number;
}

/**
 * Verifies access tokens locally: signature (ES256 only), issuer, audience, expiry, and
 * that the token's session (`sid`) is not revoked. With a JWKS URL the key set is cached,
 * kept when a refetch fails, and refetched on an unknown `kid` at most every 30 s.
 *
 * A signature check costs far more than the rest of a request at the gateway, and one
 * request may be checked twice (the rate limiter keys by user, then the guard), so
 * successful verifications are remembered until the token expires, at most `maxAgeMs`.
 * Failures are never cached.
 */
export class AccessTokenVerifier {
  private readonly keys: JWTVerifyGetKey | (() => Promise<KeyLike>);
  private readonly verified = new Map<string, CachedVerification>();
  private readonly maxEntries: number;
  private readonly maxAgeMs: number;
  private readonly revocations: RevocationList | undefined;

  constructor(source: KeySource, cache: VerifiedTokenCacheOptions = {}) {
    this.maxEntries = cache.maxEntries ?? 10_000;
    this.maxAgeMs = cache.maxAgeMs ?? 60_000;
    this.revocations = cache.revocations;
    this.keys = 'jwksUrl' in source ? new JwksKeySource(source.jwksUrl).getKey : source.getKey;
  }

  /**
   * The token's user, or `undefined` for any invalid, expired or forged token, or one of a
   * revoked session.
   */
  async verify(token: string): Promise<AuthenticatedUser | undefined> {
    const user = await this.verifySignature(token);
    if (user?.sessionId !== undefined && this.revocations?.isRevoked(user.sessionId)) {
      return undefined;
    }
    return user;
  }

  private async verifySignature(token: string): Promise<AuthenticatedUser | undefined> {
    const now = Date.now();
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.validUntil > now) {
        return cached.user;
      }
      this.verified.delete(token);
    }
    const result = await this.verifyUncached(token);
    if (result && this.maxEntries > 0) {
      if (this.verified.size >= this.maxEntries) {
        // Maps iterate in insertion order: the first key is the oldest entry.
        this.verified.delete(this.verified.keys().next().value!);
      }
      this.verified.set(token, {
        user: result.user,
        validUntil: Math.min(result.expiresAtMs, now + this.maxAgeMs),
      });
    }
    return result?.user;
  }

  private async verifyUncached(
    token: string,
  ): Promise<{ user: AuthenticatedUser; expiresAtMs: number } | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.keys, {
        algorithms: ACCESS_TOKEN_ALGORITHMS,
        issuer: ACCESS_TOKEN_ISSUER,
        audience: ACCESS_TOKEN_AUDIENCE,
        requiredClaims: ['sub', 'exp'],
      });
      const roles = Array.isArray(payload.roles)
        ? payload.roles.filter((r) => typeof r === 'string')
        : [];
      if (typeof payload.sub !== 'string' || typeof payload.email !== 'string') {
        return undefined;
      }
      const sessionId = typeof payload.sid === 'string' ? payload.sid : undefined;
      return {
        user: { id: payload.sub, email: payload.email, roles, sessionId },
        expiresAtMs: (payload.exp ?? 0) * 1000,
      };
    } catch {
      return undefined;
    }
  }
}
