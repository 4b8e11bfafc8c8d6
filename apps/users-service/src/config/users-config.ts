import { type BaseConfig, type Env, parseServiceRegistry, readBaseConfig } from '@keel/platform';
import { version } from '../../../../package.json';
import registryJson from '../../../../services.json';

export interface ProfileCacheConfig {
  /** How long a public profile is served from memory (PROFILE_CACHE_TTL). */
  ttlMs: number;
  /** Most profiles held at once; the least recently used go first (PROFILE_CACHE_MAX_ENTRIES). */
  maxEntries: number;
}

export interface UsersConfig extends BaseConfig {
  profileCache: ProfileCacheConfig;
}

/** Reads and validates users-service's environment; throws naming every bad variable. */
export function loadUsersConfig(env: Env): UsersConfig {
  const [base, r] = readBaseConfig(
    parseServiceRegistry(registryJson).service('users-service'),
    env,
    version,
  );
  // Short by default: with several replicas a PATCH only clears the cache of the replica
  // that served it, so this is also the longest another replica shows the old profile.
  const ttlMs = r.duration('PROFILE_CACHE_TTL', '30s');
  const maxEntries = r.int('PROFILE_CACHE_MAX_ENTRIES', 10_000, 1, 1_000_000);
  r.done();
  return { ...base, profileCache: { ttlMs, maxEntries } };
}
