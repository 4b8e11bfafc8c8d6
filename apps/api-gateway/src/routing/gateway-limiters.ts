import { type Rate } from '@keel/platform';
import {
  AUTH_LIMITER,
  GLOBAL_LIMITER,
  LOGIN_ACCOUNT_LIMITER,
  type RateLimitedRequest,
  type RateLimiterDefinition,
} from '@keel/security';

/** The contract's gateway rates (CONTRACT §2), as `readBaseConfig` returns them. */
export interface GatewayRates {
  global: Rate;
  auth: Rate;
  loginAccount: Rate;
}

/** The e-mail of a login body, as auth-service compares it (trimmed, lower case). */
export function loginEmail(req: RateLimitedRequest): string | undefined {
  const email = (req.body as { email?: unknown } | undefined)?.email;
  if (typeof email !== 'string') {
    return undefined;
  }
  const normalized = email.trim().toLowerCase();
  return normalized === '' || normalized.length > 254 ? undefined : normalized;
}

/** The limiter every `/api` route passes through, counted per client. */
export function globalLimiter(rates: GatewayRates): RateLimiterDefinition {
  return { name: GLOBAL_LIMITER, ...toLimit(rates.global) };
}

/**
 * The limiters a registry route may name in `limits` (CONTRACT §2): `auth`,
 * `RATE_LIMIT_AUTH` per IP over every route naming it together (login and register), and
 * `login-account`, `RATE_LIMIT_LOGIN_ACCOUNT` failed logins (upstream 401s) per e-mail of
 * the body whatever the IP. A route naming `login-account` is a login route: the gateway
 * counts its refusals in `auth_login_attempts_total{result="rate_limited"}`.
 */
export function namedLimiters(rates: GatewayRates): Map<string, RateLimiterDefinition> {
  return new Map<string, RateLimiterDefinition>([
    [AUTH_LIMITER, { name: AUTH_LIMITER, ...toLimit(rates.auth), by: 'ip' }],
    [
      LOGIN_ACCOUNT_LIMITER,
      {
        name: LOGIN_ACCOUNT_LIMITER,
        ...toLimit(rates.loginAccount),
        by: loginEmail,
        countStatuses: [401],
      },
    ],
  ]);
}

function toLimit(rate: Rate): { limit: number; windowMs: number } {
  return { limit: rate.limit, windowMs: rate.windowMs };
}
