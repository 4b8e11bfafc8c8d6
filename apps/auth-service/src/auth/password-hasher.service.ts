import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Traced } from '@keel/observability';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import { AuthMetrics } from './auth.metrics';

/** OWASP's argon2id parameters: 19 MiB, two passes, one lane. */
export const ARGON2_OPTIONS = {
  algorithm: Algorithm.Argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/** Password hashing and verification with argon2id. */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  /** Hash of a random password, verified against when the email is unknown. */
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly metrics: AuthMetrics) {}

  onModuleInit(): void {
    this.dummyHash = hash('keel-dummy-password-for-timing', ARGON2_OPTIONS);
  }

  @Traced()
  async hash(password: string): Promise<string> {
    return this.metrics.passwordHashDuration.time({ operation: 'hash' }, () =>
      hash(password, ARGON2_OPTIONS),
    );
  }

  @Traced()
  async verify(passwordHash: string, password: string): Promise<boolean> {
    const done = this.metrics.passwordHashDuration.startTimer({ operation: 'verify' });
    try {
      return await verify(passwordHash, password);
    } catch {
      return false;
    } finally {
      done();
    }
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
