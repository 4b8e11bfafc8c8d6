import { ThrottlerStorageService } from '@nestjs/throttler';
import {
  type RateLimitStore,
  type RateLimitStoreStatus,
  type Reservation,
} from './rate-limit.store';

interface Window {
  count: number;
  expiresAt: number;
}

/**
 * The throttler's in-process storage, plus reservations. Node runs one callback at a time and
 * these methods never await between reading and writing a count, so they are atomic within
 * the process.
 */
export class MemoryRateLimitStore extends ThrottlerStorageService implements RateLimitStore {
  private readonly windows = new Map<string, Window>();

  reserve(key: string, limit: number, windowMs: number): Promise<Reservation> {
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || window.expiresAt <= now) {
      this.sweep(now);
      window = { count: 0, expiresAt: now + windowMs };
      this.windows.set(key, window);
    }
    const resetSeconds = Math.max(1, Math.ceil((window.expiresAt - now) / 1000));
    if (window.count >= limit) {
      return Promise.resolve({ granted: false, count: window.count, resetSeconds });
    }
    window.count += 1;
    return Promise.resolve({ granted: true, count: window.count, resetSeconds });
  }

  settle(key: string, counted: boolean, limit: number, windowMs: number): Promise<void> {
    const window = this.windows.get(key);
    if (window && window.expiresAt > Date.now()) {
      if (!counted) {
        window.count = Math.max(0, window.count - 1);
      } else if (window.count >= limit) {
        window.expiresAt = Date.now() + windowMs;
      }
    }
    return Promise.resolve();
  }

  status(): RateLimitStoreStatus {
    return { backend: 'memory', healthy: true };
  }

  /** Drops ended windows now and then, so keys of one-off callers do not pile up. */
  private sweep(now: number): void {
    if (this.windows.size < 10_000) {
      return;
    }
    for (const [key, window] of this.windows) {
      if (window.expiresAt <= now) {
        this.windows.delete(key);
      }
    }
  }
}
