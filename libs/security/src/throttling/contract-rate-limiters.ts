import { type Rate } from '@keel/platform';
import { SERVICE_LIMITER } from './throttling.constants';
import { type RateLimiterDefinition } from './throttling-options.interface';

/** The contract's rate variables, as `readBaseConfig` returns them. */
export interface ContractRateLimits {
  global: Rate;
  auth: Rate;
  loginAccount: Rate;
  service: Rate;
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
