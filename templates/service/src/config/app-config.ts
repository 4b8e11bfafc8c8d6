import { type BaseConfig, type Env, parseServiceRegistry, readBaseConfig } from '@keel/platform';
import { version } from '../../../../package.json';
import registryJson from '../../../../services.json';

export type AppConfig = BaseConfig;

/** Reads and validates tpl-service's environment; throws naming every bad variable. */
export function loadAppConfig(env: Env): AppConfig {
  const [base, r] = readBaseConfig(
    parseServiceRegistry(registryJson).service('tpl-service'),
    env,
    version,
  );
  // Variables of this service only: read them here, e.g. `r.duration('X_TTL', '30s')`.
  r.done();
  return base;
}
