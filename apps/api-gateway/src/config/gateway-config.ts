// Deep imports: instrument.ts runs this loader before tracing hooks http, express and
// TypeORM, which the platform barrel would load.
import { type BaseConfig, readBaseConfig } from '@keel/platform/config/base-config';
import { type Env } from '@keel/platform/config/env-reader';
import { parseServiceRegistry, readServiceUrl } from '@keel/platform/registry/service-registry';
import { version } from '../../../../package.json';
import registryJson from '../../../../services.json';

export type UpstreamName = 'auth-service' | 'users-service';

/** Where one upstream is and how long the gateway waits for it. */
export interface UpstreamSettings {
  url: string;
  /** Time allowed to open a connection, ms. */
  connectTimeoutMs: number;
  /** Time allowed for the response headers, and between body chunks, ms; then 504. */
  timeoutMs: number;
}

export interface GatewayConfig extends BaseConfig {
  /** Where auth-service answers (`AUTH_SERVICE_URL`): its JWKS and revocation feed. */
  authServiceUrl: string;
  upstreams: Record<UpstreamName, UpstreamSettings>;
}

/**
 * Reads and validates the gateway's environment; throws naming every bad variable.
 *
 * `UPSTREAM_CONNECT_TIMEOUT` (1s) and `UPSTREAM_TIMEOUT` (10s) apply to every upstream;
 * `AUTH_SERVICE_CONNECT_TIMEOUT`, `AUTH_SERVICE_TIMEOUT`, `USERS_SERVICE_CONNECT_TIMEOUT`
 * and `USERS_SERVICE_TIMEOUT` override them for one upstream.
 */
export function loadGatewayConfig(env: Env): GatewayConfig {
  const registry = parseServiceRegistry(registryJson);
  const [base, r] = readBaseConfig(registry.service('api-gateway'), env, version);
  const authServiceUrl = readServiceUrl(r, registry.service('auth-service'));
  const usersServiceUrl = readServiceUrl(r, registry.service('users-service'));
  const connectTimeoutMs = r.duration('UPSTREAM_CONNECT_TIMEOUT', '1s');
  const timeoutMs = r.duration('UPSTREAM_TIMEOUT', '10s');
  const override = (name: string, fallback: number): number =>
    r.raw(name) === undefined ? fallback : r.duration(name, '0');
  const settings = (prefix: string, url: string): UpstreamSettings => ({
    url,
    connectTimeoutMs: override(`${prefix}_CONNECT_TIMEOUT`, connectTimeoutMs),
    timeoutMs: override(`${prefix}_TIMEOUT`, timeoutMs),
  });
  const upstreams = {
    'auth-service': settings('AUTH_SERVICE', authServiceUrl),
    'users-service': settings('USERS_SERVICE', usersServiceUrl),
  };
  r.done();
  return { ...base, authServiceUrl, upstreams };
}
