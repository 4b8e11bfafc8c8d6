import { parseRate, parseServiceRegistry, type ServiceRegistry } from '@keel/platform';
import { globalLimiter, loginEmail, namedLimiters } from './gateway-limiters';
import { RouteTable } from './route-table';

const rates = {
  global: parseRate('300/60s')!,
  auth: parseRate('10/1m')!,
  loginAccount: parseRate('5/300s')!,
};

const UUID = '0b6f7c1e-3a52-4c8e-9d3f-2f1a6b7c8d9e';

function registry(routes: unknown[], extra: unknown[] = []): ServiceRegistry {
  return parseServiceRegistry({
    apiPrefix: '/api/v1',
    services: [
      {
        name: 'api-gateway',
        kind: 'gateway',
        port: 3000,
        database: false,
        calls: ['auth-service', 'users-service'],
      },
      {
        name: 'auth-service',
        kind: 'service',
        port: 3001,
        database: true,
        calls: [],
        routes: [
          {
            method: 'POST',
            path: '/auth/login',
            auth: 'public',
            limits: ['auth', 'login-account'],
          },
          { method: 'GET', path: '/auth/me', auth: 'bearer' },
        ],
      },
      {
        name: 'users-service',
        kind: 'service',
        port: 3002,
        database: true,
        calls: [],
        routes,
      },
      ...extra,
    ],
  });
}

const usersRoutes = [
  { method: 'GET', path: '/users/me', auth: 'bearer' },
  { method: 'GET', path: '/users/:id', auth: 'bearer', params: { id: 'uuid' } },
  { method: 'GET', path: '/users', auth: 'bearer', roles: ['admin'] },
  { method: 'GET', path: '/users/:id/posts/:post', auth: 'bearer', params: { post: 'int' } },
];

const table = (reg: ServiceRegistry = registry(usersRoutes)): RouteTable =>
  new RouteTable(reg, globalLimiter(rates), namedLimiters(rates));

describe(RouteTable.name, () => {
  it('forwards <apiPrefix><path> to <path> on its service, with the route template', () => {
    const found = table().match('GET', '/api/v1/auth/me');
    expect(found).toMatchObject({
      upstreamPath: '/auth/me',
      route: { template: '/api/v1/auth/me', upstream: 'auth-service', auth: 'bearer' },
    });
  });

  it('puts the real param values in the upstream path, and keeps the template', () => {
    const found = table().match('GET', `/api/v1/users/${UUID}`);
    expect(found?.upstreamPath).toBe(`/users/${UUID}`);
    expect(found?.route.template).toBe('/api/v1/users/:id');
    expect(table().match('GET', `/api/v1/users/${UUID}/posts/42`)?.upstreamPath).toBe(
      `/users/${UUID}/posts/42`,
    );
  });

  it('prefers a literal segment over a param, whatever the registry order', () => {
    const reversed = table(registry([...usersRoutes].reverse()));
    expect(reversed.match('GET', '/api/v1/users/me')?.route.template).toBe('/api/v1/users/me');
    expect(reversed.match('GET', `/api/v1/users/${UUID}`)?.route.template).toBe(
      '/api/v1/users/:id',
    );
  });

  it('reports a param of the wrong type as a bad param, not as another route', () => {
    expect(table().match('GET', '/api/v1/users/not-a-uuid')).toMatchObject({
      route: { template: '/api/v1/users/:id' },
      badParam: 'Validation failed (uuid is expected)',
    });
    // An encoded spelling of `me` is the :id route, never /users/me.
    expect(table().match('GET', '/api/v1/users/m%65')?.badParam).toMatch(/uuid/);
    expect(table().match('GET', '/api/v1/users/%E0%A4%A')?.badParam).toMatch(/uuid/);
    expect(table().match('GET', `/api/v1/users/${UUID}/posts/4x`)?.badParam).toMatch(/numeric/);
  });

  it('matches nothing for other spellings: case, trailing or doubled slashes, encodings', () => {
    const t = table();
    for (const path of [
      '/api/v1/auth/me/',
      '/api/v1/auth/Me',
      '/API/v1/auth/me',
      '/api/v1//auth/me',
      '//api/v1/auth/me',
      '/api/v1/auth/m%65',
      '/api/v1/auth/me//',
      '/api/v1/auth',
      '/api/v1',
      '/api/v2/auth/me',
      'api/v1/auth/me',
      '/api/v1/users/',
    ]) {
      expect([path, t.match('GET', path)]).toEqual([path, undefined]);
    }
  });

  it('serves HEAD with the GET route, and nothing for a method the path lacks', () => {
    expect(table().match('HEAD', '/api/v1/auth/me')?.route.method).toBe('GET');
    expect(table().match('POST', '/api/v1/auth/me')).toBeUndefined();
    expect(table().match('DELETE', '/api/v1/users/me')).toBeUndefined();
  });

  it('applies the global limiter to every route, then the named ones, reservations last', () => {
    const t = table();
    const login = t.match('POST', '/api/v1/auth/login')!.route;
    expect(login.limiters.map((l) => l.name)).toEqual(['global', 'auth', 'login-account']);
    expect(login.countsLogins).toBe(true);
    expect(login.limiters[2]).toMatchObject({ limit: 5, windowMs: 300_000, countStatuses: [401] });
    expect(login.limiters[1]).toMatchObject({ limit: 10, windowMs: 60_000, by: 'ip' });
    const me = t.match('GET', '/api/v1/auth/me')!.route;
    expect(me.limiters.map((l) => l.name)).toEqual(['global']);
    expect(me.countsLogins).toBe(false);
    expect(t.match('GET', '/api/v1/users')!.route.roles).toEqual(['admin']);
  });

  it('stops at start, naming the route, when the registry names an unknown limiter', () => {
    const bad = registry([
      { method: 'GET', path: '/users/me', auth: 'bearer', limits: ['bursty'] },
    ]);
    expect(() => table(bad)).toThrow(
      /limiters the gateway does not have \(known: auth, login-account\)[\s\S]*users-service GET \/users\/me: "bursty"/,
    );
  });

  it('forwards every path below a prefix route with its method, and nothing else', () => {
    const reg = registry(usersRoutes, [
      {
        name: 'orders-service',
        kind: 'service',
        port: 3003,
        database: false,
        calls: [],
        routes: [
          { method: 'POST', path: '/orders/*', auth: 'bearer' },
          { method: 'POST', path: '/orders/special/*', auth: 'public' },
        ],
      },
    ]);
    const t = table(reg);
    expect(t.match('POST', '/api/v1/orders/42/items')).toMatchObject({
      upstreamPath: '/orders/42/items',
      route: { template: '/api/v1/orders/*', upstream: 'orders-service' },
    });
    expect(t.match('POST', '/api/v1/orders/special/x')?.route.template).toBe(
      '/api/v1/orders/special/*',
    );
    for (const path of [
      '/api/v1/orders',
      '/api/v1/orders/',
      '/api/v1/orders/a//b',
      '/api/v1/orders/..',
      '/api/v1/orders/%2e%2e',
      '/api/v1/orders/a%2Fb',
      '/api/v1/Orders/1',
    ]) {
      expect([path, t.match('POST', path)]).toEqual([path, undefined]);
    }
    expect(t.match('GET', '/api/v1/orders/1')).toBeUndefined();
  });
});

describe(loginEmail.name, () => {
  const req = (body: unknown) => ({ method: 'POST', path: '/login', headers: {}, body });

  it('normalises case and spaces, as auth-service compares e-mails', () => {
    expect(loginEmail(req({ email: '  Alice@Example.COM ' }))).toBe('alice@example.com');
  });

  it('ignores bodies without a usable e-mail', () => {
    expect(loginEmail(req(undefined))).toBeUndefined();
    expect(loginEmail(req({ email: 42 }))).toBeUndefined();
    expect(loginEmail(req({ email: '   ' }))).toBeUndefined();
    expect(loginEmail(req({ email: `${'a'.repeat(300)}@x.io` }))).toBeUndefined();
  });
});
