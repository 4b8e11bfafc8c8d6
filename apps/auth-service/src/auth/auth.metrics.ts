import { Injectable } from '@nestjs/common';
import { type DurationHistogram, MetricsService } from '@keel/observability';
import { type Counter } from 'prom-client';

export type LoginResult = 'success' | 'invalid_credentials' | 'rate_limited';

/** auth-service's metrics (CONTRACT §5), declared once, recorded where things happen. */
@Injectable()
export class AuthMetrics {
  readonly loginAttempts: Counter<'result'>;
  readonly tokensIssued: Counter<'type'>;
  readonly refreshReuse: Counter;
  readonly passwordHashDuration: DurationHistogram<'operation'>;

  constructor(metrics: MetricsService) {
    this.loginAttempts = metrics.counter({
      name: 'auth_login_attempts_total',
      help: 'Login attempts by result.',
      labelNames: ['result'],
    });
    this.tokensIssued = metrics.counter({
      name: 'auth_tokens_issued_total',
      help: 'Tokens issued by type (access, refresh).',
      labelNames: ['type'],
    });
    this.refreshReuse = metrics.counter({
      name: 'auth_refresh_reuse_detected_total',
      help: 'Rotated refresh tokens presented again (the session was revoked).',
    });
    this.passwordHashDuration = metrics.histogram({
      name: 'auth_password_hash_duration_seconds',
      help: 'argon2id work by operation (hash, verify).',
      labelNames: ['operation'],
    });
    // Every series exists from the start, so rates and alerts see 0 rather than nothing.
    for (const result of ['success', 'invalid_credentials', 'rate_limited'] as const) {
      this.loginAttempts.inc({ result }, 0);
    }
    for (const type of ['access', 'refresh'] as const) {
      this.tokensIssued.inc({ type }, 0);
    }
    this.refreshReuse.inc(0);
    for (const operation of ['hash', 'verify'] as const) {
      this.passwordHashDuration.zero({ operation });
    }
  }

  loginAttempt(result: LoginResult): void {
    this.loginAttempts.inc({ result });
  }
}
