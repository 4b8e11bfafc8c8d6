import { createPrivateKey } from 'node:crypto';
import { availableParallelism } from 'node:os';
// Deep imports: instrument.ts runs this loader before tracing hooks http, express and
// TypeORM, which the platform barrel would load.
import { type BaseConfig, readBaseConfig } from '@keel/platform/config/base-config';
import { type Env } from '@keel/platform/config/env-reader';
import { isPublishedSecret } from '@keel/platform/config/published-secrets';
import { parseServiceRegistry, readServiceUrl } from '@keel/platform/registry/service-registry';
import { version } from '../../../../package.json';
import registryJson from '../../../../services.json';

export interface AuthConfig extends BaseConfig {
  /** Where users-service answers (`USERS_SERVICE_URL`): profiles are created there. */
  usersServiceUrl: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlMs: number;
  /** PEM (PKCS#8) P-256 key; unset means generate one into KEEL_DATA_DIR. */
  jwtPrivateKeyPem: string | undefined;
  /** argon2 work at once (`PASSWORD_HASH_CONCURRENCY`, default: the core count). */
  passwordHashConcurrency: number;
  /** argon2 work allowed to wait; beyond it login/register get 503 (`PASSWORD_HASH_QUEUE`). */
  passwordHashQueue: number;
}

/** Reads and validates auth-service's environment; throws naming every bad variable. */
export function loadAuthConfig(env: Env): AuthConfig {
  const registry = parseServiceRegistry(registryJson);
  const [base, r] = readBaseConfig(registry.service('auth-service'), env, version);
  const usersServiceUrl = readServiceUrl(r, registry.service('users-service'));
  const accessTtlMs = r.duration('ACCESS_TOKEN_TTL', '900s');
  const refreshTokenTtlMs = r.duration('REFRESH_TOKEN_TTL', '30d');
  const jwtPrivateKeyPem = r.optionalString('JWT_PRIVATE_KEY')?.replace(/\\n/g, '\n');
  if (jwtPrivateKeyPem && isPublishedSecret(jwtPrivateKeyPem) && base.production) {
    r.fail(
      'JWT_PRIVATE_KEY',
      'is a value published in the repository (a placeholder); set a real key when NODE_ENV=production',
      undefined,
    );
  } else if (jwtPrivateKeyPem) {
    try {
      const key = createPrivateKey(jwtPrivateKeyPem);
      if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
        r.fail('JWT_PRIVATE_KEY', 'must be an EC P-256 private key (ES256)', undefined);
      }
    } catch {
      r.fail('JWT_PRIVATE_KEY', 'must be a PEM private key', undefined);
    }
  } else if (base.production) {
    r.fail(
      'JWT_PRIVATE_KEY',
      'must be set when NODE_ENV=production (replicas must share one key)',
      undefined,
    );
  }
  const passwordHashConcurrency = r.int(
    'PASSWORD_HASH_CONCURRENCY',
    availableParallelism(),
    1,
    256,
  );
  const passwordHashQueue = r.int('PASSWORD_HASH_QUEUE', 2 * passwordHashConcurrency, 0, 100_000);
  r.done();
  return {
    passwordHashConcurrency,
    passwordHashQueue,
    ...base,
    usersServiceUrl,
    accessTokenTtlSeconds: Math.max(1, Math.round(accessTtlMs / 1000)),
    refreshTokenTtlMs,
    jwtPrivateKeyPem,
  };
}
