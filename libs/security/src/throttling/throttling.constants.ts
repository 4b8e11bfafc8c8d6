/** Names of the contract's limiters; they are the `limiter` label of the metrics. */
export const GLOBAL_LIMITER = 'global';
export const AUTH_LIMITER = 'auth';
export const LOGIN_ACCOUNT_LIMITER = 'login-account';
export const SERVICE_LIMITER = 'service';

/** Metadata of `@SkipThrottle()` without names: no limiter applies. */
export const SKIP_ALL_THROTTLERS_KEY = 'keel:skipAllThrottlers';

/** Injection token of the resolved {@link ThrottlingOptions}. */
export const THROTTLING_OPTIONS = Symbol('KEEL_THROTTLING_OPTIONS');

/** Prefix of every rate-limit key in Redis, so a shared Redis can hold other data. */
export const DEFAULT_KEY_PREFIX = 'keel:rl:';

/** Longest a Redis command may take before the limiter answers from memory instead. */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 200;

/**
 * Most slots of a window a process leases from Redis per round trip (`RATE_LIMIT_LEASE_MAX`):
 * see `leaseSize` and `LeasedHits`.
 */
export const DEFAULT_LEASE_MAX = 50;

/** How long the limiter stays on memory after a Redis error before it tries Redis again. */
export const DEFAULT_REDIS_RETRY_AFTER_MS = 1_000;

export const RATE_LIMIT_REJECTIONS_METRIC = 'rate_limit_rejections_total';
export const RATE_LIMIT_STORE_ERRORS_METRIC = 'rate_limit_store_errors_total';

/** Injection token of the app's {@link RateLimitStore} (its `status()` serves readiness checks). */
export const RATE_LIMIT_STORE = Symbol('KEEL_RATE_LIMIT_STORE');

/** Metadata keys `@Throttle()` of @nestjs/throttler writes (the library does not export them). */
export const THROTTLER_LIMIT = 'THROTTLER:LIMIT';
export const THROTTLER_TTL = 'THROTTLER:TTL';
