// Deep imports: instrument.ts runs this loader before tracing hooks http, express and
// TypeORM, which the platform barrel would load.
import { type BaseConfig, readBaseConfig } from '@keel/platform/config/base-config';
import { type Env } from '@keel/platform/config/env-reader';
import { parseServiceRegistry, readServiceUrl } from '@keel/platform/registry/service-registry';
import { version } from '../../../../package.json';
import registryJson from '../../../../services.json';

export interface ProfileCacheConfig {
  /** How long a public profile is served from memory (PROFILE_CACHE_TTL). */
  ttlMs: number;
  /** Most profiles held at once; the least recently used go first (PROFILE_CACHE_MAX_ENTRIES). */
  maxEntries: number;
}

export interface UsersConfig extends BaseConfig {
  /** Where auth-service answers (`AUTH_SERVICE_URL`): its JWKS and revocation feed. */
  authServiceUrl: string;
  profileCache: ProfileCacheConfig;
}

/** Reads and validates users-service's environment; throws naming every bad variable. */
export function loadUsersConfig(env: Env): UsersConfig {
  const registry = parseServiceRegistry(registryJson);
  const [base, r] = readBaseConfig(registry.service('users-service'), env, version);
  const authServiceUrl = readServiceUrl(r, registry.service('auth-service'));
  // Short by default: with several replicas a PATCH only clears the cache of the replica
  // that served it, so this is also the longest another replica shows the old profile.
  const ttlMs = r.duration('PROFILE_CACHE_TTL', '30s');
  const maxEntries = r.int('PROFILE_CACHE_MAX_ENTRIES', 10_000, 1, 1_000_000);
  r.done();
  return { ...base, authServiceUrl, profileCache: { ttlMs, maxEntries } };
}
