import { Inject, Injectable } from '@nestjs/common';
import { MetricsService } from '@keel/observability';
import { APP_CONFIG } from '@keel/platform';
import { type Counter } from 'prom-client';
import { type UsersConfig } from '../config/users-config';
import { type CacheResult, ProfileCache } from './profile-cache.service';

/** The profile cache, counting lookups in `cache_requests_total{cache="profile",result}`. */
@Injectable()
export class MeteredProfileCache extends ProfileCache {
  private readonly requests: Counter<'cache' | 'result'>;

  constructor(
    @Inject(APP_CONFIG) config: Pick<UsersConfig, 'profileCache'>,
    metrics: MetricsService,
  ) {
    super(config);
    this.requests = metrics.counter({
      name: 'cache_requests_total',
      help: 'Cache lookups by cache and result (hit, miss).',
      labelNames: ['cache', 'result'],
    });
    for (const result of ['hit', 'miss'] as const) {
      this.requests.inc({ cache: ProfileCache.cacheName, result }, 0);
    }
  }

  protected override record(result: CacheResult): void {
    super.record(result);
    this.requests.inc({ cache: ProfileCache.cacheName, result });
  }
}
