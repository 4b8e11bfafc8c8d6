import { request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fakeIp, redisKeyPrefix, uniqueEmail } from './support/identity';
import { type Platform, type StartedApp, startPlatform } from './support/platform';
import { type PrivateRedis, startRedisServer } from './support/redis-server';
import { waitFor } from './support/wait';

// CONTRACT §2/§6 rate limits with real processes: two gateway replicas sharing one private
// redis-server (never the shared one on 6379), which the suite kills and restarts.
// Needs `npm run build` first.

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  ms: number;
}

function send(
  url: string,
  method: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<Reply> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const allHeaders = payload ? { ...headers, 'content-type': 'application/json' } : headers;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: allHeaders, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          parsed = { text };
        }
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: parsed,
          ms: performance.now() - started,
        });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** A value of one sample in the Prometheus text of `/metrics` (0 when absent). */
async function metric(
  app: StartedApp,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const reply = await send(`${app.url}/metrics`, 'GET');
  const text = String(reply.body.text);
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{([^}]*)\})? ([0-9.e+-]+)/.exec(line);
    if (!match || match[1] !== name) {
      continue;
    }
    const set = match[2] ?? '';
    if (Object.entries(labels).every(([key, value]) => set.includes(`${key}="${value}"`))) {
      total += Number(match[3]);
    }
  }
  return total;
}

const GLOBAL = 10;
const AUTH = 4;
const LOGIN_ACCOUNT = 3;
const PASSWORD = 'correct horse battery staple';

const gatewayEnv = (redisUrl: string): Record<string, string> => ({
  REDIS_URL: redisUrl,
  TRUST_PROXY: 'loopback',
  RATE_LIMIT_GLOBAL: `${GLOBAL}/60s`,
  RATE_LIMIT_AUTH: `${AUTH}/60s`,
  RATE_LIMIT_LOGIN_ACCOUNT: `${LOGIN_ACCOUNT}/60s`,
});

describe('rate limits shared by two gateway replicas through Redis', () => {
  let redis: PrivateRedis;
  let platform: Platform;
  let replica: Platform;
  let gateways: [StartedApp, StartedApp];

  beforeAll(async () => {
    redis = await startRedisServer();
    platform = await startPlatform({ appEnv: { 'api-gateway': gatewayEnv(redis.url) } });
    replica = await startPlatform({
      apps: ['api-gateway'],
      appEnv: {
        'api-gateway': {
          ...gatewayEnv(redis.url),
          AUTH_SERVICE_URL: platform.apps['auth-service'].url,
          USERS_SERVICE_URL: platform.apps['users-service'].url,
        },
      },
    });
    gateways = [platform.apps['api-gateway'], replica.apps['api-gateway']];
  }, 120_000);

  afterAll(async () => {
    await replica?.stop();
    await platform?.stop();
    await redis?.stop();
  });

  /** A fresh user, registered and logged in at auth-service directly (no gateway counts). */
  async function newUser(): Promise<{ email: string; token: string }> {
    const email = uniqueEmail('rl');
    const auth = platform.apps['auth-service'].url;
    const registered = await send(
      `${auth}/auth/register`,
      'POST',
      {},
      { email, password: PASSWORD, displayName: 'R' },
    );
    expect(registered.status).toBe(201);
    const login = await send(`${auth}/auth/login`, 'POST', {}, { email, password: PASSWORD });
    expect(login.status).toBe(200);
    return { email, token: String(login.body.accessToken) };
  }

  const me = (gateway: StartedApp, token: string) =>
    send(`${gateway.url}/api/v1/auth/me`, 'GET', { authorization: `Bearer ${token}` });
  const fromIp = (ip: string) => ({ 'x-forwarded-for': ip });

  function expect429(reply: Reply, limit: number): void {
    expect(reply.status).toBe(429);
    expect(Number(reply.headers['retry-after'])).toBeGreaterThan(0);
    expect(reply.headers['x-ratelimit-limit']).toBe(String(limit));
    expect(reply.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(reply.headers['x-ratelimit-reset'])).toBeGreaterThan(0);
    expect(reply.body).toMatchObject({
      statusCode: 429,
      error: 'Too Many Requests',
      message: expect.any(String),
      requestId: expect.any(String),
      traceId: expect.any(String),
    });
    expect(reply.headers['x-request-id']).toBe(reply.body.requestId);
  }

  it('stops a client alternating between the replicas at the global limit counted across both', async () => {
    const alice = await newUser();
    const bob = await newUser();
    const remaining: string[] = [];
    for (let i = 0; i < GLOBAL; i += 1) {
      const reply = await me(gateways[i % 2], alice.token);
      expect(reply.status).toBe(200);
      expect(reply.headers['x-ratelimit-limit']).toBe(String(GLOBAL));
      remaining.push(String(reply.headers['x-ratelimit-remaining']));
    }
    expect(remaining).toEqual(Array.from({ length: GLOBAL }, (_, i) => String(GLOBAL - 1 - i)));
    expect429(await me(gateways[0], alice.token), GLOBAL);
    expect429(await me(gateways[1], alice.token), GLOBAL);
    // Clients are users, not addresses: another user on the same IP is not limited.
    expect((await me(gateways[0], bob.token)).status).toBe(200);
    // Operational routes are never limited.
    for (const gateway of gateways) {
      expect((await send(`${gateway.url}/health/live`, 'GET')).status).toBe(200);
    }
    const rejections = await metric(gateways[0], 'rate_limit_rejections_total', {
      limiter: 'global',
      route: '/api/v1/auth/me',
    });
    expect(rejections).toBeGreaterThanOrEqual(1);
  });

  it('counts anonymous clients by their X-Forwarded-For address when TRUST_PROXY trusts the caller', async () => {
    const ip = fakeIp();
    for (let i = 0; i < GLOBAL; i += 1) {
      const reply = await send(`${gateways[i % 2].url}/api/v1/users/me`, 'GET', fromIp(ip));
      expect(reply.status).toBe(401);
    }
    expect429(await send(`${gateways[0].url}/api/v1/users/me`, 'GET', fromIp(ip)), GLOBAL);
    expect((await send(`${gateways[1].url}/api/v1/users/me`, 'GET', fromIp(fakeIp()))).status).toBe(
      401,
    );
  });

  it('limits login and register together per IP across the replicas', async () => {
    const ip = fakeIp();
    const other = fakeIp();
    for (let i = 0; i < AUTH; i += 1) {
      const path = i % 2 === 0 ? '/api/v1/auth/login' : '/api/v1/auth/register';
      const reply = await send(`${gateways[i % 2].url}${path}`, 'POST', fromIp(ip), {
        email: 'nobody@example.com',
      });
      expect(reply.status).toBe(400);
    }
    const limited = await send(`${gateways[0].url}/api/v1/auth/register`, 'POST', fromIp(ip), {});
    expect429(limited, AUTH);
    expect(
      (await send(`${gateways[0].url}/api/v1/auth/login`, 'POST', fromIp(other), {})).status,
    ).toBe(400);
  });

  it('stops failed logins per e-mail whatever the IP and replica, and counts only failures', async () => {
    const victim = await newUser();
    // Successful logins do not count.
    for (let i = 0; i < LOGIN_ACCOUNT + 1; i += 1) {
      const ok = await send(`${gateways[i % 2].url}/api/v1/auth/login`, 'POST', fromIp(fakeIp()), {
        email: victim.email,
        password: PASSWORD,
      });
      expect(ok.status).toBe(200);
    }
    for (let i = 0; i < LOGIN_ACCOUNT; i += 1) {
      const failed = await send(
        `${gateways[i % 2].url}/api/v1/auth/login`,
        'POST',
        fromIp(fakeIp()),
        {
          email: i === 1 ? victim.email.toUpperCase() : victim.email,
          password: 'wrong password!',
        },
      );
      expect(failed.status).toBe(401);
    }
    const lastIp = fakeIp();
    const blocked = await send(`${gateways[1].url}/api/v1/auth/login`, 'POST', fromIp(lastIp), {
      email: victim.email,
      password: PASSWORD,
    });
    expect429(blocked, LOGIN_ACCOUNT);
    const other = await newUser();
    const fine = await send(`${gateways[0].url}/api/v1/auth/login`, 'POST', fromIp(lastIp), {
      email: other.email,
      password: PASSWORD,
    });
    expect(fine.status).toBe(200);
    expect(
      await metric(gateways[1], 'rate_limit_rejections_total', { limiter: 'login-account' }),
    ).toBe(1);
  });

  it("keeps every key under the harness's REDIS_KEY_PREFIX, so other runs on one Redis never meet them", async () => {
    const { default: Redis } = await import('ioredis');
    const client = new Redis(redis.url);
    try {
      expect(
        (await send(`${gateways[0].url}/api/v1/users/me`, 'GET', fromIp(fakeIp()))).status,
      ).toBe(401);
      const keys = await client.keys('*');
      expect(keys.length).toBeGreaterThan(0);
      // The storage wraps a key in a Redis Cluster hash tag: `{<key>}:hits`.
      const outside = keys.filter(
        (key) => !key.replace(/^\{/, '').startsWith(`${redisKeyPrefix()}rl:api-gateway:`),
      );
      expect(outside).toEqual([]);
    } finally {
      client.disconnect();
    }
  });

  it('keeps limiting from memory when Redis dies, without 5xx or hangs, and shares again after a restart', async () => {
    const before = await newUser();
    for (let i = 0; i < 3; i += 1) {
      expect((await me(gateways[i % 2], before.token)).status).toBe(200);
    }
    const errorsBefore = await metric(gateways[0], 'rate_limit_store_errors_total');

    await redis.kill();
    const during = await newUser();
    const replies: Reply[] = [];
    for (let i = 0; i < GLOBAL + 2; i += 1) {
      replies.push(await me(gateways[0], during.token));
    }
    // Each replica now counts on its own: the same user is fresh on the other one.
    const otherReplica = await me(gateways[1], during.token);
    const statuses = replies.map((reply) => reply.status);
    expect(statuses.filter((status) => status >= 500)).toEqual([]);
    expect(statuses.slice(0, GLOBAL)).toEqual(Array(GLOBAL).fill(200));
    expect429(replies[GLOBAL], GLOBAL);
    expect(otherReplica.status).toBe(200);
    const slowest = Math.max(...replies.map((reply) => reply.ms));
    process.stdout.write(`slowest request while Redis was down: ${slowest.toFixed(1)} ms\n`);
    // Far below any hang: the store gives Redis 200 ms per command, then answers from memory.
    expect(slowest).toBeLessThan(2_000);
    expect(await metric(gateways[0], 'rate_limit_store_errors_total')).toBeGreaterThanOrEqual(
      errorsBefore + GLOBAL + 2,
    );
    // Exactly one warning: counted after a later line of the same gateway is in.
    await gateways[0].logBarrier();
    const warnings = gateways[0].jsonLogs().filter((line) => /Redis failed/.test(String(line.msg)));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].level).toBe('warn');

    await redis.start();
    const recovered = (gateway: StartedApp): boolean =>
      gateway.jsonLogs().some((line) => /Redis answers again/.test(String(line.msg)));
    // Requests drive the store's probe of Redis; poll until both replicas say it is back.
    await waitFor(
      async () => {
        for (const gateway of gateways) {
          await send(`${gateway.url}/api/v1/users/me`, 'GET', fromIp(fakeIp()));
        }
        return gateways.every(recovered);
      },
      { what: "both gateways to log 'Redis answers again'", timeout: 20_000, interval: 200 },
    );

    const after = await newUser();
    for (let i = 0; i < GLOBAL; i += 1) {
      expect((await me(gateways[i % 2], after.token)).status).toBe(200);
    }
    expect429(await me(gateways[1], after.token), GLOBAL);
    for (const gateway of gateways) {
      expect((await send(`${gateway.url}/health/live`, 'GET')).status).toBe(200);
    }
  });
});

describe('X-Forwarded-For without TRUST_PROXY (e2e)', () => {
  let platform: Platform;

  beforeAll(async () => {
    // TRUST_PROXY unset (the default): the gateway trusts no proxy.
    platform = await startPlatform({
      apps: ['api-gateway'],
      appEnv: { 'api-gateway': { RATE_LIMIT_GLOBAL: `${GLOBAL}/60s`, TRUST_PROXY: undefined } },
    });
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('counts every request by its socket address, whatever X-Forwarded-For it forges', async () => {
    const gateway = platform.apps['api-gateway'].url;
    const statuses: number[] = [];
    for (let i = 0; i <= GLOBAL; i += 1) {
      // A new forged address each time: were it believed, every request would be a new client.
      const reply = await send(`${gateway}/api/v1/users/me`, 'GET', {
        'x-forwarded-for': fakeIp(),
      });
      statuses.push(reply.status);
      if (i === GLOBAL) {
        expect(reply.headers['x-ratelimit-limit']).toBe(String(GLOBAL));
      }
    }
    expect(statuses).toEqual([...Array<number>(GLOBAL).fill(401), 429]);
  });
});
