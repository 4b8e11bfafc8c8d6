import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey, type KeyLike } from 'jose';
import {
  ACCESS_TOKEN_ALGORITHMS,
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_ISSUER,
} from './auth.constants';
import { type AuthenticatedUser } from './authenticated-user';

/** Where the verifier finds public keys: a JWKS URL (cached) or a key held locally. */
export type KeySource = { jwksUrl: string } | { getKey: () => Promise<KeyLike> };

/**
 * Verifies access tokens locally: signature (ES256 only), issuer, audience, expiry. With a
 * JWKS URL the key set is cached and refetched on an unknown `kid` at most every 30 s.
 */
export class AccessTokenVerifier {
  private readonly keys: JWTVerifyGetKey | (() => Promise<KeyLike>);

  constructor(source: KeySource) {
    this.keys =
      'jwksUrl' in source
        ? createRemoteJWKSet(new URL(source.jwksUrl), {
            cooldownDuration: 30_000,
            cacheMaxAge: 600_000,
            timeoutDuration: 2_000,
          })
        : source.getKey;
  }

  /** The token's user, or `undefined` for any invalid, expired or forged token. */
  async verify(token: string): Promise<AuthenticatedUser | undefined> {
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
      return { id: payload.sub, email: payload.email, roles };
    } catch {
      return undefined;
    }
  }
}
