import { type BaseConfig, type Env, readBaseConfig } from '@keel/platform';
import { version } from '../../../../package.json';

export interface GatewayConfig extends BaseConfig {
  /** Time allowed to open a connection to an upstream (UPSTREAM_CONNECT_TIMEOUT), ms. */
  upstreamConnectTimeoutMs: number;
  /**
   * Time allowed for an upstream's response headers, and between body chunks
   * (UPSTREAM_TIMEOUT), ms. Past it the gateway answers 504.
   */
  upstreamTimeoutMs: number;
}

/** Reads and validates the gateway's environment; throws naming every bad variable. */
export function loadGatewayConfig(env: Env): GatewayConfig {
  const [base, r] = readBaseConfig('api-gateway', env, version);
  const upstreamConnectTimeoutMs = r.duration('UPSTREAM_CONNECT_TIMEOUT', '1s');
  const upstreamTimeoutMs = r.duration('UPSTREAM_TIMEOUT', '10s');
  r.done();
  return { ...base, upstreamConnectTimeoutMs, upstreamTimeoutMs };
}
