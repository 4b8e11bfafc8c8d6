import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { parseExposition, sampleValue } from './support/exposition';
import { type Platform, type StartedApp, startPlatform } from './support/platform';
import { type PrivateRedis, startRedisServer } from './support/redis-server';

// Issue 11 (CONTRACT §6): limits hold for every spelling of a path and under concurrency,
// with the real built apps. Needs `npm run build` first.

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** One request with the path exactly as written (no URL normalisation on the way). */
function call(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const { hostname, port } = new URL(base);
  const headers = {
    ...options.headers,
    ...(payload ? { 'content-type': 'application/json' } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown> = { text };
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Other spellings of a canonical path: case, trailing slash, percent-encoding, extra slashes. */
function spellings(path: string): string[] {
  const segments = path.split('/');
  const last = segments[segments.length - 1];
  const encoded = `${last.slice(0, -1)}%${last
    .charCodeAt(last.length - 1)
    .toString(16)
    .toUpperCase()}`;
  return [
    `${path}/`,
    path.toUpperCase(),
    [...segments.slice(0, -1), last[0].toUpperCase() + last.slice(1)].join('/'),
    [...segments.slice(0, -1), encoded].join('/'),
    path.replace('/api/v1/', '/api/v1//'),
    `/${path}`,
    `${path}//`,
    path.replace('/api/', '/Api/'),
  ];
}

const PASSWORD = 'correct horse battery staple';
const LOGIN_ACCOUNT = 3;

describe('limits hold for every spelling of a path', () => {
  let platform: Platform;
  let gateway: string;

  beforeAll(async () => {
    platform = await startPlatform({
      appEnv: { 'api-gateway': { RATE_LIMIT_LOGIN_ACCOUNT: `${LOGIN_ACCOUNT}/60s` } },
    });
    gateway = platform.gatewayUrl;
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
  });

  async function register(email: string): Promise<void> {
    const reply = await call(gateway, 'POST', '/api/v1/auth/register', {
      body: { email, password: PASSWORD, displayName: 'S' },
    });
    expect(reply.status).toBe(201);
  }

  it('answers 404 for other spellings of every route, before any upstream or limit', async () => {
    const email = `spell-${randomUUID().slice(0, 8)}@example.com`;
    await register(email);
    const login = await call(gateway, 'POST', '/api/v1/auth/login', {
      body: { email, password: PASSWORD },
    });
    expect(login.status).toBe(200);
    const bearer = { authorization: `Bearer ${String(login.body.accessToken)}` };
    const routes: Array<[string, string, unknown]> = [
      ['POST', '/api/v1/auth/login', { email, password: PASSWORD }],
      [
        'POST',
        '/api/v1/auth/register',
        {
          email: `s-${randomUUID().slice(0, 8)}@example.com`,
          password: PASSWORD,
          displayName: 'S',
        },
      ],
      ['POST', '/api/v1/auth/refresh', { refreshToken: login.body.refreshToken }],
      ['POST', '/api/v1/auth/logout', { refreshToken: login.body.refreshToken }],
      ['GET', '/api/v1/auth/me', undefined],
      ['GET', '/api/v1/users/me', undefined],
      ['PATCH', '/api/v1/users/me', { bio: 'spelled' }],
      ['GET', '/api/v1/users', undefined],
    ];
    const served: string[] = [];
    for (const [method, path, body] of routes) {
      for (const spelling of spellings(path)) {
        const reply = await call(gateway, method, spelling, { body, headers: bearer });
        // `/api/v1/users/Me` is the `:id` route, which refuses anything but a UUID itself.
        const badId =
          spelling.startsWith('/api/v1/users/') &&
          reply.status === 400 &&
          /uuid/i.test(String(reply.body.message));
        if (reply.status !== 404 && !badId) {
          served.push(`${method} ${spelling} -> ${reply.status}`);
        } else {
          expect(reply.body).toMatchObject({
            statusCode: reply.status,
            requestId: expect.any(String),
          });
        }
      }
    }
    expect(served).toEqual([]);
    // The canonical spellings still work (the session was not ended above).
    expect((await call(gateway, 'GET', '/api/v1/users/me', { headers: bearer })).status).toBe(200);
  });

  it('keeps a locked-out account locked out under every spelling of login', async () => {
    const email = `locked-${randomUUID().slice(0, 8)}@example.com`;
    await register(email);
    for (let i = 0; i < LOGIN_ACCOUNT; i += 1) {
      const wrong = await call(gateway, 'POST', '/api/v1/auth/login', {
        body: { email, password: 'wrong password 123' },
      });
      expect(wrong.status).toBe(401);
    }
    const right = { email, password: PASSWORD };
    expect((await call(gateway, 'POST', '/api/v1/auth/login', { body: right })).status).toBe(429);
    for (const spelling of spellings('/api/v1/auth/login')) {
      const reply = await call(gateway, 'POST', spelling, { body: right });
      expect([spelling, reply.status]).toEqual([spelling, 404]);
    }
    // Upper-case e-mail and padding are the same account to the limiter.
    const shouted = { email: `  ${email.toUpperCase()} `, password: PASSWORD };
    expect((await call(gateway, 'POST', '/api/v1/auth/login', { body: shouted })).status).toBe(429);
  });
});

describe('failed logins are reserved before the upstream call', () => {
  const LIMIT = 5;
  const AUTH_LIMIT = 6;
  let ipCounter = 0;
  /** A fresh client address per call, so only the limiter under test counts. */
  const freshIp = () => ({
    'x-forwarded-for': `198.18.${(ipCounter >> 8) & 255}.${ipCounter++ & 255}`,
  });
  let redis: PrivateRedis;
  let shared: Platform;
  let replica: Platform;
  let memory: Platform;

  beforeAll(async () => {
    redis = await startRedisServer();
    const env = {
      RATE_LIMIT_LOGIN_ACCOUNT: `${LIMIT}/60s`,
      RATE_LIMIT_AUTH: `${AUTH_LIMIT}/60s`,
      TRUST_PROXY: 'loopback',
      REDIS_URL: redis.url,
      // This suite proves the shared count is atomic, not how fast a loaded CI machine
      // answers: with the default 200ms a stalled event loop falls back to memory (fail-open,
      // CONTRACT §6) and each replica counts alone. The test below checks no fallback happened.
      RATE_LIMIT_REDIS_TIMEOUT: '5s',
    };
    shared = await startPlatform({ appEnv: { 'api-gateway': env } });
    replica = await startPlatform({
      apps: ['api-gateway'],
      appEnv: {
        'api-gateway': {
          ...env,
          AUTH_SERVICE_URL: shared.apps['auth-service'].url,
          USERS_SERVICE_URL: shared.apps['users-service'].url,
        },
      },
    });
    memory = await startPlatform({
      appEnv: {
        'api-gateway': {
          RATE_LIMIT_LOGIN_ACCOUNT: `${LIMIT}/60s`,
          RATE_LIMIT_AUTH: `${AUTH_LIMIT}/60s`,
          TRUST_PROXY: 'loopback',
        },
      },
    });
  }, 180_000);

  afterAll(async () => {
    await replica?.stop();
    await shared?.stop();
    await memory?.stop();
    await redis?.stop();
  });

  async function burst(gateways: StartedApp[], auth: StartedApp, n: number): Promise<number[]> {
    const email = `burst-${randomUUID().slice(0, 8)}@example.com`;
    const registered = await call(auth.url, 'POST', '/auth/register', {
      body: { email, password: PASSWORD, displayName: 'B' },
    });
    expect(registered.status).toBe(201);
    const replies = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        call(gateways[i % gateways.length].url, 'POST', '/api/v1/auth/login', {
          body: { email, password: `wrong password ${i}` },
          headers: freshIp(),
        }),
      ),
    );
    const right = await call(gateways[0].url, 'POST', '/api/v1/auth/login', {
      body: { email, password: PASSWORD },
      headers: freshIp(),
    });
    return [...replies.map((reply) => reply.status), right.status];
  }

  it('lets at most the limit of 10 concurrent wrong passwords reach auth-service (one replica, memory)', async () => {
    const statuses = await burst([memory.apps['api-gateway']], memory.apps['auth-service'], 10);
    const answered = statuses.slice(0, -1);
    expect(answered.filter((status) => status === 401)).toHaveLength(LIMIT);
    expect(answered.filter((status) => status === 429)).toHaveLength(10 - LIMIT);
    // Locked out: the right password is refused too.
    expect(statuses[statuses.length - 1]).toBe(429);
  });

  it('holds the limit across two gateway replicas sharing Redis', async () => {
    const gateways = [shared.apps['api-gateway'], replica.apps['api-gateway']];
    const statuses = await burst(gateways, shared.apps['auth-service'], 12);
    const answered = statuses.slice(0, -1);
    for (const gateway of gateways) {
      const text = await (await fetch(`${gateway.url}/metrics`)).text();
      expect(
        sampleValue(parseExposition(text, 'prometheus'), 'rate_limit_store_errors_total'),
      ).toBe(0);
    }
    expect(answered.filter((status) => status === 401)).toHaveLength(LIMIT);
    expect(answered.filter((status) => status === 429)).toHaveLength(12 - LIMIT);
    expect(statuses[statuses.length - 1]).toBe(429);
  });

  it('gives the slot back when the login succeeds', async () => {
    const gateway = memory.apps['api-gateway'];
    const email = `ok-${randomUUID().slice(0, 8)}@example.com`;
    const registered = await call(memory.apps['auth-service'].url, 'POST', '/auth/register', {
      body: { email, password: PASSWORD, displayName: 'O' },
    });
    expect(registered.status).toBe(201);
    for (let i = 0; i < LIMIT + 3; i += 1) {
      const reply = await call(gateway.url, 'POST', '/api/v1/auth/login', {
        body: { email, password: PASSWORD },
        headers: freshIp(),
      });
      expect(reply.status).toBe(200);
    }
  });

  it('holds the per-IP auth limit under a concurrent burst across two replicas', async () => {
    const gateways = [shared.apps['api-gateway'], replica.apps['api-gateway']];
    const ip = { 'x-forwarded-for': '203.0.113.61' };
    const replies = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        call(gateways[i % 2].url, 'POST', i % 2 ? '/api/v1/auth/register' : '/api/v1/auth/login', {
          body: { email: `nobody-${i}@example.com` },
          headers: ip,
        }),
      ),
    );
    const statuses = replies.map((reply) => reply.status);
    expect(statuses.filter((status) => status !== 429)).toHaveLength(AUTH_LIMIT);
  });
});
