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

/** The answer to {@link RateLimitStore.reserve}. */
export interface Reservation {
  /** False when the limit was already reached: nothing was taken. */
  granted: boolean;
  /** Slots taken in the window, this one included when granted. */
  count: number;
  /** Seconds until the window (or the block) ends. */
  resetSeconds: number;
}

/**
 * The throttler's storage plus reservations, which limiters that count only some responses
 * (failed logins) need: a slot is taken atomically before the request is served, so N
 * concurrent requests never get past a limit of fewer than N, and given back once the answer
 * shows it did not count.
 */
export interface RateLimitStore extends ThrottlerStorage {
  /** Takes one of `limit` slots of `key`'s window of `windowMs`, atomically; none when full. */
  reserve(key: string, limit: number, windowMs: number): Promise<Reservation>;
  /**
   * Settles a granted reservation: `counted` false gives the slot back; true keeps it, and a
   * kept slot that fills the limit restarts the window, so the key stays blocked for a whole
   * window after the limit-th counted answer.
   */
  settle(key: string, counted: boolean, limit: number, windowMs: number): Promise<void>;
  status(): RateLimitStoreStatus;
}
