import { Counter, register, type Registry } from 'prom-client';
import {
  RATE_LIMIT_REJECTIONS_METRIC,
  RATE_LIMIT_STORE_ERRORS_METRIC,
} from './throttling.constants';

/**
 * The two rate-limit counters of the contract. Several apps (or e2e tests) in one process
 * share a registry, so an existing metric of the same name is reused, not registered twice.
 */
export class RateLimitMetrics {
  readonly rejections: Counter<'limiter' | 'route'>;
  readonly storeErrors: Counter;

  constructor(registry: Registry = register) {
    this.rejections =
      (registry.getSingleMetric(RATE_LIMIT_REJECTIONS_METRIC) as Counter<'limiter' | 'route'>) ??
      new Counter({
        name: RATE_LIMIT_REJECTIONS_METRIC,
        help: 'Requests refused with 429, by limiter and route template',
        labelNames: ['limiter', 'route'],
        registers: [registry],
      });
    this.storeErrors =
      (registry.getSingleMetric(RATE_LIMIT_STORE_ERRORS_METRIC) as Counter) ??
      new Counter({
        name: RATE_LIMIT_STORE_ERRORS_METRIC,
        help: 'Rate-limit decisions taken from process memory because Redis failed',
        registers: [registry],
      });
  }
}
