import { createHash } from 'node:crypto';
import { normalizeIp } from '@nestjs/throttler';
import { type AccessTokenVerifier } from '../auth/access-token.verifier';
import { bearerToken } from '../auth/jwt-auth.guard';
import { type RateLimitedRequest } from './throttling-options.interface';

/**
 * Who is calling, for rate limiting: `user:<id>` when the request carries a valid access
 * token (forged or expired tokens do not count), else `ip:<address>` from `req.ip`, which
 * honours `X-Forwarded-For` only through express's `trust proxy` (TRUST_PROXY). IPv6
 * addresses are reduced to their /64, the smallest block a client usually controls.
 */
export async function clientTracker(
  req: RateLimitedRequest,
  verifier: AccessTokenVerifier | undefined,
): Promise<string> {
  if (req.user?.id) {
    return `user:${req.user.id}`;
  }
  const header = req.headers.authorization;
  const token = bearerToken(typeof header === 'string' ? header : undefined);
  if (token && verifier) {
    const user = await verifier.verify(token);
    if (user) {
      return `user:${user.id}`;
    }
  }
  return ipTracker(req);
}

/** `ip:<address>` of the caller (see {@link clientTracker}). */
export function ipTracker(req: RateLimitedRequest): string {
  return `ip:${req.ip ? normalizeIp(req.ip) : 'unknown'}`;
}

/**
 * The storage key of one limiter and one client: the same for every route, so a limit
 * counts a client across all the routes it covers (the throttler's default key is per
 * route). The tracker is hashed, so keys hold no e-mail address and have a fixed length.
 */
export function rateLimitKey(prefix: string, limiter: string, tracker: string): string {
  return `${prefix}${limiter}:${createHash('sha256').update(tracker).digest('base64url')}`;
}
