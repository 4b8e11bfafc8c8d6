import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import {
  otlpBarrier,
  type OtlpReceiver,
  type ReceivedSpan,
  SpanKind,
  startOtlpReceiver,
} from './support/otlp-receiver';
import { registerAndLogin, type TestUser } from './support/http';
import { type AppName, type Platform, startPlatform } from './support/platform';
import { type PrivateRedis, startRedisServer } from './support/redis-server';
import { describeWithPostgres } from './support/services';

// Distributed tracing and correlated logs (CONTRACT §5) with the three built apps as real
// processes exporting to a real OTLP/HTTP receiver. Needs `npm run build` first.

jest.setTimeout(60_000);

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
const APPS: AppName[] = ['api-gateway', 'auth-service', 'users-service'];

function uniqueEmail(prefix: string): string {
  return `${prefix}-${randomUUID()}@example.com`;
}

function spansOf(spans: ReceivedSpan[], traceId: string): ReceivedSpan[] {
  return spans.filter((span) => span.traceId === traceId);
}

function serverSpan(spans: ReceivedSpan[], service: AppName): ReceivedSpan {
  const found = spans.filter((span) => span.service === service && span.kind === SpanKind.SERVER);
  expect(found.map((span) => `${span.service}: ${span.name}`)).toHaveLength(1);
  return found[0];
}

/** Base URLs of the platform's apps, keyed by service name, for {@link otlpBarrier}. */
function appUrls(platform: Platform): Record<string, string> {
  return Object.fromEntries(APPS.map((app) => [app, platform.apps[app].url]));
}

/** Whether `span` descends from `ancestor` through its parent links. */
function descendsFrom(span: ReceivedSpan, ancestor: ReceivedSpan, all: ReceivedSpan[]): boolean {
  const byId = new Map(all.map((candidate) => [candidate.spanId, candidate]));
  let current: ReceivedSpan | undefined = span;
  for (let hops = 0; current && hops < 50; hops++) {
    if (current.parentSpanId === ancestor.spanId) {
      return true;
    }
    current = byId.get(current.parentSpanId);
  }
  return false;
}

/** Waits (bounded) until each app has logged a line for `requestId`; pipes deliver late. */
async function linesFor(
  platform: Platform,
  requestId: string,
  apps: AppName[] = APPS,
): Promise<Record<AppName, Record<string, unknown>[]>> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const lines = Object.fromEntries(
      APPS.map((app) => [
        app,
        platform.apps[app].jsonLogs().filter((line) => line.requestId === requestId),
      ]),
    ) as Record<AppName, Record<string, unknown>[]>;
    const complete = apps.every((app) => lines[app].some((line) => 'responseTime' in line));
    if (complete || Date.now() > deadline) {
      return lines;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('distributed tracing across the three apps (e2e)', () => {
  let receiver: OtlpReceiver;
  let platform: Platform;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    platform = await startPlatform({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' },
      // Both encodings at once: the gateway and auth-service speak the default protobuf.
      appEnv: { 'users-service': { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' } },
    });
  });

  afterAll(async () => {
    await platform?.stop();
    await receiver?.close();
  });

  describe('POST /api/v1/auth/register with an incoming sampled traceparent', () => {
    const traceId = hex(16);
    const clientSpanId = hex(8);
    const requestId = `trace-e2e-${hex(6)}`;
    let trace: ReceivedSpan[];

    beforeAll(async () => {
      await request(platform.gatewayUrl)
        .post('/api/v1/auth/register')
        .set('traceparent', `00-${traceId}-${clientSpanId}-01`)
        .set('x-request-id', requestId)
        .send({
          email: uniqueEmail('trace'),
          password: 'correct horse battery',
          displayName: 'Trace',
        })
        .expect(201);
      const isComplete = (spans: ReceivedSpan[]): boolean => {
        const ours = spansOf(spans, traceId);
        return APPS.every((app) =>
          ours.some((s) => s.service === app && s.kind === SpanKind.SERVER),
        );
      };
      await receiver.waitFor(isComplete);
      // Spans of one request may come in more than one batch: a later request's spans from
      // every app mark that the stragglers have arrived.
      await otlpBarrier(receiver, appUrls(platform));
      trace = spansOf(receiver.spans(), traceId);
    });

    it('continues the incoming trace: the gateway server span is the caller span child', () => {
      expect(serverSpan(trace, 'api-gateway').parentSpanId).toBe(clientSpanId);
    });

    it('holds one server span per app, from Keel, named after the route with http.route and the status', () => {
      const routes: Record<string, [string, number]> = {
        'api-gateway': ['/api/v1/auth/register', 201],
        'auth-service': ['/auth/register', 201],
        'users-service': ['/internal/users', 201],
      };
      for (const app of APPS) {
        const [route, status] = routes[app];
        const span = serverSpan(trace, app);
        expect(span.name).toBe(`POST ${route}`);
        expect(span.scope).toBe('@keel/observability/http-server');
        expect(span.status.code).toBe(0);
        expect(span.attributes).toMatchObject({
          'http.request.method': 'POST',
          'http.route': route,
          'http.response.status_code': status,
          'url.scheme': 'http',
          'server.address': '127.0.0.1',
          'server.port': expect.any(Number),
        });
      }
      // instrumentation-http makes client spans only.
      expect(
        receiver
          .spans()
          .filter(
            (span) =>
              span.scope === '@opentelemetry/instrumentation-http' && span.kind === SpanKind.SERVER,
          ),
      ).toEqual([]);
    });

    it('links gateway client → auth server and auth client → users server', () => {
      const authServer = serverSpan(trace, 'auth-service');
      const usersServer = serverSpan(trace, 'users-service');
      const gatewayClient = trace.find((span) => span.spanId === authServer.parentSpanId);
      const authClient = trace.find((span) => span.spanId === usersServer.parentSpanId);

      expect(gatewayClient).toMatchObject({ service: 'api-gateway', kind: SpanKind.CLIENT });
      expect(authClient).toMatchObject({ service: 'auth-service', kind: SpanKind.CLIENT });
      expect(descendsFrom(gatewayClient!, serverSpan(trace, 'api-gateway'), trace)).toBe(true);
      expect(descendsFrom(authClient!, authServer, trace)).toBe(true);
    });

    it('has database spans under the server span of each service that owns tables', () => {
      for (const app of ['auth-service', 'users-service'] as const) {
        const queries = trace.filter(
          (span) => span.service === app && span.attributes['db.system.name'] === 'sqlite',
        );
        expect(queries.length).toBeGreaterThan(0);
        for (const query of queries) {
          expect(query.kind).toBe(SpanKind.CLIENT);
          expect(descendsFrom(query, serverSpan(trace, app), trace)).toBe(true);
          expect(query.attributes['db.query.text']).toEqual(expect.any(String));
        }
      }
      expect(trace.map((span) => span.name)).toContainEqual(
        expect.stringMatching(/^INSERT credentials$/),
      );
      expect(trace.map((span) => span.name)).toContainEqual(
        expect.stringMatching(/^INSERT profiles$/),
      );
    });

    it('has the @Traced() spans where they are declared', () => {
      const hash = trace.find((span) => span.name === 'PasswordHasher.hash');

      expect(hash).toMatchObject({ service: 'auth-service', kind: SpanKind.INTERNAL });
      expect(descendsFrom(hash!, serverSpan(trace, 'auth-service'), trace)).toBe(true);
    });

    it('forwards from the gateway with one client span straight under its server span', () => {
      const gatewayServer = serverSpan(trace, 'api-gateway');
      const gatewayClients = trace.filter(
        (span) =>
          span.service === 'api-gateway' &&
          span.kind === SpanKind.CLIENT &&
          span.parentSpanId === gatewayServer.spanId &&
          span.attributes['url.full'] !== undefined,
      );
      expect(gatewayClients).toHaveLength(1);
      // Made by the proxy itself, not instrumentation-undici, with that one's name and attributes.
      expect(gatewayClients[0]).toMatchObject({
        name: 'POST',
        scope: '@keel/observability/http-client',
        attributes: expect.objectContaining({
          'http.request.method': 'POST',
          'url.full': expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/auth\/register$/),
          'url.path': '/auth/register',
          'server.address': '127.0.0.1',
          'http.response.status_code': 201,
        }),
      });
      expect(
        trace.filter((span) => span.service === 'api-gateway' && span.kind === SpanKind.INTERNAL),
      ).toEqual([]);
    });

    it('has no express middleware spans and no spans for operational routes', () => {
      const all = receiver.spans();
      expect(all.filter((span) => span.scope.includes('express'))).toEqual([]);
      expect(
        all.filter((span) => JSON.stringify(span.attributes).match(/\/health\/|\/metrics/)),
      ).toEqual([]);
    });

    it('describes each service in its resource', () => {
      for (const app of APPS) {
        expect(serverSpan(trace, app).resource).toMatchObject({
          'service.name': app,
          'service.version': expect.stringMatching(/^\d+\.\d+\.\d+/),
          'deployment.environment.name': 'test',
          'service.instance.id': expect.stringMatching(/^[0-9a-f-]{36}$/),
        });
      }
    });

    it('received both OTLP encodings: protobuf from two apps, JSON from users-service', () => {
      const services = (contentType: string): string[] => [
        ...new Set(
          receiver
            .requests()
            .filter((r) => r.contentType === contentType)
            .flatMap((r) => r.services),
        ),
      ];
      expect(services('application/x-protobuf').sort()).toEqual(['api-gateway', 'auth-service']);
      expect(services('application/json')).toEqual(['users-service']);
    });

    it('puts the trace id and request id on every log line of the request, in each app', async () => {
      const lines = await linesFor(platform, requestId);
      for (const app of APPS) {
        expect(lines[app].length).toBeGreaterThan(0);
        for (const line of lines[app]) {
          expect(line).toMatchObject({
            service: app,
            requestId,
            trace_id: traceId,
            span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
            level: expect.any(String),
            time: expect.any(String),
          });
        }
        const access = lines[app].filter((line) => 'responseTime' in line);
        expect(access).toHaveLength(1);
        expect(access[0]).toMatchObject({
          req: { method: 'POST', url: expect.stringMatching(/register|internal\/users/) },
          res: { statusCode: 201 },
          responseTime: expect.any(Number),
        });
      }
      // And the other way round: nothing in the trace was logged under another request id.
      for (const app of APPS) {
        const traced = platform.apps[app].jsonLogs().filter((line) => line.trace_id === traceId);
        expect(traced.every((line) => line.requestId === requestId)).toBe(true);
      }
    });
  });

  it('logs lines from deep inside a service, after awaits, with the request ids', async () => {
    const gateway = request(platform.gatewayUrl);
    const email = uniqueEmail('deep');
    const password = 'correct horse battery';
    await gateway.post('/api/v1/auth/register').send({ email, password, displayName: 'Deep' });
    const login = await gateway.post('/api/v1/auth/login').send({ email, password }).expect(200);
    const { refreshToken } = login.body as { refreshToken: string };
    await gateway.post('/api/v1/auth/refresh').send({ refreshToken }).expect(200);
    const traceId = hex(16);
    const requestId = `deep-${hex(6)}`;

    // Replaying the rotated token makes AuthService warn after several database round trips.
    await gateway
      .post('/api/v1/auth/refresh')
      .set('traceparent', `00-${traceId}-${hex(8)}-01`)
      .set('x-request-id', requestId)
      .send({ refreshToken })
      .expect(401);

    const lines = await linesFor(platform, requestId, ['api-gateway', 'auth-service']);
    const warning = lines['auth-service'].find((line) => line.context === 'AuthService');
    expect(warning).toMatchObject({
      level: 'warn',
      requestId,
      trace_id: traceId,
      span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
  });

  it('exports nothing for an incoming unsampled traceparent (flags 00), yet logs its trace id', async () => {
    const traceId = hex(16);
    const requestId = `unsampled-${hex(6)}`;
    await request(platform.gatewayUrl)
      .post('/api/v1/auth/register')
      .set('traceparent', `00-${traceId}-${hex(8)}-00`)
      .set('x-request-id', requestId)
      .send({
        email: uniqueEmail('unsampled'),
        password: 'correct horse battery',
        displayName: 'U',
      })
      .expect(201);
    // Every span the apps ended before the barrier's has arrived by then.
    await otlpBarrier(receiver, appUrls(platform));

    expect(spansOf(receiver.spans(), traceId)).toEqual([]);
    // The decision travelled downstream, and the ids still correlate the logs of each hop.
    const lines = await linesFor(platform, requestId);
    for (const app of APPS) {
      const access = lines[app].find((line) => 'responseTime' in line);
      expect(access).toMatchObject({ trace_id: traceId, res: { statusCode: 201 } });
    }
  });

  it('starts a new trace for a request without traceparent; its id is the error body traceId', async () => {
    const response = await request(platform.gatewayUrl)
      .post('/api/v1/auth/login')
      .send({ email: uniqueEmail('nobody'), password: 'wrong password here' })
      .expect(401);
    const body = response.body as { traceId: string; requestId: string };
    expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(body.traceId).not.toBe('0'.repeat(32));

    const spans = await receiver.waitFor((all) =>
      ['api-gateway', 'auth-service'].every((app) =>
        all.some(
          (s) => s.traceId === body.traceId && s.service === app && s.kind === SpanKind.SERVER,
        ),
      ),
    );
    const trace = spansOf(spans, body.traceId);
    expect(serverSpan(trace, 'api-gateway').parentSpanId).toBe('');
    expect(trace.find((span) => span.name === 'PasswordHasher.verify')).toBeDefined();

    const lines = await linesFor(platform, body.requestId, ['api-gateway', 'auth-service']);
    expect(lines['auth-service'].length).toBeGreaterThan(0);
    expect(lines['api-gateway'].length).toBeGreaterThan(0);
    expect(lines['auth-service'].every((line) => line.trace_id === body.traceId)).toBe(true);
    expect(lines['api-gateway'].every((line) => line.trace_id === body.traceId)).toBe(true);
  });
});

describe('server spans of error answers and refusals (e2e)', () => {
  let receiver: OtlpReceiver;
  let platform: Platform;
  let user: TestUser;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    platform = await startPlatform({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        CHAOS_ENABLED: 'true',
        // The event-loop criterion is off: on a busy test machine it would refuse at random.
        SHED_MAX_EVENT_LOOP_DELAY: '0',
      },
      appEnv: {
        // Register and log in take the two slots; the next login is refused.
        'api-gateway': { RATE_LIMIT_AUTH: '2/60s' },
        'users-service': { SHED_MAX_IN_FLIGHT: '1' },
      },
    });
    user = await registerAndLogin(platform.gatewayUrl);
  });

  afterAll(async () => {
    await platform?.stop();
    await receiver?.close();
  });

  /** Sends `send` in a fresh sampled trace; returns the answer and the trace id. */
  async function traced(
    send: (traceparent: string) => Promise<request.Response>,
  ): Promise<{ res: request.Response; traceId: string }> {
    const traceId = hex(16);
    const res = await send(`00-${traceId}-${hex(8)}-01`);
    return { res, traceId };
  }

  /** The one server span `app` exported for `traceId`, once it has arrived. */
  async function serverSpanOf(app: AppName, traceId: string): Promise<ReceivedSpan> {
    const spans = await receiver.waitFor((all) =>
      all.some((s) => s.traceId === traceId && s.service === app && s.kind === SpanKind.SERVER),
    );
    return serverSpan(spansOf(spans, traceId), app);
  }

  it('traces a 404: named by its method only, with the status code and status unset', async () => {
    const { traceId } = await traced((traceparent) =>
      request(platform.gatewayUrl)
        .get('/api/v1/no-such-route')
        .set('traceparent', traceparent)
        .expect(404),
    );
    const span = await serverSpanOf('api-gateway', traceId);

    expect(span.name).toBe('GET');
    expect(span.attributes['http.route']).toBeUndefined();
    expect(span.attributes['http.response.status_code']).toBe(404);
    expect(span.attributes['url.path']).toBe('/api/v1/no-such-route');
    expect(span.status.code).toBe(0);
  });

  it('traces a 429 of the gateway limiter on its route, status unset', async () => {
    const { res, traceId } = await traced((traceparent) =>
      request(platform.gatewayUrl)
        .post('/api/v1/auth/login')
        .set('traceparent', traceparent)
        .send({ email: user.email, password: user.password }),
    );
    expect(res.status).toBe(429);
    const span = await serverSpanOf('api-gateway', traceId);

    expect(span.name).toBe('POST /api/v1/auth/login');
    expect(span.attributes['http.response.status_code']).toBe(429);
    expect(span.status.code).toBe(0);
    // Refused at the edge: no hop behind it.
    await otlpBarrier(receiver, appUrls(platform));
    expect(spansOf(receiver.spans(), traceId).map((s) => s.service)).not.toContain('auth-service');
  });

  it('traces a load-shedding 503 answered before Express, with status ERROR and the error body trace id', async () => {
    const users = platform.apps['users-service'];
    const held = request(users.url)
      .get('/users/me')
      .set('authorization', `Bearer ${user.accessToken}`)
      .set('x-chaos', 'users-service=latency:1500')
      .then((res) => res.status);
    let refused: { res: request.Response; traceId: string } | undefined;
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && refused === undefined) {
      const attempt = await traced((traceparent) =>
        request(users.url)
          .get('/users/me')
          .set('authorization', `Bearer ${user.accessToken}`)
          .set('traceparent', traceparent),
      );
      if (attempt.res.status === 503) {
        refused = attempt;
      } else {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    expect(await held).toBe(200);
    expect(refused).toBeDefined();
    const { res, traceId } = refused!;
    const span = await serverSpanOf('users-service', traceId);

    expect((res.body as { traceId: string }).traceId).toBe(traceId);
    expect(span.name).toBe('GET');
    expect(span.attributes['http.response.status_code']).toBe(503);
    expect(span.status.code).toBe(2);
  });

  it('sets status ERROR on the 5xx server spans of a failing hop and of the gateway relaying it', async () => {
    const { res, traceId } = await traced((traceparent) =>
      request(platform.gatewayUrl)
        .get('/api/v1/users/me')
        .set('authorization', `Bearer ${user.accessToken}`)
        .set('x-chaos', 'users-service=error')
        .set('traceparent', traceparent),
    );
    expect(res.status).toBeGreaterThanOrEqual(500);
    const users = await serverSpanOf('users-service', traceId);
    const gateway = await serverSpanOf('api-gateway', traceId);

    expect(users).toMatchObject({
      name: 'GET /users/me',
      status: { code: 2 },
      attributes: expect.objectContaining({ 'http.response.status_code': 500 }),
    });
    expect(gateway).toMatchObject({
      name: 'GET /api/v1/users/me',
      status: { code: 2 },
      attributes: expect.objectContaining({ 'http.response.status_code': res.status }),
    });
  });
});

describe('no secret in any log line or span during the CONTRACT §3 story; spans flushed on SIGTERM (e2e)', () => {
  const internalToken = `e2e-internal-${hex(16)}`;
  const password = `pw-${hex(12)}`;
  const secrets: string[] = [internalToken, password];
  let receiver: OtlpReceiver;
  let platform: Platform;
  const exitCodes: Partial<Record<AppName, number | null>> = {};

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    platform = await startPlatform({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        // No timed export: every span must leave through the shutdown flush.
        OTEL_BSP_SCHEDULE_DELAY: '600000',
        INTERNAL_TOKEN: internalToken,
        LOG_LEVEL: 'debug',
      },
    });
    const gateway = request(platform.gatewayUrl);
    const email = uniqueEmail('story');
    await gateway
      .post('/api/v1/auth/register')
      .send({ email, password, displayName: 'Story' })
      .expect(201);
    const login = await gateway.post('/api/v1/auth/login').send({ email, password }).expect(200);
    const first = login.body as { accessToken: string; refreshToken: string };
    secrets.push(first.accessToken, first.refreshToken);
    await gateway
      .get('/api/v1/auth/me')
      .set('authorization', `Bearer ${first.accessToken}`)
      .expect(200);
    await gateway
      .get('/api/v1/users/me')
      .set('authorization', `Bearer ${first.accessToken}`)
      .expect(200);
    const refreshed = await gateway
      .post('/api/v1/auth/refresh')
      .send({ refreshToken: first.refreshToken })
      .expect(200);
    const second = refreshed.body as { accessToken: string; refreshToken: string };
    secrets.push(second.accessToken, second.refreshToken);
    await gateway
      .post('/api/v1/auth/logout')
      .set('authorization', `Bearer ${second.accessToken}`)
      .send({ refreshToken: second.refreshToken })
      .expect(204);
    // A replayed (rotated) token and a bad password: error paths log more than happy ones.
    await gateway
      .post('/api/v1/auth/refresh')
      .send({ refreshToken: first.refreshToken })
      .expect(401);
    await gateway
      .post('/api/v1/auth/login')
      .send({ email, password: `${password}-wrong` })
      .expect(401);
    // Token signatures alone are secrets too.
    secrets.push(...[first.accessToken, second.accessToken].map((token) => token.split('.')[2]));

    expect(receiver.spans()).toEqual([]);
    // SIGINT (Ctrl-C in development) for one app, SIGTERM (Kubernetes) for the others.
    for (const app of APPS) {
      exitCodes[app] = await platform.apps[app].stop(app === 'api-gateway' ? 'SIGINT' : 'SIGTERM');
    }
  });

  afterAll(async () => {
    await platform?.stop();
    await receiver?.close();
  });

  it('exits 0 on SIGTERM or SIGINT, each app exporting its spans only in the shutdown flush', () => {
    expect(exitCodes).toEqual({ 'api-gateway': 0, 'auth-service': 0, 'users-service': 0 });
    const services = new Set(receiver.spans().map((span) => span.service));
    expect([...services].sort()).toEqual([...APPS].sort());
  });

  it('writes no secret to any log line', () => {
    for (const app of APPS) {
      const logs = platform.apps[app].logs();
      expect(logs.length).toBeGreaterThan(10);
      for (const secret of secrets) {
        const leaks = logs.filter((line) => line.includes(secret));
        expect({ app, secret: secret.slice(0, 6), leaks }).toEqual({
          app,
          secret: secret.slice(0, 6),
          leaks: [],
        });
      }
    }
  });

  it('records no secret in any span attribute, event or resource', () => {
    const spans = receiver.spans();
    expect(spans.length).toBeGreaterThan(20);
    for (const span of spans) {
      const text = JSON.stringify([
        span.name,
        span.attributes,
        span.events,
        span.resource,
        span.status,
      ]);
      for (const secret of secrets) {
        expect({ span: span.name, leaked: text.includes(secret) }).toEqual({
          span: span.name,
          leaked: false,
        });
      }
      expect(
        Object.keys(span.attributes).filter((key) =>
          /authorization|cookie|token|password/i.test(key),
        ),
      ).toEqual([]);
    }
  });
});

/** auth-service alone with `env`, exporting to a fresh OTLP receiver every 100 ms. */
async function authServiceExportingTo(
  env: Record<string, string>,
): Promise<{ receiver: OtlpReceiver; platform: Platform }> {
  const receiver = await startOtlpReceiver();
  const platform = await startPlatform({
    apps: ['auth-service'],
    env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' },
  });
  return { receiver, platform };
}

describe('OTEL_SDK_DISABLED=true (e2e)', () => {
  let receiver: OtlpReceiver;
  let platform: Platform;

  beforeAll(async () => {
    ({ receiver, platform } = await authServiceExportingTo({ OTEL_SDK_DISABLED: 'true' }));
  });

  afterAll(async () => {
    await platform?.stop();
    await receiver?.close();
  });

  it('makes no spans and no trace ids, and still correlates logs by request id', async () => {
    const auth = platform.apps['auth-service'];
    const response = await request(auth.url)
      .post('/auth/login')
      .set('traceparent', `00-${hex(16)}-${hex(8)}-01`)
      .send({ email: uniqueEmail('off'), password: 'wrong password here' })
      .expect(401);
    const body = response.body as { traceId: string; requestId: string };
    expect(body.traceId).toBe('');

    // Stopped (and its output closed) first: every line it wrote and every export it made
    // are in by then, so the absence checks below look at everything.
    expect(await auth.stop('SIGTERM')).toBe(0);
    const lines = auth.jsonLogs().filter((line) => line.requestId === body.requestId);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((line) => 'trace_id' in line || 'span_id' in line)).toEqual([]);
    expect(receiver.requests()).toEqual([]);
  });
});

describe('OTEL_NODE_DISABLED_INSTRUMENTATIONS=http (e2e)', () => {
  let receiver: OtlpReceiver;
  let platform: Platform;

  beforeAll(async () => {
    ({ receiver, platform } = await authServiceExportingTo({
      OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'http',
    }));
  });

  afterAll(async () => {
    await platform?.stop();
    await receiver?.close();
  });

  it('turns the server spans off with the client ones; other spans are still exported', async () => {
    const auth = platform.apps['auth-service'];
    const traceId = hex(16);
    const response = await request(auth.url)
      .post('/auth/login')
      .set('traceparent', `00-${traceId}-${hex(8)}-01`)
      .send({ email: uniqueEmail('nohttp'), password: 'wrong password here' })
      .expect(401);
    expect((response.body as { traceId: string }).traceId).toBe('');

    // Everything buffered leaves in the shutdown flush.
    expect(await auth.stop('SIGTERM')).toBe(0);
    const spans = receiver.spans();
    expect(spans.map((span) => span.name)).toContain('PasswordHasher.verify');
    expect(spans.filter((span) => span.kind === SpanKind.SERVER)).toEqual([]);
    expect(spansOf(spans, traceId)).toEqual([]);
  });
});

describeWithPostgres()(
  'database and Redis spans on PostgreSQL with Redis rate limits (e2e)',
  () => {
    let receiver: OtlpReceiver;
    let redis: PrivateRedis;
    let platform: Platform;
    let trace: ReceivedSpan[];

    beforeAll(async () => {
      receiver = await startOtlpReceiver();
      redis = await startRedisServer();
      platform = await startPlatform({
        database: 'postgres',
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' },
        appEnv: { 'api-gateway': { REDIS_URL: redis.url } },
      });
      const traceId = hex(16);
      await request(platform.gatewayUrl)
        .post('/api/v1/auth/register')
        .set('traceparent', `00-${traceId}-${hex(8)}-01`)
        .send({ email: uniqueEmail('pg'), password: 'correct horse battery', displayName: 'Pg' })
        .expect(201);
      await receiver.waitFor((spans) =>
        APPS.every((app) =>
          spans.some(
            (s) => s.traceId === traceId && s.service === app && s.kind === SpanKind.SERVER,
          ),
        ),
      );
      await otlpBarrier(receiver, appUrls(platform));
      trace = spansOf(receiver.spans(), traceId);
    });

    afterAll(async () => {
      await platform?.stop();
      await redis?.stop();
      await receiver?.close();
    });

    it('has pg query spans under each service, and every SQL span of the trace comes from instrumentation-pg', () => {
      for (const app of ['auth-service', 'users-service'] as const) {
        const queries = trace.filter(
          (span) => span.service === app && span.name.startsWith('pg.query'),
        );
        expect(queries.length).toBeGreaterThan(0);
        for (const query of queries) {
          expect(query.kind).toBe(SpanKind.CLIENT);
          expect(descendsFrom(query, serverSpan(trace, app), trace)).toBe(true);
        }
      }
      // Every span of the trace, whatever its name or scope: one carrying a database
      // attribute that is not Redis's is a SQL span, and only instrumentation-pg may make
      // them (a TypeORM or SQLite instrumentation would add a second span per query).
      const system = (span: ReceivedSpan): unknown =>
        span.attributes['db.system.name'] ?? span.attributes['db.system'];
      const sqlSpans = trace.filter(
        (span) =>
          Object.keys(span.attributes).some((key) => key.startsWith('db.')) &&
          system(span) !== 'redis',
      );
      expect(sqlSpans.length).toBeGreaterThan(0);
      // Pool checkouts are no spans (one per query): waits show in db_pool_connections.
      expect(
        trace.filter((span) => /^pg(-pool)?\.connect/.test(span.name)).map((span) => span.name),
      ).toEqual([]);
      expect(
        sqlSpans
          .filter((span) => span.scope !== '@opentelemetry/instrumentation-pg')
          .map((span) => `${span.service} ${span.scope}: ${span.name}`),
      ).toEqual([]);
    });

    // Issue 10: each query round trip costs a pg span (and a writev); a successful refresh
    // is three (claim, insert, confirm), where it was five. Counted here on the spans an
    // operator sees, so that a regression fails.
    it('spends three pg query spans on a successful refresh in auth-service', async () => {
      const email = uniqueEmail('refresh');
      const password = 'correct horse battery';
      await request(platform.gatewayUrl)
        .post('/api/v1/auth/register')
        .send({ email, password, displayName: 'Refresh' })
        .expect(201);
      const login = await request(platform.gatewayUrl)
        .post('/api/v1/auth/login')
        .send({ email, password })
        .expect(200);
      const traceId = hex(16);
      await request(platform.gatewayUrl)
        .post('/api/v1/auth/refresh')
        .set('traceparent', `00-${traceId}-${hex(8)}-01`)
        .send({ refreshToken: login.body.refreshToken })
        .expect(200);
      await receiver.waitFor((spans) =>
        spans.some(
          (s) =>
            s.traceId === traceId && s.service === 'auth-service' && s.kind === SpanKind.SERVER,
        ),
      );
      await otlpBarrier(receiver, appUrls(platform));
      const refresh = spansOf(receiver.spans(), traceId);
      const queries = refresh
        .filter((span) => span.service === 'auth-service' && span.name.startsWith('pg.query'))
        .map((span) => span.name);
      expect(queries).toHaveLength(3);
      expect(queries.join(' ')).toMatch(/UPDATE.*INSERT.*SELECT/);
    });

    it('has the gateway rate limiter Redis calls under the gateway server span', () => {
      const redisSpans = trace.filter(
        (span) => span.service === 'api-gateway' && span.scope.includes('ioredis'),
      );
      expect(redisSpans.length).toBeGreaterThan(0);
      for (const span of redisSpans) {
        expect(descendsFrom(span, serverSpan(trace, 'api-gateway'), trace)).toBe(true);
        // The command only: keys carry hashed client ids, values are counters.
        expect(span.attributes['db.statement'] ?? span.attributes['db.query.text']).toMatch(
          /^[a-z]+$/i,
        );
      }
    });
  },
);
