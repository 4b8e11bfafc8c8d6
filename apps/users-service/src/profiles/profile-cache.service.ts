import { Inject, Injectable } from '@nestjs/common';
import { Traced } from '@keel/observability';
import { APP_CONFIG } from '@keel/platform';
import { type UsersConfig } from '../config/users-config';
import { type PublicProfileDto } from './dto/profile.dto';

/** What one lookup found: the `result` label of `cache_requests_total`. */
export type CacheResult = 'hit' | 'miss';

interface Entry {
  value: PublicProfileDto;
  expiresAt: number;
}

/**
 * Public profiles kept in this process for `GET /users/:id`: each for at most the TTL, at
 * most `maxEntries` of them (least recently used evicted first). Invalidated on PATCH; other
 * replicas see a change when their entry expires.
 */
@Injectable()
export class ProfileCache {
  /** The `cache` label of this cache's metrics. */
  static readonly cacheName = 'profile';

  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private hits = 0;
  private misses = 0;

  constructor(@Inject(APP_CONFIG) config: Pick<UsersConfig, 'profileCache'>) {
    this.ttlMs = config.profileCache.ttlMs;
    this.maxEntries = config.profileCache.maxEntries;
  }

  @Traced()
  get(id: string): PublicProfileDto | undefined {
    const entry = this.entries.get(id);
    if (entry && entry.expiresAt <= Date.now()) {
      this.entries.delete(id);
    } else if (entry) {
      // Re-inserting moves the entry to the end of the Map's order: most recently used.
      this.entries.delete(id);
      this.entries.set(id, entry);
      this.record('hit');
      return entry.value;
    }
    this.record('miss');
    return undefined;
  }

  set(profile: PublicProfileDto): void {
    this.entries.delete(profile.id);
    this.entries.set(profile.id, { value: profile, expiresAt: Date.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value!);
    }
  }

  invalidate(id: string): void {
    this.entries.delete(id);
  }

  /** Lookups so far and entries held now (expired ones included until looked up or evicted). */
  stats(): { hits: number; misses: number; size: number } {
    return { hits: this.hits, misses: this.misses, size: this.entries.size };
  }

  /** Called once per lookup with its result: the one place that counts hits and misses. */
  protected record(result: CacheResult): void {
    if (result === 'hit') {
      this.hits += 1;
    } else {
      this.misses += 1;
    }
  }
}
