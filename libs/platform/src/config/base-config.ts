import { join, resolve } from 'node:path';
import { type Rate } from './duration';
import { type Env, EnvReader } from './env-reader';
import {
  DEV_INTERNAL_TOKEN,
  isPublishedSecret,
  MIN_PRODUCTION_INTERNAL_TOKEN_LENGTH,
} from './published-secrets';

export { DEV_INTERNAL_TOKEN };

/** An app's name, as `services.json` spells it. */
export type AppName = string;

/** What `readBaseConfig` needs of the app's registry entry. */
export interface AppIdentity {
  name: string;
  port: number;
}

export type DatabaseConfig =
  { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; poolSize: number };

export interface RateLimitsConfig {
  global: Rate;
  auth: Rate;
  loginAccount: Rate;
  service: Rate;
  /**
   * Longest wait for Redis on a limit decision before the process counts in its own memory
   * (`RATE_LIMIT_REDIS_TIMEOUT`, default 200ms).
   */
  redisTimeoutMs: number;
  /**
   * Most slots of a limit's window a process takes from Redis per round trip
   * (`RATE_LIMIT_LEASE_MAX`, default 50; 1: every request counted in Redis).
   */
  leaseMax: number;
}

/** What every app reads from the environment (CONTRACT §2). */
export interface BaseConfig {
  app: AppName;
  serviceName: string;
  version: string;
  port: number;
  host: string;
  nodeEnv: 'development' | 'production' | 'test';
  production: boolean;
  dataDir: string;
  database: DatabaseConfig;
  redisUrl: string | undefined;
  /** Start of every Redis key the apps write (`REDIS_KEY_PREFIX`, default `keel:`). */
  redisKeyPrefix: string;
  internalToken: string;
  trustProxy: boolean | number | string[];
  corsOrigins: string[];
  bodyLimitBytes: number;
  rateLimits: RateLimitsConfig;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  logFormat: 'json' | 'pretty';
  chaosEnabled: boolean;
  sentry: { dsn: string | undefined; environment: string; release: string };
  /**
   * Secret variables running on a value published in the repository (only possible outside
   * production); `bootstrap` logs a warning naming each.
   */
  publishedSecrets: string[];
  /** Load shedding: `SHED_MAX_IN_FLIGHT`, `SHED_MAX_EVENT_LOOP_DELAY` (0 = off). */
  admission: { maxInFlight: number; maxEventLoopDelayMs: number };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Reads the variables every app shares. The returned reader still holds any problems;
 * app-specific loaders read their own variables from it, then call `reader.done()`.
 */
export function readBaseConfig(
  self: AppIdentity,
  env: Env,
  version: string,
): [BaseConfig, EnvReader] {
  const app = self.name;
  const r = new EnvReader(env);
  const nodeEnv = r.oneOf(
    'NODE_ENV',
    ['development', 'production', 'test'] as const,
    'development',
  );
  const production = nodeEnv === 'production';
  const dataDir = resolve(r.string('KEEL_DATA_DIR', './data'));

  const databaseUrl = r.url('DATABASE_URL', undefined, ['postgres', 'postgresql']);
  const poolSize = r.int('DB_POOL_SIZE', 10, 1, 500);
  const database: DatabaseConfig = databaseUrl
    ? { kind: 'postgres', url: databaseUrl, poolSize }
    : { kind: 'sqlite', file: join(dataDir, `${app}.sqlite`) };

  const internalToken = r.string('INTERNAL_TOKEN', DEV_INTERNAL_TOKEN);
  const publishedSecrets: string[] = [];
  if (isPublishedSecret(internalToken)) {
    if (production) {
      r.fail(
        'INTERNAL_TOKEN',
        'is a value published in the repository (a default or placeholder); set a secret of ' +
          `${MIN_PRODUCTION_INTERNAL_TOKEN_LENGTH}+ random characters when NODE_ENV=production`,
        '',
      );
    } else {
      publishedSecrets.push('INTERNAL_TOKEN');
    }
  } else if (production && internalToken.length < MIN_PRODUCTION_INTERNAL_TOKEN_LENGTH) {
    r.fail(
      'INTERNAL_TOKEN',
      `must be at least ${MIN_PRODUCTION_INTERNAL_TOKEN_LENGTH} characters when NODE_ENV=production`,
      '',
    );
  } else if (internalToken.length < 16) {
    r.fail('INTERNAL_TOKEN', 'must be at least 16 characters', '');
  }

  const chaosEnabled = r.boolean('CHAOS_ENABLED', false);
  if (chaosEnabled && production) {
    r.fail('CHAOS_ENABLED', 'is refused when NODE_ENV=production', false);
  }

  const defaultFormat = nodeEnv === 'development' && process.stdout.isTTY ? 'pretty' : 'json';

  const config: BaseConfig = {
    app,
    serviceName: r.string('OTEL_SERVICE_NAME', app),
    version,
    port: r.int('PORT', self.port, 0, 65535),
    host: r.string('HOST', '127.0.0.1'),
    nodeEnv,
    production,
    dataDir,
    database,
    redisUrl: r.url('REDIS_URL', undefined, ['redis', 'rediss']),
    redisKeyPrefix: r.string('REDIS_KEY_PREFIX', 'keel:'),
    internalToken,
    trustProxy: parseTrustProxy(r),
    corsOrigins: r.list('CORS_ORIGINS'),
    bodyLimitBytes: r.bytes('BODY_LIMIT', '100kb'),
    rateLimits: {
      global: r.rate('RATE_LIMIT_GLOBAL', '300/60s'),
      auth: r.rate('RATE_LIMIT_AUTH', '10/60s'),
      loginAccount: r.rate('RATE_LIMIT_LOGIN_ACCOUNT', '5/300s'),
      service: r.rate('RATE_LIMIT_SERVICE', '1000/60s'),
      redisTimeoutMs: r.duration('RATE_LIMIT_REDIS_TIMEOUT', '200ms'),
      leaseMax: r.int('RATE_LIMIT_LEASE_MAX', 50, 1, 10_000),
    },
    logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    logFormat: r.oneOf('LOG_FORMAT', ['json', 'pretty'] as const, defaultFormat),
    chaosEnabled,
    sentry: {
      dsn: r.url('SENTRY_DSN', undefined, ['http', 'https']),
      environment: r.string('SENTRY_ENVIRONMENT', nodeEnv),
      release: r.string('SENTRY_RELEASE', version),
    },
    publishedSecrets,
    admission: {
      maxInFlight: r.int('SHED_MAX_IN_FLIGHT', 32, 0, 100_000),
      // Off unless set; `0` turns it off again (durations are otherwise positive).
      maxEventLoopDelayMs: /^0*(ms|s)?$/.test(r.raw('SHED_MAX_EVENT_LOOP_DELAY') ?? '')
        ? 0
        : r.duration('SHED_MAX_EVENT_LOOP_DELAY', '0ms'),
    },
  };
  return [config, r];
}

/** `TRUST_PROXY`: a hop count, `true`, or a comma-separated list of addresses/CIDRs. */
function parseTrustProxy(r: EnvReader): boolean | number | string[] {
  const value = r.raw('TRUST_PROXY');
  if (value === undefined || value === 'false') {
    return false;
  }
  if (value === 'true') {
    return true;
  }
  if (/^\d+$/.test(value)) {
    return Number(value);
  }
  const entries = r.list('TRUST_PROXY');
  const valid = /^(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?)$/;
  const bad = entries.filter((entry) => !valid.test(entry));
  if (bad.length > 0) {
    return r.fail(
      'TRUST_PROXY',
      `must be a hop count or addresses/CIDRs (bad: ${bad.join(', ')})`,
      false,
    );
  }
  return entries;
}
