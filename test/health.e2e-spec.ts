import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net';
import { Client } from 'pg';
import request from 'supertest';
import { createTestDatabase, type TestDatabase } from './support/database';
import { findSamples, parseExposition, sampleValue } from './support/exposition';
import { errorBody, registerAndLogin } from './support/http';
import { type OtlpReceiver, SpanKind, startOtlpReceiver } from './support/otlp-receiver';
import { builtEntry, type Platform, REGISTRY, startPlatform } from './support/platform';
import { type PrivateRedis, startRedisServer } from './support/redis-server';
import { describeWithPostgres, describeWithRedis, postgresUrl } from './support/services';

// Processes start, stop and drain here; the e2e project's testTimeout is not applied per project.
jest.setTimeout(60_000);

/** Every app of services.json. */
const APPS = REGISTRY.services.map((service) => service.name);

async function waitForStatus(
  url: string,
  status: number,
  timeoutMs = 10_000,
): Promise<request.Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await request(url).get('/health/ready');
    if (res.status === status || Date.now() > deadline) {
      return res;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Polls readiness until `dependency` is reported `status` (10 s), answering the last response. */
async function waitForDependency(
  url: string,
  dependency: string,
  status: 'up' | 'down',
): Promise<request.Response> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await request(url).get('/health/ready');
    const reported = (res.body as { dependencies?: Record<string, { status: string }> })
      .dependencies?.[dependency]?.status;
    if (reported === status) {
      return res;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${url}: ${dependency} not reported ${status} within 10 s (last: ${res.text})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** `keel_dependency_up` by dependency, from an app's `/metrics`. */
async function dependencyGauge(url: string): Promise<Record<string, number>> {
  const families = parseExposition(
    (await request(url).get('/metrics').expect(200)).text,
    'prometheus',
  );
  const values: Record<string, number> = {};
  for (const sample of findSamples(families, 'keel_dependency_up', {})) {
    values[sample.labels.dependency] = sample.value;
  }
  return values;
}

describe('health endpoints of the built apps', () => {
  let platform: Platform;

  beforeAll(async () => {
    // Tight limits: the operational routes must not be counted against them.
    platform = await startPlatform({
      env: { RATE_LIMIT_SERVICE: '3/60s', RATE_LIMIT_GLOBAL: '3/60s' },
    });
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('answers live and ready on every app, never rate limited, never access-logged', async () => {
    for (const app of APPS) {
      const url = platform.apps[app].url;
      for (let i = 0; i < 6; i++) {
        await request(url).get('/health/live').expect(200, { status: 'ok' });
        await request(url).get('/metrics').expect(200);
      }
      const ready = await request(url).get('/health/ready').expect(200);
      expect(ready.body.status).toBe('ok');
      const checks = Object.keys(ready.body.details).sort();
      const dependencies = Object.keys(ready.body.dependencies).sort();
      // A service's own database is a check; the gateway reports the services it routes to.
      const entry = REGISTRY.service(app);
      expect({ app, checks, dependencies }).toEqual({
        app,
        checks: entry.database ? ['database'] : [],
        dependencies:
          entry.kind === 'gateway'
            ? REGISTRY.upstreams()
                .map((service) => service.name)
                .sort()
            : [],
      });
      // Absence after a positive marker: a later request's access log line is in.
      await platform.apps[app].logBarrier();
      const logged = platform.apps[app]
        .jsonLogs()
        .filter((line) =>
          String((line.req as { url?: string } | undefined)?.url ?? '').match(
            /^\/(health|metrics)/,
          ),
        );
      expect(logged).toEqual([]);
    }
  });

  it('counts 429s of the rate limiter in the HTTP metrics under the route template', async () => {
    const gateway = platform.gatewayUrl;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await request(gateway).get('/api/v1/auth/me')).status);
    }
    expect(statuses).toContain(429);
    const text = (await request(gateway).get('/metrics').expect(200)).text;
    const families = parseExposition(text, 'prometheus');
    expect(
      sampleValue(families, 'http_server_request_duration_seconds_count', {
        method: 'GET',
        route: '/api/v1/auth/me',
        status_code: '429',
      }),
    ).toBe(statuses.filter((status) => status === 429).length);

    // A login refused by a limiter is a rate-limited login attempt, counted where it is refused.
    const logins: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await request(gateway)
        .post('/api/v1/auth/login')
        .send({ email: 'limited@example.com', password: 'a password long enough' });
      logins.push(res.status);
    }
    expect(logins).toEqual([429, 429, 429]);
    const after = parseExposition(
      (await request(gateway).get('/metrics').expect(200)).text,
      'prometheus',
    );
    expect(sampleValue(after, 'auth_login_attempts_total', { result: 'rate_limited' })).toBe(3);
  });
});

describe('readiness through an upstream outage', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await startPlatform();
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it("keeps the gateway ready while an upstream is down; that upstream's routes answer 502 fast", async () => {
    const gateway = platform.apps['api-gateway'].url;
    const user = await registerAndLogin(platform.gatewayUrl);
    await platform.apps['users-service'].stop();
    const down = await waitForDependency(gateway, 'users-service', 'down');
    expect(down.status).toBe(200);
    expect(down.body).toMatchObject({
      status: 'ok',
      dependencies: { 'users-service': { status: 'down' }, 'auth-service': { status: 'up' } },
    });
    expect(await dependencyGauge(gateway)).toEqual({ 'auth-service': 1, 'users-service': 0 });

    const started = Date.now();
    const res = await request(gateway)
      .get('/api/v1/users/me')
      .set('authorization', `Bearer ${user.accessToken}`);
    const tookMs = Date.now() - started;
    expect({ status: res.status, body: res.body as unknown }).toEqual({
      status: 502,
      body: errorBody(502),
    });
    expect(tookMs).toBeLessThan(1000);
    // The other upstream's routes are untouched.
    await request(gateway)
      .get('/api/v1/auth/me')
      .set('authorization', `Bearer ${user.accessToken}`)
      .expect(200);

    await platform.restart('users-service');
    expect((await waitForDependency(gateway, 'users-service', 'up')).status).toBe(200);
    expect(await dependencyGauge(gateway)).toEqual({ 'auth-service': 1, 'users-service': 1 });
  });
});

describe('graceful drain of a built app', () => {
  let slowUpstream: Server;
  let platform: Platform | undefined;
  let received: () => void;
  let receiver: OtlpReceiver | undefined;

  beforeAll(async () => {
    slowUpstream = createServer((req, res) => {
      if (req.url === '/health/live') {
        res.end('{"status":"ok"}');
        return;
      }
      if (req.url?.startsWith('/internal/revocations')) {
        // The gateway's revocation feed poll, as auth-service answers it.
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ now: Date.now(), revoked: [] }));
        return;
      }
      received();
      req.resume();
      setTimeout(() => {
        res.setHeader('content-type', 'application/json');
        res.end('{"slow":true}');
      }, 1500);
    });
    await new Promise<void>((resolve) => slowUpstream.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await platform?.stop();
    await receiver?.close();
    await new Promise((resolve) => slowUpstream.close(resolve));
  });

  it('lets a slow request finish after SIGTERM, exports its spans, then exits 0', async () => {
    const upstreamUrl = `http://127.0.0.1:${(slowUpstream.address() as AddressInfo).port}`;
    receiver = await startOtlpReceiver();
    platform = await startPlatform({
      apps: ['api-gateway'],
      env: {
        AUTH_SERVICE_URL: upstreamUrl,
        USERS_SERVICE_URL: upstreamUrl,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        // Far beyond the test: only the flush on shutdown can deliver the spans in time.
        OTEL_BSP_SCHEDULE_DELAY: '60000',
      },
    });
    const traceId = randomBytes(16).toString('hex');
    const gateway = platform.apps['api-gateway'];
    const arrived = new Promise<void>((resolve) => {
      received = resolve;
    });
    const slow = request(gateway.url)
      .post('/api/v1/auth/login')
      .set('traceparent', `00-${traceId}-${randomBytes(8).toString('hex')}-01`)
      .send({ email: 'slow@example.com', password: 'a password long enough' });
    const answer = slow.then((res) => ({
      status: res.status,
      body: res.body as unknown,
      at: Date.now(),
    }));
    await arrived;
    const exitCode = gateway.stop('SIGTERM');
    const { status, body, at } = await answer;
    const code = await exitCode;
    const exitedAt = Date.now();
    expect({ status, body }).toEqual({ status: 200, body: { slow: true } });
    expect(code).toBe(0);
    expect(exitedAt).toBeGreaterThanOrEqual(at);
    const messages = gateway.jsonLogs().map((line) => line.msg);
    expect(messages).toContain('draining: 1 request(s) in flight');
    const exported = receiver.spans().filter((span) => span.traceId === traceId);
    expect(exported.some((span) => span.kind === SpanKind.SERVER)).toBe(true);
  });
});

describe('a stop during start-up', () => {
  it('exits 0 promptly on SIGTERM while the app is still connecting to its database', async () => {
    // A "PostgreSQL" that accepts connections and never answers: the app stays inside
    // NestFactory.create (connect, migrations) until it is stopped.
    const sockets: Socket[] = [];
    let connected: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => {
      connected = resolve;
    });
    const silent = createTcpServer((socket) => {
      sockets.push(socket);
      connected();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const child = spawn(process.execPath, [builtEntry('users-service')], {
      env: {
        PATH: process.env.PATH,
        PORT: '0',
        LOG_FORMAT: 'json',
        DATABASE_URL: `postgres://keel@127.0.0.1:${port}/keel`,
      },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await reached;
      const stoppedAt = Date.now();
      child.kill('SIGTERM');
      const code = await Promise.race([
        exited,
        new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 5000).unref()),
      ]);
      expect({ code, withinMs: Date.now() - stoppedAt < 5000 }).toEqual({
        code: 0,
        withinMs: true,
      });
    } finally {
      child.kill('SIGKILL');
      for (const socket of sockets) {
        socket.destroy();
      }
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describeWithPostgres()('readiness and the PostgreSQL database', () => {
  let database: TestDatabase;
  let platform: Platform;
  let admin: Client;

  beforeAll(async () => {
    database = await createTestDatabase(postgresUrl!, 'keel_health');
    admin = new Client({ connectionString: postgresUrl });
    await admin.connect();
    platform = await startPlatform({
      apps: ['auth-service', 'users-service'],
      env: { DATABASE_URL: database.url },
    });
  });

  afterAll(async () => {
    await platform?.stop();
    await admin
      ?.query(`ALTER DATABASE ${database.name} ALLOW_CONNECTIONS true`)
      .catch(() => undefined);
    await admin?.end();
    await database?.drop();
  });

  it('turns 503 naming the database while it refuses connections, 200 when it is back', async () => {
    for (const app of ['auth-service', 'users-service'] as const) {
      await request(platform.apps[app].url).get('/health/ready').expect(200);
    }
    await admin.query(`ALTER DATABASE ${database.name} ALLOW_CONNECTIONS false`);
    await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [database.name],
    );
    for (const app of ['auth-service', 'users-service'] as const) {
      const res = await waitForStatus(platform.apps[app].url, 503);
      expect({ app, status: res.status, message: res.body.message }).toEqual({
        app,
        status: 503,
        message: 'Not ready: database down',
      });
      expect(res.body.details.database.status).toBe('down');
      await request(platform.apps[app].url).get('/health/live').expect(200);
    }
    await admin.query(`ALTER DATABASE ${database.name} ALLOW_CONNECTIONS true`);
    for (const app of ['auth-service', 'users-service'] as const) {
      expect((await waitForStatus(platform.apps[app].url, 200)).status).toBe(200);
    }
  });
});

describeWithRedis()('readiness and Redis', () => {
  let redis: PrivateRedis;
  let platform: Platform;

  beforeAll(async () => {
    // A Redis of this suite's own, so that killing it disturbs no other suite.
    redis = await startRedisServer();
    platform = await startPlatform({ env: { REDIS_URL: redis.url } });
  });

  afterAll(async () => {
    await platform?.stop();
    await redis?.stop();
  });

  it('keeps every app ready while Redis is down, reporting it; the gateway still serves', async () => {
    for (const app of APPS) {
      const up = await waitForDependency(platform.apps[app].url, 'redis', 'up');
      expect({ app, status: up.status }).toEqual({ app, status: 200 });
      expect((await dependencyGauge(platform.apps[app].url)).redis).toBe(1);
    }
    await redis.kill();
    for (const app of APPS) {
      const url = platform.apps[app].url;
      const down = await waitForDependency(url, 'redis', 'down');
      expect({ app, status: down.status, body: down.body as unknown }).toMatchObject({
        app,
        status: 200,
        body: { status: 'ok', dependencies: { redis: { status: 'down' } } },
      });
      expect((await dependencyGauge(url)).redis).toBe(0);
    }
    // Limits fall back to memory: a registration and a login through the gateway still work, fast.
    const started = Date.now();
    const user = await registerAndLogin(platform.gatewayUrl);
    expect(Date.now() - started).toBeLessThan(3000);
    await request(platform.gatewayUrl)
      .get('/api/v1/users/me')
      .set('authorization', `Bearer ${user.accessToken}`)
      .expect(200);

    await redis.start();
    for (const app of APPS) {
      const up = await waitForDependency(platform.apps[app].url, 'redis', 'up');
      expect({ app, status: up.status }).toEqual({ app, status: 200 });
    }
  });
});
