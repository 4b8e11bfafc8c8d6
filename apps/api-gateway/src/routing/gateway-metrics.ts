import { Injectable } from '@nestjs/common';
import { MetricsService } from '@keel/observability';
import { type Counter } from 'prom-client';

/**
 * What the gateway counts beyond the platform's metrics: the logins its limiters refuse,
 * `auth_login_attempts_total{result="rate_limited"}` (CONTRACT §5; auth-service counts the
 * other results of the same metric in its own process).
 */
@Injectable()
export class GatewayMetrics {
  readonly loginAttempts: Counter<'result'>;

  constructor(metrics: MetricsService) {
    this.loginAttempts = metrics.counter({
      name: 'auth_login_attempts_total',
      help: 'Login attempts by result.',
      labelNames: ['result'],
    });
    this.loginAttempts.inc({ result: 'rate_limited' }, 0);
  }
}
