import { DEV_INTERNAL_TOKEN, readBaseConfig } from './base-config';
import { ConfigValidationError } from './config-validation.error';

function load(env: Record<string, string>) {
  const [config, reader] = readBaseConfig({ name: 'users-service', port: 3002 }, env, '1.2.3');
  reader.done();
  return config;
}

function problems(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      return [...error.problems];
    }
    throw error;
  }
  return [];
}

describe('readBaseConfig', () => {
  it('applies the embedded defaults of the contract', () => {
    const config = load({});
    expect(config.port).toBe(3002);
    expect(config.host).toBe('127.0.0.1');
    expect(config.database).toEqual({
      kind: 'sqlite',
      file: expect.stringMatching(/data\/users-service\.sqlite$/),
    });
    expect(config.redisUrl).toBeUndefined();
    expect(config.bodyLimitBytes).toBe(100 * 1024);
    expect(config.rateLimits.loginAccount).toEqual({ limit: 5, windowMs: 300_000 });
    expect(config.serviceName).toBe('users-service');
    expect(config.sentry).toEqual({ dsn: undefined, environment: 'development', release: '1.2.3' });
  });

  it('puts Redis keys under REDIS_KEY_PREFIX, keel: by default', () => {
    expect(load({}).redisKeyPrefix).toBe('keel:');
    expect(load({ REDIS_KEY_PREFIX: 'keel:test-1:' }).redisKeyPrefix).toBe('keel:test-1:');
  });

  it('selects PostgreSQL by DATABASE_URL with the pool size', () => {
    const config = load({ DATABASE_URL: 'postgres://u@db:5432/keel', DB_POOL_SIZE: '4' });
    expect(config.database).toEqual({
      kind: 'postgres',
      url: 'postgres://u@db:5432/keel',
      poolSize: 4,
    });
  });

  it('names every bad variable at once', () => {
    const found = problems({
      PORT: 'eighty',
      DATABASE_URL: 'mysql://x',
      RATE_LIMIT_AUTH: '10 per minute',
      LOG_LEVEL: 'loud',
    });
    expect(found).toHaveLength(4);
    expect(found.join('\n')).toMatch(/PORT/);
    expect(found.join('\n')).toMatch(/DATABASE_URL/);
    expect(found.join('\n')).toMatch(/RATE_LIMIT_AUTH/);
    expect(found.join('\n')).toMatch(/LOG_LEVEL/);
  });

  it('refuses the development internal token and chaos in production', () => {
    const found = problems({ NODE_ENV: 'production', CHAOS_ENABLED: 'true' });
    expect(found.some((p) => p.startsWith('INTERNAL_TOKEN'))).toBe(true);
    expect(found.some((p) => p.startsWith('CHAOS_ENABLED'))).toBe(true);
    expect(
      problems({
        NODE_ENV: 'production',
        INTERNAL_TOKEN: 'a-real-secret-of-some-length-0123456789',
      }),
    ).toEqual([]);
    expect(load({}).internalToken).toBe(DEV_INTERNAL_TOKEN);
  });

  it('refuses in production any published secret and an internal token under 32 characters', () => {
    for (const published of [DEV_INTERNAL_TOKEN, 'compose-internal-token-change-me', 'CHANGE-ME']) {
      expect(problems({ NODE_ENV: 'production', INTERNAL_TOKEN: published })).toEqual([
        expect.stringMatching(/^INTERNAL_TOKEN is a value published in the repository/),
      ]);
    }
    expect(problems({ NODE_ENV: 'production', INTERNAL_TOKEN: 'x'.repeat(31) })).toEqual([
      'INTERNAL_TOKEN must be at least 32 characters when NODE_ENV=production',
    ]);
  });

  it('lists a published secret in use outside production, for a warning at start', () => {
    expect(load({}).publishedSecrets).toEqual(['INTERNAL_TOKEN']);
    expect(load({ INTERNAL_TOKEN: 'compose-internal-token-change-me' }).publishedSecrets).toEqual([
      'INTERNAL_TOKEN',
    ]);
    expect(load({ INTERNAL_TOKEN: 'a-secret-of-my-own-making' }).publishedSecrets).toEqual([]);
  });

  it('reads TRUST_PROXY as hops or CIDRs', () => {
    expect(load({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(load({ TRUST_PROXY: '10.0.0.0/8, loopback' }).trustProxy).toEqual([
      '10.0.0.0/8',
      'loopback',
    ]);
    expect(problems({ TRUST_PROXY: 'everyone' })[0]).toMatch(/^TRUST_PROXY/);
  });
});
