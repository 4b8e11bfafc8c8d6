import { type Rate } from '@keel/platform';
import {
  AUTH_LIMITER,
  GLOBAL_LIMITER,
  LOGIN_ACCOUNT_LIMITER,
  SERVICE_LIMITER,
} from './throttling.constants';
import {
  type RateLimitedRequest,
  type RateLimiterDefinition,
} from './throttling-options.interface';

/** The contract's rate variables, as `readBaseConfig` returns them. */
export interface ContractRateLimits {
  global: Rate;
  auth: Rate;
  loginAccount: Rate;
  service: Rate;
}

const LOGIN = { method: 'POST', path: '/api/v1/auth/login' };
const REGISTER = { method: 'POST', path: '/api/v1/auth/register' };

/** The e-mail of a login body, as auth-service compares it (trimmed, lower case). */
export function loginEmail(req: RateLimitedRequest): string | undefined {
  const email = (req.body as { email?: unknown } | undefined)?.email;
  if (typeof email !== 'string') {
    return undefined;
  }
  const normalized = email.trim().toLowerCase();
  return normalized === '' || normalized.length > 254 ? undefined : normalized;
}

/**
 * The gateway's limiters (CONTRACT §2): `RATE_LIMIT_GLOBAL` per client over every `/api`
 * route, `RATE_LIMIT_AUTH` per IP over login and register together, and
 * `RATE_LIMIT_LOGIN_ACCOUNT` failed logins (upstream 401s) per e-mail whatever the IP.
 */
export function gatewayRateLimiters(rates: ContractRateLimits): RateLimiterDefinition[] {
  return [
    { name: GLOBAL_LIMITER, ...toLimit(rates.global), routes: [{ path: /^\/api\// }] },
    { name: AUTH_LIMITER, ...toLimit(rates.auth), routes: [LOGIN, REGISTER], by: 'ip' },
    {
      name: LOGIN_ACCOUNT_LIMITER,
      ...toLimit(rates.loginAccount),
      routes: [LOGIN],
      by: loginEmail,
      countStatuses: [401],
    },
  ];
}

/**
 * A service's own limiter: `RATE_LIMIT_SERVICE` per caller over all its routes except
 * `/internal/*`, whose callers are the platform's own services (holding the internal token):
 * limiting them would turn a burst of registrations into failed profile creations.
 */
export function serviceRateLimiters(rates: ContractRateLimits): RateLimiterDefinition[] {
  return [{ name: SERVICE_LIMITER, ...toLimit(rates.service), routes: [{ path: NOT_INTERNAL }] }];
}

const NOT_INTERNAL = /^\/(?!internal(?:\/|$))/;

function toLimit(rate: Rate): { limit: number; windowMs: number } {
  return { limit: rate.limit, windowMs: rate.windowMs };
}
