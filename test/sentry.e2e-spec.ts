import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { registerAndLogin, type TestUser } from './support/http';
import {
  otlpBarrier,
  type OtlpReceiver,
  type ReceivedSpan,
  SpanKind,
  startOtlpReceiver,
} from './support/otlp-receiver';
import { ALL_APPS, type Platform, startPlatform } from './support/platform';
import { type SentryEvent, SentryReceiver } from './support/sentry-receiver';

/**
 * Error reporting across the three apps as built processes (CONTRACT §5 Errors): a real
 * HTTP endpoint stands in for Sentry, a real OTLP receiver for Jaeger.
 */
jest.setTimeout(60_000);

/**
 * A test-only preload for a built app: no request can end a process (CONTRACT §7), so the
 * suite ends one the way a real bug would, on a signal ignored by default. SIGWINCH: an
 * unhandled rejection; SIGURG: an uncaught exception.
 */
function faultPreload(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'keel-fault-')), 'fault-on-signal.js');
  writeFileSync(
    file,
    [
      "process.on('SIGWINCH', () => { void Promise.reject(new Error('test fault: unhandled rejection on demand')); });",
      "process.on('SIGURG', () => setImmediate(() => { throw new Error('test fault: uncaught exception on demand'); }));",
    ].join('\n'),
  );
  return file;
}

describe('Sentry error reporting (e2e)', () => {
  let sentry: SentryReceiver;
  let otlp: OtlpReceiver;
  let platform: Platform;
  let user: TestUser;

  beforeAll(async () => {
    sentry = await SentryReceiver.start('7');
    otlp = await startOtlpReceiver();
    platform = await startPlatform({
      env: {
        SENTRY_DSN: sentry.dsn,
        SENTRY_ENVIRONMENT: 'e2e',
        SENTRY_RELEASE: 'keel@9.9.9-e2e',
        CHAOS_ENABLED: 'true',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
      // Login and register limited at the edge (4 per minute), to produce a 429 below.
      appEnv: {
        'api-gateway': { RATE_LIMIT_AUTH: '4/60s' },
        // No request can end a process; a test-only preload does it on a signal.
        'users-service': { NODE_OPTIONS: `--require ${faultPreload()}` },
      },
    });
    user = await registerAndLogin(platform.gatewayUrl);
  });

  afterAll(async () => {
    await platform?.stop();
    await sentry?.stop();
    await otlp?.close();
  });

  const fromService = (service: string) => (event: SentryEvent) => event.tags?.service === service;

  /**
   * A positive marker before "no second event" checks: a fresh 500 from each of `services`
   * (their own chaos error), waited for at the receiver. Each app sends its events in the
   * order it captured them, so a duplicate of anything captured earlier has arrived by then.
   */
  async function sentryBarrier(services: ('api-gateway' | 'users-service')[]): Promise<string[]> {
    const ids: string[] = [];
    for (const service of services) {
      const requestId = `sentry-barrier-${randomUUID()}`;
      await request(platform.gatewayUrl)
        .get('/api/v1/users/me')
        .set('authorization', `Bearer ${user.accessToken}`)
        .set('x-request-id', requestId)
        .set('x-chaos', `${service}=error`)
        .expect(500);
      ids.push(requestId);
    }
    await sentry.waitFor(
      (all) =>
        services.every((service, i) =>
          all.some((e) => e.tags?.request_id === ids[i] && e.tags?.service === service),
        ),
      20_000,
    );
    return ids;
  }

  it('reports a chaos error in users-service once, with every tag and the trace of the request', async () => {
    const res = await request(platform.gatewayUrl)
      .get('/api/v1/users/me')
      .set('authorization', `Bearer ${user.accessToken}`)
      .set('x-chaos', 'users-service=error')
      .expect(500);
    const { requestId, traceId } = res.body as { requestId: string; traceId: string };
    expect(res.body).toMatchObject({ statusCode: 500, message: 'Internal server error' });
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(res.headers['x-request-id']).toBe(requestId);

    const events = await sentry.waitFor((all) => all.some(fromService('users-service')));
    // A duplicate (a second capture, or the gateway re-reporting the relayed 500) would have
    // arrived before later events of both apps.
    await sentryBarrier(['users-service', 'api-gateway']);
    const mine = sentry.events().filter((event) => event.tags?.request_id === requestId);
    expect(mine).toHaveLength(1);
    const [event] = events.filter(fromService('users-service'));
    expect(event).toBe(mine[0]);

    expect(event.tags).toMatchObject({
      service: 'users-service',
      request_id: requestId,
      trace_id: traceId,
      environment: 'e2e',
      release: 'keel@9.9.9-e2e',
      route: '/users/me',
      method: 'GET',
    });
    expect(event.environment).toBe('e2e');
    expect(event.release).toBe('keel@9.9.9-e2e');
    expect(event.user).toEqual({ id: user.id });
    expect(event.contexts?.trace?.trace_id).toBe(traceId);
    expect(event.contexts?.trace?.span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(event.exception?.values?.[0]).toMatchObject({ type: 'ChaosException' });

    // The log line of the error carries the same ids.
    await platform.apps['users-service'].waitForLog(
      (line) => line.msg === 'unhandled error' && line.requestId === requestId,
      `'unhandled error' for ${requestId}`,
    );
    const logged = platform.apps['users-service']
      .jsonLogs()
      .filter((line) => line.level === 'error' && line.requestId === requestId);
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.every((line) => line.trace_id === traceId)).toBe(true);
    expect(logged.some((line) => line.msg === 'unhandled error')).toBe(true);

    // The event's trace is the request's one trace, which the gateway started.
    // Both server spans: the gateway's ends after users-service's and may be exported later.
    const serverOf = (service: string) => (s: ReceivedSpan) =>
      s.traceId === traceId && s.service === service && s.kind === SpanKind.SERVER;
    const spans = await otlp.waitFor(
      (all) => all.some(serverOf('users-service')) && all.some(serverOf('api-gateway')),
    );
    const gatewayServer = spans.find(
      (s) => s.traceId === traceId && s.service === 'api-gateway' && s.kind === SpanKind.SERVER,
    );
    expect(gatewayServer?.parentSpanId).toBe('');
  });

  it('leaves no password and no bearer token in any envelope', async () => {
    const password = `pw-${randomUUID()}`;
    const res = await request(platform.gatewayUrl)
      .post('/api/v1/auth/register')
      .set('authorization', `Bearer ${user.accessToken}`)
      .set('cookie', `session=${randomUUID()}`)
      .set('x-chaos', 'auth-service=error')
      .send({
        email: `leak-${randomUUID().slice(0, 8)}@example.com`,
        password,
        displayName: 'Leak',
      })
      .expect(500);
    await sentry.waitFor((all) => all.some((e) => e.tags?.request_id === res.body.requestId));
    const raw = sentry.allRaw();
    expect(raw).toContain(res.body.requestId);
    expect(raw).not.toContain(password);
    expect(raw).not.toContain(user.accessToken);
    // A JWT's signature alone is enough to replay it.
    expect(raw).not.toContain(user.accessToken.split('.')[2]);
    expect(raw).not.toContain(user.refreshToken);
    expect(raw).not.toContain('session=');
    expect(raw).not.toContain('keel-dev-internal-token');
  });

  it('reports nothing for a 400, a 404 or a 429', async () => {
    const before = sentry.events().length;
    const auth = `Bearer ${user.accessToken}`;
    await request(platform.gatewayUrl)
      .patch('/api/v1/users/me')
      .set('authorization', auth)
      .send({ displayName: 42 })
      .expect(400);
    await request(platform.gatewayUrl)
      .get('/api/v1/users/not-a-uuid')
      .set('authorization', auth)
      .expect(400);
    await request(platform.gatewayUrl)
      .get(`/api/v1/users/${randomUUID()}`)
      .set('authorization', auth)
      .expect(404);
    await request(platform.gatewayUrl).get('/api/v1/no-such-route').expect(404);
    let limited = false;
    for (let i = 0; i < 10 && !limited; i += 1) {
      const res = await request(platform.gatewayUrl)
        .post('/api/v1/auth/login')
        .send({ email: user.email, password: 'wrong password here' });
      expect([401, 429]).toContain(res.status);
      limited = res.status === 429;
    }
    expect(limited).toBe(true);

    // Known reports afterwards, from the gateway twice, as barriers: anything the 4xx above
    // had queued would have been sent before them, and so would a duplicate of the first.
    const barriers = await sentryBarrier(['api-gateway', 'api-gateway']);
    const after = sentry.events().slice(before);
    expect(after.map((event) => event.tags?.request_id)).toEqual(barriers);
    expect(after[0].tags).toMatchObject({ service: 'api-gateway', route: '/api/v1/users/me' });
  });

  it('keeps exactly one trace per request with Sentry on', async () => {
    const apps = Object.fromEntries(ALL_APPS.map((app) => [app, platform.apps[app].url]));
    // Spans of earlier requests have left the apps' batch processors once these have.
    await otlpBarrier(otlp, apps);
    const seen = otlp.spans().length;
    const requestId = `one-trace-${randomUUID()}`;
    await request(platform.gatewayUrl)
      .get('/api/v1/users/me')
      .set('authorization', `Bearer ${user.accessToken}`)
      .set('x-request-id', requestId)
      .set('x-chaos', 'users-service=error')
      .expect(500);
    const events = await sentry.waitFor((all) => all.some((e) => e.tags?.request_id === requestId));
    const traceId = events.find((e) => e.tags?.request_id === requestId)?.tags?.trace_id;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    await otlp.waitFor((all) =>
      ['api-gateway', 'users-service'].every((service) =>
        all.some(
          (s) => s.traceId === traceId && s.service === service && s.kind === SpanKind.SERVER,
        ),
      ),
    );
    // A stray second trace (Sentry's transport, a duplicate instrumentation) would have
    // arrived before a later request's spans.
    const barriers = await otlpBarrier(otlp, apps);
    const fresh = otlp
      .spans()
      .slice(seen)
      .filter((s) => !barriers.has(s.traceId));
    expect(new Set(fresh.map((s) => s.traceId))).toEqual(new Set([traceId]));
    expect(fresh.filter((s) => s.parentSpanId === '').map((s) => s.service)).toEqual([
      'api-gateway',
    ]);
    // One server span per hop (auth-service may add its JWKS answers to the same trace).
    const servers = fresh.filter((s) => s.kind === SpanKind.SERVER).map((s) => s.service);
    expect(servers.filter((service) => service !== 'auth-service').sort()).toEqual([
      'api-gateway',
      'users-service',
    ]);
    // No span of Sentry's own making (its transport, its integrations) anywhere.
    const sentryMade = otlp
      .spans()
      .filter((s) => /sentry/i.test(s.scope) || /\/envelope\//.test(JSON.stringify(s.attributes)));
    expect(sentryMade).toEqual([]);
  });

  it("reports the gateway's own 502 once, from the gateway", async () => {
    await platform.apps['users-service'].stop();
    const res = await request(platform.gatewayUrl)
      .get('/api/v1/users/me')
      .set('authorization', `Bearer ${user.accessToken}`)
      .expect(502);
    const events = await sentry.waitFor((all) =>
      all.some((e) => e.tags?.request_id === res.body.requestId),
    );
    // Only the gateway runs: its later event marks that a duplicate would be in.
    await sentryBarrier(['api-gateway']);
    const mine = sentry.events().filter((e) => e.tags?.request_id === res.body.requestId);
    expect(mine).toHaveLength(1);
    expect(events.find((e) => e.tags?.request_id === res.body.requestId)?.tags).toMatchObject({
      service: 'api-gateway',
      status_code: '502',
      route: '/api/v1/users/me',
      trace_id: res.body.traceId,
    });
    await platform.restart('users-service');
  });

  it('sends an event raised while draining on SIGTERM before the process exits', async () => {
    const users = platform.apps['users-service'];
    const requestId = `drain-${randomUUID()}`;
    const answer = request(platform.gatewayUrl)
      .get('/api/v1/users/me')
      .set('authorization', `Bearer ${user.accessToken}`)
      .set('x-request-id', requestId)
      .set('x-chaos', 'users-service=latency:1500,users-service=error')
      .then((res) => res);
    // Wait until the request is inside users-service's handler, then ask it to stop.
    await users.waitForLog(
      (l) => l.msg === 'x-chaos applied' && l.requestId === requestId,
      `'x-chaos applied' for ${requestId}`,
    );
    const exited = users.stop('SIGTERM');
    expect((await answer).status).toBe(500);
    expect(await exited).toBe(0);
    // Already there when the process is gone: the flush ran before exit.
    expect(sentry.events().filter((e) => e.tags?.request_id === requestId)).toHaveLength(1);
    await platform.restart('users-service');
  });

  it.each([
    ['an unhandled rejection', 'SIGWINCH', 'auto.node.onunhandledrejection'],
    ['an uncaught exception', 'SIGURG', 'auto.node.onuncaughtexception'],
  ] as const)('sends %s before the process dies', async (_label, signal, mechanism) => {
    const users = platform.apps['users-service'];
    expect(await users.stop(signal)).toBe(1);
    const events = sentry
      .events()
      .filter(
        (event) =>
          event.tags?.service === 'users-service' &&
          event.exception?.values?.[0]?.mechanism?.type === mechanism,
      );
    expect(events).toHaveLength(1);
    expect(events[0].level).toBe('fatal');
    expect(events[0].exception?.values?.[0]?.value).toMatch(/^test fault: /);
    await platform.restart('users-service');
  });

  it('ignores x-chaos modes that would end the process', async () => {
    const users = platform.apps['users-service'];
    for (const mode of ['crash', 'reject', 'exit']) {
      await request(platform.gatewayUrl)
        .get('/api/v1/users/me')
        .set('authorization', `Bearer ${user.accessToken}`)
        .set('x-chaos', `users-service=${mode}`)
        .expect(200);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await request(users.url).get('/health/live')).status).toBe(200);
  });
});

describe(SentryReceiver.name, () => {
  it('parses plain and gzipped envelopes, with and without item lengths', async () => {
    const receiver = await SentryReceiver.start('3');
    try {
      const event = JSON.stringify({ event_id: 'abc', tags: { service: 's' } });
      const attachment = 'line one\nline two';
      const envelope = [
        JSON.stringify({ event_id: 'abc' }),
        JSON.stringify({ type: 'event' }),
        event,
        JSON.stringify({ type: 'attachment', length: Buffer.byteLength(attachment) }),
        attachment,
      ].join('\n');
      await request(`http://127.0.0.1:${receiver.port}`)
        .post('/api/3/envelope/')
        .set('content-type', 'application/x-sentry-envelope')
        .send(envelope)
        .expect(200);
      await request(`http://127.0.0.1:${receiver.port}`)
        .post('/api/3/envelope/?sentry_key=public')
        .set('content-encoding', 'gzip')
        .set('content-type', 'application/x-sentry-envelope')
        .send(gzipSync(envelope))
        .expect(200);
      await request(`http://127.0.0.1:${receiver.port}`)
        .post('/api/3/store/')
        .send('{}')
        .expect(404);
      expect(receiver.events().map((e) => e.event_id)).toEqual(['abc', 'abc']);
      expect(receiver.envelopes[1].items[1]).toMatchObject({
        header: { type: 'attachment' },
        raw: attachment,
      });
    } finally {
      await receiver.stop();
    }
  });
});
