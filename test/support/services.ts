/**
 * Which real backing services the suites may use. Outside CI a suite whose service is not
 * configured is skipped; with CI=true it fails instead, so CI can never pass by skipping.
 */
export const postgresUrl = process.env.DATABASE_URL;
export const redisUrl = process.env.REDIS_URL;
const inCi = process.env.CI === 'true';

function guard(name: string, value: string | undefined): jest.Describe {
  if (value) {
    return describe;
  }
  if (inCi) {
    throw new Error(`${name} is not set but CI=true: the suites that need it must run in CI`);
  }
  return describe.skip;
}

/** `describe` when PostgreSQL is configured (DATABASE_URL), else `describe.skip` (never in CI). */
export const describeWithPostgres = (): jest.Describe => guard('DATABASE_URL', postgresUrl);
/** `describe` when Redis is configured (REDIS_URL), else `describe.skip` (never in CI). */
export const describeWithRedis = (): jest.Describe => guard('REDIS_URL', redisUrl);
