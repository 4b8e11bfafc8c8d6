import { type ThrottlerStorage } from '@nestjs/throttler';

/** A counter's state after a hit, or as it stands (ttl and block times in whole seconds). */
export interface RateLimitRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

/** Whether limits are counted where they should be, for readiness checks. */
export interface RateLimitStoreStatus {
  backend: 'redis' | 'memory';
  /** False while a Redis-backed store counts in memory because Redis failed. */
  healthy: boolean;
}

/**
 * The throttler's storage plus a read without a hit, which limiters that count only some
 * responses (failed logins) need to refuse a request before it is served.
 */
export interface RateLimitStore extends ThrottlerStorage {
  /** Seconds the key stays blocked, 0 when it is not blocked. */
  blockedFor(key: string, throttlerName: string): Promise<number>;
  status(): RateLimitStoreStatus;
}
