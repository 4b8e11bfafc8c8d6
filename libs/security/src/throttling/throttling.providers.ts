import { type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { getOptionsToken, getStorageToken } from '@nestjs/throttler';
import { FailOpenRedisStore } from './fail-open-redis.store';
import { MemoryRateLimitStore } from './memory-rate-limit.store';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimitMetrics } from './rate-limit.metrics';
import { type RateLimitStore } from './rate-limit.store';
import { RequestLimiter } from './request-limiter';
import {
  DEFAULT_KEY_PREFIX,
  DEFAULT_LEASE_MAX,
  DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
  DEFAULT_REDIS_RETRY_AFTER_MS,
  RATE_LIMIT_STORE,
  THROTTLING_OPTIONS,
} from './throttling.constants';
import { type ThrottlingOptions } from './throttling-options.interface';

/**
 * The providers of rate limiting: the options, the metrics, the storage (fail-open Redis
 * when `redisUrl` is set, process memory otherwise) under both the throttler's token and
 * {@link RATE_LIMIT_STORE}, the global {@link RateLimitGuard}, and {@link RequestLimiter} for
 * handlers that route requests themselves.
 */
export function createThrottlingProviders(options: ThrottlingOptions): Provider[] {
  const resolved = {
    keyPrefix: DEFAULT_KEY_PREFIX,
    redisCommandTimeoutMs: DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
    redisRetryAfterMs: DEFAULT_REDIS_RETRY_AFTER_MS,
    redisLeaseMax: DEFAULT_LEASE_MAX,
    ...options,
  };
  return [
    { provide: THROTTLING_OPTIONS, useValue: resolved },
    { provide: getOptionsToken(), useValue: { throttlers: RateLimitGuard.throttlersOf(options) } },
    { provide: RateLimitMetrics, useFactory: () => new RateLimitMetrics(options.registry) },
    {
      provide: RATE_LIMIT_STORE,
      inject: [RateLimitMetrics],
      useFactory: (metrics: RateLimitMetrics): RateLimitStore =>
        resolved.redisUrl
          ? new FailOpenRedisStore({
              url: resolved.redisUrl,
              commandTimeoutMs: resolved.redisCommandTimeoutMs,
              retryAfterMs: resolved.redisRetryAfterMs,
              leaseMax: resolved.redisLeaseMax,
              metrics,
            })
          : new MemoryRateLimitStore(),
    },
    { provide: getStorageToken(), useExisting: RATE_LIMIT_STORE },
    { provide: APP_GUARD, useClass: RateLimitGuard },
    RequestLimiter,
  ];
}
