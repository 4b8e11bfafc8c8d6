import registryJson from '../../../../services.json';
import { parseServiceRegistry, ServiceRegistryError } from './service-registry';

const service = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'orders-service',
  kind: 'service',
  port: 3003,
  database: true,
  routes: [{ method: 'GET', path: '/orders/:id', auth: 'bearer', params: { id: 'uuid' } }],
  ...overrides,
});
const gateway = { name: 'api-gateway', kind: 'gateway', port: 3000, database: false };

function problems(raw: unknown): string[] {
  try {
    parseServiceRegistry(raw);
  } catch (error) {
    if (error instanceof ServiceRegistryError) {
      return error.problems;
    }
    throw error;
  }
  return [];
}

describe('parseServiceRegistry', () => {
  it('accepts the repository services.json, with one gateway and its upstreams', () => {
    const registry = parseServiceRegistry(registryJson);
    expect(registry.gateway().name).toBe('api-gateway');
    expect(registry.upstreams().length).toBeGreaterThan(0);
    expect(registry.upstreams().every((s) => s.kind === 'service')).toBe(true);
  });

  it('fills defaults: timeouts, env stem, params typed slug unless declared', () => {
    const registry = parseServiceRegistry({
      apiPrefix: '/api/v1',
      services: [
        gateway,
        service({ routes: [{ method: 'GET', path: '/orders/:ref', auth: 'public' }] }),
      ],
    });
    const orders = registry.service('orders-service');
    expect(orders.envStem).toBe('ORDERS_SERVICE');
    expect(orders.upstream).toEqual({ connectTimeoutMs: 1000, timeoutMs: 10_000 });
    expect(orders.routes[0]).toMatchObject({ params: { ref: 'slug' }, roles: [], limits: [] });
  });

  it('names every problem: duplicate port, unknown callee, bad path, two routes on one template', () => {
    const found = problems({
      apiPrefix: '/api/v1',
      services: [
        gateway,
        service({ calls: ['nowhere'] }),
        service({
          name: 'billing-service',
          routes: [
            { method: 'GET', path: '/orders/:x', auth: 'bearer' },
            { method: 'GET', path: '/Billing', auth: 'bearer' },
          ],
        }),
      ],
    });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringContaining('port 3003'),
        expect.stringContaining('unknown service nowhere'),
        expect.stringContaining('"/Billing"'),
        expect.stringContaining('already routed to orders-service'),
      ]),
    );
  });

  it('refuses a registry without exactly one gateway, and roles on a public route', () => {
    expect(
      problems({
        apiPrefix: '/api/v1',
        services: [
          service({ routes: [{ method: 'GET', path: '/o', auth: 'public', roles: ['a'] }] }),
        ],
      }),
    ).toEqual([
      expect.stringContaining('roles'),
      'exactly one service must be of kind gateway (found 0)',
    ]);
  });

  it('throws for an unknown service name', () => {
    const registry = parseServiceRegistry(registryJson);
    expect(() => registry.service('nope')).toThrow(ServiceRegistryError);
  });
});
