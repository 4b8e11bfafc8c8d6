import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { AdmissionControl, Traced, WorkQueue } from '@keel/observability';
import { APP_CONFIG } from '@keel/platform';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import { type AuthConfig } from '../config/auth-config';
import { AuthMetrics } from './auth.metrics';

/** OWASP's argon2id parameters: 19 MiB, two passes, one lane. */
export const ARGON2_OPTIONS = {
  algorithm: Algorithm.Argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * Password hashing and verification with argon2id. Each costs ~19 MiB and tens of ms of one
 * core, so at most `PASSWORD_HASH_CONCURRENCY` run at once (more only adds threads fighting
 * for the same cores) and at most `PASSWORD_HASH_QUEUE` wait; past that a login or
 * registration gets 503 with `Retry-After` at once (`http_server_requests_shed_total{reason=
 * "password_hash_queue"}`) instead of queueing into seconds.
 */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  /** Hash of a random password, verified against when the email is unknown. */
  private dummyHash: Promise<string> | undefined;
  private readonly queue: WorkQueue;

  constructor(
    private readonly metrics: AuthMetrics,
    admission: AdmissionControl,
    @Inject(APP_CONFIG) config: AuthConfig,
  ) {
    this.queue = new WorkQueue(
      admission,
      'password_hash_queue',
      config.passwordHashConcurrency,
      config.passwordHashQueue,
    );
  }

  onModuleInit(): void {
    this.dummyHash = hash('keel-dummy-password-for-timing', ARGON2_OPTIONS);
  }

  @Traced()
  async hash(password: string): Promise<string> {
    return this.queue.run(() =>
      this.metrics.passwordHashDuration.time({ operation: 'hash' }, () =>
        hash(password, ARGON2_OPTIONS),
      ),
    );
  }

  @Traced()
  async verify(passwordHash: string, password: string): Promise<boolean> {
    return this.queue.run(async () => {
      const done = this.metrics.passwordHashDuration.startTimer({ operation: 'verify' });
      try {
        return await verify(passwordHash, password);
      } catch {
        return false;
      } finally {
        done();
      }
    });
  }

  /**
   * Spends the same work as a real verification and fails, so that an unknown email and a
   * wrong password cannot be told apart by timing.
   */
  async verifyDummy(password: string): Promise<false> {
    this.dummyHash ??= hash('keel-dummy-password-for-timing', ARGON2_OPTIONS);
    await this.verify(await this.dummyHash, password);
    return false;
  }
}
