import { ConfigValidationError } from '@keel/platform';
import { loadGatewayConfig } from './gateway-config';

describe(loadGatewayConfig.name, () => {
  it('uses the embedded defaults: port 3000, upstreams on 3001/3002, 1 s connect, 10 s response', () => {
    const config = loadGatewayConfig({});
    expect(config).toMatchObject({
      app: 'api-gateway',
      port: 3000,
      authServiceUrl: 'http://127.0.0.1:3001',
      usersServiceUrl: 'http://127.0.0.1:3002',
      upstreamConnectTimeoutMs: 1000,
      upstreamTimeoutMs: 10_000,
    });
  });

  it('reads the upstream timeouts as durations', () => {
    const config = loadGatewayConfig({ UPSTREAM_CONNECT_TIMEOUT: '250ms', UPSTREAM_TIMEOUT: '3s' });
    expect(config.upstreamConnectTimeoutMs).toBe(250);
    expect(config.upstreamTimeoutMs).toBe(3000);
  });

  it('names every bad variable at once', () => {
    const load = (): unknown =>
      loadGatewayConfig({ UPSTREAM_TIMEOUT: 'soon', USERS_SERVICE_URL: 'ftp://x' });
    expect(load).toThrow(ConfigValidationError);
    expect(load).toThrow(/USERS_SERVICE_URL[\s\S]*UPSTREAM_TIMEOUT/);
  });
});
