import { ThrottlerStorageService } from '@nestjs/throttler';
import { type RateLimitStore, type RateLimitStoreStatus } from './rate-limit.store';

/** The throttler's in-process storage, plus {@link RateLimitStore.blockedFor}. */
export class MemoryRateLimitStore extends ThrottlerStorageService implements RateLimitStore {
  blockedFor(key: string): Promise<number> {
    const record = this.storage.get(key);
    const left = record?.isBlocked ? record.blockExpiresAt - Date.now() : 0;
    return Promise.resolve(left > 0 ? Math.ceil(left / 1000) : 0);
  }

  status(): RateLimitStoreStatus {
    return { backend: 'memory', healthy: true };
  }
}
