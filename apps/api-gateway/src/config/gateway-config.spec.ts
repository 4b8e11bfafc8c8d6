import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError } from '@keel/platform';
import { loadGatewayConfig } from './gateway-config';

describe(loadGatewayConfig.name, () => {
  it('uses the embedded defaults: port 3000, upstreams on 3001/3002, 1 s connect, 10 s response', () => {
    const config = loadGatewayConfig({});
    expect(config.port).toBe(3000);
    expect(config.upstreams).toEqual({
      'auth-service': { url: 'http://127.0.0.1:3001', connectTimeoutMs: 1000, timeoutMs: 10_000 },
      'users-service': { url: 'http://127.0.0.1:3002', connectTimeoutMs: 1000, timeoutMs: 10_000 },
    });
  });

  it('admits 32 requests in flight like every app, unless SHED_MAX_IN_FLIGHT says', () => {
    expect(loadGatewayConfig({}).admission.maxInFlight).toBe(32);
    expect(loadGatewayConfig({ SHED_MAX_IN_FLIGHT: '40' }).admission.maxInFlight).toBe(40);
    expect(loadGatewayConfig({ SHED_MAX_IN_FLIGHT: '0' }).admission.maxInFlight).toBe(0);
  });

  it('routes every registry upstream, timeouts from its entry, from KEEL_SERVICES_FILE too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-registry-'));
    try {
      const file = join(dir, 'services.json');
      const registry = JSON.parse(
        readFileSync(join(__dirname, '../../../../services.json'), 'utf8'),
      ) as { services: object[] };
      registry.services.push({
        name: 'orders-service',
        kind: 'service',
        port: 3010,
        database: false,
        calls: [],
        upstream: { connectTimeout: '200ms', timeout: '2s' },
        routes: [{ method: 'GET', path: '/orders', auth: 'bearer' }],
      });
      writeFileSync(file, JSON.stringify(registry));
      const config = loadGatewayConfig({ KEEL_SERVICES_FILE: file, ORDERS_SERVICE_TIMEOUT: '3s' });
      expect(Object.keys(config.upstreams)).toEqual([
        'auth-service',
        'users-service',
        'orders-service',
      ]);
      expect(config.upstreams['orders-service']).toEqual({
        url: 'http://127.0.0.1:3010',
        connectTimeoutMs: 200,
        timeoutMs: 3000,
      });
      expect(config.admission.maxInFlight).toBe(32);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('applies UPSTREAM_* to every upstream and lets one upstream override them', () => {
    const config = loadGatewayConfig({
      UPSTREAM_CONNECT_TIMEOUT: '250ms',
      UPSTREAM_TIMEOUT: '3s',
      AUTH_SERVICE_TIMEOUT: '15s',
      USERS_SERVICE_CONNECT_TIMEOUT: '100ms',
      USERS_SERVICE_URL: 'http://users.internal:8080',
    });
    expect(config.upstreams['auth-service']).toMatchObject({
      connectTimeoutMs: 250,
      timeoutMs: 15_000,
    });
    expect(config.upstreams['users-service']).toEqual({
      url: 'http://users.internal:8080',
      connectTimeoutMs: 100,
      timeoutMs: 3000,
    });
  });

  it('names every bad variable at once', () => {
    const load = (): unknown =>
      loadGatewayConfig({
        UPSTREAM_TIMEOUT: 'soon',
        USERS_SERVICE_URL: 'ftp://x',
        AUTH_SERVICE_CONNECT_TIMEOUT: '-1s',
      });
    expect(load).toThrow(ConfigValidationError);
    expect(load).toThrow(
      /USERS_SERVICE_URL[\s\S]*UPSTREAM_TIMEOUT[\s\S]*AUTH_SERVICE_CONNECT_TIMEOUT/,
    );
  });
});
