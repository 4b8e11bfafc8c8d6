// Deep imports: instrument.ts runs this loader before tracing hooks http, express and
// TypeORM, which the platform barrel would load.
import { type BaseConfig, readBaseConfig } from '@keel/platform/config/base-config';
import { type Env } from '@keel/platform/config/env-reader';
import { parseServiceRegistry, readServiceUrl } from '@keel/platform/registry/service-registry';
import { version } from '../../../../package.json';
import registryJson from '../../../../services.json';

export interface AppConfig extends BaseConfig {
  /** Where auth-service answers (`AUTH_SERVICE_URL`): its JWKS and revocation feed. */
  authServiceUrl: string;
}

/** Reads and validates tpl-service's environment; throws naming every bad variable. */
export function loadAppConfig(env: Env): AppConfig {
  const registry = parseServiceRegistry(registryJson);
  const [base, r] = readBaseConfig(registry.service('tpl-service'), env, version);
  const authServiceUrl = readServiceUrl(r, registry.service('auth-service'));
  // Variables of this service only: read them here, e.g. `r.duration('X_TTL', '30s')`.
  r.done();
  return { ...base, authServiceUrl };
}
