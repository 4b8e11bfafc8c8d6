import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { registerAndLogin, type TestUser, uniqueEmail } from './support/http';
import { registerAdmin } from './support/admin-command';
import { ALL_APPS, type AppName, type Platform, startPlatform } from './support/platform';

// CONTRACT §6: every response of every service (successes, errors, 404s, 413/415/431s,
// 429s, preflights, /metrics and /health) carries helmet's headers and no x-powered-by.
// Needs `npm run build` first.

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

function send(
  url: string,
  method: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let replied = false;
    // A connection per request: one case's failure never leaks into the next.
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      replied = true;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', (error) => {
      if (!replied) {
        reject(error);
      }
    });
    req.end(body);
  });
}

/** A raw request on a socket; returns the status and the headers Node's client would refuse. */
function sendRaw(port: number, text: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const [head] = Buffer.concat(chunks).toString('latin1').split('\r\n\r\n');
      const [statusLine, ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers });
    });
  });
}

/** The headers every response must carry, and their values for a JSON API. */
function expectSecurityHeaders(label: string, reply: Reply): void {
  const h = reply.headers;
  const seen = {
    label,
    csp: h['content-security-policy'],
    hsts: h['strict-transport-security'],
    nosniff: h['x-content-type-options'],
    frame: h['x-frame-options'],
    referrer: h['referrer-policy'],
    coop: h['cross-origin-opener-policy'],
    corp: h['cross-origin-resource-policy'],
    poweredBy: h['x-powered-by'],
  };
  expect(seen).toEqual({
    label,
    csp: expect.stringContaining("default-src 'none'"),
    hsts: expect.stringMatching(/max-age=\d+/),
    nosniff: 'nosniff',
    frame: 'DENY',
    referrer: 'no-referrer',
    coop: 'same-origin',
    corp: 'same-origin',
    poweredBy: undefined,
  });
  expect(seen.csp).toContain("frame-ancestors 'none'");
}

const ORIGIN = 'https://app.example.com';
const DEV_INTERNAL_TOKEN = 'keel-dev-internal-token-not-for-production';
const SERVICE_LIMIT = 60;

describe('security headers on every response of every app', () => {
  let platform: Platform;
  let user: TestUser;
  const adminEmail = uniqueEmail('admin');
  let admin: TestUser;

  beforeAll(async () => {
    platform = await startPlatform({
      env: { CORS_ORIGINS: ORIGIN, RATE_LIMIT_SERVICE: `${SERVICE_LIMIT}/60s` },
      appEnv: {
        'api-gateway': { RATE_LIMIT_LOGIN_ACCOUNT: '1/60s' },
      },
    });
    user = await registerAndLogin(platform.gatewayUrl, uniqueEmail('headers'));
    admin = await registerAdmin(platform, adminEmail);
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
  });

  const url = (app: AppName, path: string): string => platform.apps[app].url + path;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const json = { 'content-type': 'application/json' };

  it('on every route of every app, successes and errors alike', async () => {
    const profile = `/users/${user.id}`;
    const cases: Array<[AppName, string, string, Record<string, string>?, string?]> = [];
    for (const app of ALL_APPS) {
      cases.push(
        [app, 'GET', '/health/live'],
        [app, 'GET', '/health/ready'],
        [app, 'GET', '/metrics'],
        [app, 'GET', '/no/such/route'],
      );
    }
    // Logging out ends that session's access tokens everywhere: its own session, not `user`'s.
    const leaving = await registerAndLogin(platform.gatewayUrl, uniqueEmail('leaving'));
    for (const [app, prefix] of [
      ['api-gateway', '/api/v1'],
      ['auth-service', ''],
    ] as const) {
      const p = (path: string): string => prefix + path;
      cases.push(
        [app, 'POST', p('/auth/register'), json, '{}'],
        [
          app,
          'POST',
          p('/auth/register'),
          json,
          JSON.stringify({
            email: uniqueEmail(),
            password: 'long enough password',
            displayName: 'H',
          }),
        ],
        [
          app,
          'POST',
          p('/auth/login'),
          json,
          JSON.stringify({ email: user.email, password: user.password }),
        ],
        [
          app,
          'POST',
          p('/auth/login'),
          json,
          JSON.stringify({ email: user.email, password: 'wrong password' }),
        ],
        [app, 'POST', p('/auth/refresh'), json, JSON.stringify({ refreshToken: 'x'.repeat(43) })],
        [app, 'POST', p('/auth/logout'), { ...json, ...bearer(leaving.accessToken) }, '{}'],
        [
          app,
          'POST',
          p('/auth/logout'),
          { ...json, ...bearer(leaving.accessToken) },
          JSON.stringify({ refreshToken: leaving.refreshToken }),
        ],
        [app, 'GET', p('/auth/me'), bearer(user.accessToken)],
        [app, 'GET', p('/auth/me')],
      );
    }
    cases.push(['auth-service', 'GET', '/.well-known/jwks.json']);
    for (const [app, prefix] of [
      ['api-gateway', '/api/v1'],
      ['users-service', ''],
    ] as const) {
      const p = (path: string): string => prefix + path;
      cases.push(
        [app, 'GET', p('/users/me'), bearer(user.accessToken)],
        [app, 'PATCH', p('/users/me'), { ...json, ...bearer(user.accessToken) }, '{"bio":"hi"}'],
        [app, 'GET', p(profile), bearer(user.accessToken)],
        [app, 'GET', p('/users/not-a-uuid'), bearer(user.accessToken)],
        [app, 'GET', p('/users'), bearer(admin.accessToken)],
        [app, 'GET', p('/users'), bearer(user.accessToken)],
        [app, 'GET', p('/users/me')],
      );
    }
    cases.push(
      [
        'users-service',
        'POST',
        '/internal/users',
        { ...json, 'x-internal-token': DEV_INTERNAL_TOKEN },
        '{}',
      ],
      ['users-service', 'POST', '/internal/users', json, '{}'],
    );

    const statuses = new Set<number>();
    for (const [app, method, path, headers, body] of cases) {
      const reply = await send(url(app, path), method, headers, body);
      expect(reply.status).toBeLessThan(500);
      statuses.add(reply.status);
      expectSecurityHeaders(`${app} ${method} ${path} -> ${reply.status}`, reply);
    }
    // The sweep really covered successes and the usual errors.
    expect([...statuses].sort()).toEqual(
      expect.arrayContaining([200, 201, 204, 400, 401, 403, 404]),
    );
  });

  it('on body errors (400, 413, 415) answered before any route, in every app', async () => {
    for (const app of ['api-gateway', 'auth-service', 'users-service'] as const) {
      const path =
        app === 'users-service'
          ? '/internal/users'
          : app === 'auth-service'
            ? '/auth/login'
            : '/api/v1/auth/login';
      const malformed = await send(url(app, path), 'POST', json, '{"a":');
      expect(malformed.status).toBe(400);
      expectSecurityHeaders(`${app} malformed`, malformed);
      const large = await send(
        url(app, path),
        'POST',
        json,
        JSON.stringify({ a: 'x'.repeat(200_000) }),
      );
      expect(large.status).toBe(413);
      expectSecurityHeaders(`${app} too large`, large);
      const text = await send(url(app, path), 'POST', { 'content-type': 'text/plain' }, 'hello');
      expect(text.status).toBe(415);
      expectSecurityHeaders(`${app} text`, text);
    }
  });

  it('on requests refused by the HTTP parser (400, 431)', async () => {
    for (const app of ALL_APPS) {
      const port = platform.apps[app].port;
      const bad = await sendRaw(
        port,
        'GET /health/live HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n',
      );
      expect(bad.status).toBe(400);
      expectSecurityHeaders(`${app} bad header`, bad);
      const big = await sendRaw(
        port,
        `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`,
      );
      expect(big.status).toBe(431);
      expectSecurityHeaders(`${app} big header`, big);
    }
  });

  it('on CORS preflights, which only CORS_ORIGINS may pass', async () => {
    for (const app of ALL_APPS) {
      const preflight = {
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,authorization',
      };
      const allowed = await send(url(app, '/health/live'), 'OPTIONS', {
        origin: ORIGIN,
        ...preflight,
      });
      expect(allowed.status).toBe(204);
      expect(allowed.headers['access-control-allow-origin']).toBe(ORIGIN);
      expect(allowed.headers['access-control-allow-methods']).toContain('POST');
      expectSecurityHeaders(`${app} preflight`, allowed);

      const foreign = await send(url(app, '/health/live'), 'OPTIONS', {
        origin: 'https://evil.example',
        ...preflight,
      });
      expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
      expectSecurityHeaders(`${app} foreign preflight`, foreign);

      const simple = await send(url(app, '/health/live'), 'GET', { origin: ORIGIN });
      expect(simple.headers['access-control-allow-origin']).toBe(ORIGIN);
      expect(simple.headers['access-control-expose-headers']).toContain('x-request-id');
    }
  });

  it('on 429s of the gateway and of each service', async () => {
    // The gateway: RATE_LIMIT_LOGIN_ACCOUNT=1/60s, so one failed login blocks the account.
    const victim = JSON.stringify({ email: uniqueEmail('victim'), password: 'wrong password' });
    expect(
      (await send(`${platform.gatewayUrl}/api/v1/auth/login`, 'POST', json, victim)).status,
    ).toBe(401);
    const limited = await send(`${platform.gatewayUrl}/api/v1/auth/login`, 'POST', json, victim);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expectSecurityHeaders('gateway 429', limited);

    // Each service: RATE_LIMIT_SERVICE per caller; anonymous callers are told apart by IP.
    for (const [app, path] of [
      // Not the JWKS, which is outside every limit.
      ['auth-service', '/auth/me'],
      ['users-service', '/users/me'],
    ] as const) {
      let reply: Reply | undefined;
      for (let i = 0; i <= SERVICE_LIMIT + 1; i += 1) {
        reply = await send(url(app, path), 'GET');
        if (reply.status === 429) {
          break;
        }
      }
      expect(reply?.status).toBe(429);
      expect(reply?.headers['x-ratelimit-limit']).toBe(String(SERVICE_LIMIT));
      expectSecurityHeaders(`${app} 429`, reply!);
    }
  });
});
