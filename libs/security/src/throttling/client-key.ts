import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { normalizeIp } from '@nestjs/throttler';
import { CLIENT_IP_HEADER, INTERNAL_TOKEN_HEADER } from '@keel/platform';
import { type AccessTokenVerifier } from '../auth/access-token.verifier';
import { bearerToken } from '../auth/jwt-auth.guard';
import { internalTokenMatches } from '../internal/internal-token.guard';
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
  vouchedIp?: string,
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
  return ipTracker(req, vouchedIp);
}

/** `ip:<address>` of the caller (see {@link clientTracker}): the vouched one when given. */
export function ipTracker(req: RateLimitedRequest, vouchedIp?: string): string {
  const ip = vouchedIp ?? req.ip;
  return `ip:${ip ? normalizeIp(ip) : 'unknown'}`;
}

/** Re-exported from the platform's header names (the one place they are spelled). */
export { CLIENT_IP_HEADER };

/**
 * The client address the gateway vouches for in {@link CLIENT_IP_HEADER}: believed only on a
 * request that also carries the right `x-internal-token` (given as its SHA-256 digest), so a
 * client talking to a service directly cannot pick its own address.
 */
export function vouchedClientIp(
  req: RateLimitedRequest,
  internalTokenDigest: Buffer | undefined,
): string | undefined {
  const ip = req.headers[CLIENT_IP_HEADER];
  if (internalTokenDigest === undefined || typeof ip !== 'string' || isIP(ip) === 0) {
    return undefined;
  }
  return internalTokenMatches(req.headers[INTERNAL_TOKEN_HEADER], internalTokenDigest)
    ? ip
    : undefined;
}

/**
 * The storage key of one limiter and one client: the same for every route, so a limit
 * counts a client across all the routes it covers (the throttler's default key is per
 * route). The tracker is hashed, so keys hold no e-mail address and have a fixed length.
 */
export function rateLimitKey(prefix: string, limiter: string, tracker: string): string {
  const memoKey = `${prefix}\u0000${limiter}\u0000${tracker}`;
  let key = recentKeys.get(memoKey);
  if (key === undefined) {
    key = `${prefix}${limiter}:${createHash('sha256').update(tracker).digest('base64url')}`;
    if (recentKeys.size >= RECENT_KEYS_MAX) {
      recentKeys.clear();
    }
    recentKeys.set(memoKey, key);
  }
  return key;
}

/**
 * Keys of recent clients: the same client asks again and again, and a SHA-256 per limiter per
 * request was a visible share of the gateway's CPU. Bounded; emptied whole when full (a miss
 * only costs the hash again).
 */
const recentKeys = new Map<string, string>();
const RECENT_KEYS_MAX = 10_000;
