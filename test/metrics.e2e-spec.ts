import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import request from 'supertest';
import { findSamples, type MetricFamily, parseExposition, sampleValue } from './support/exposition';
import { registerAndLogin, uniqueEmail } from './support/http';
import { type OtlpReceiver, startOtlpReceiver } from './support/otlp-receiver';
import { ALL_APPS, type AppName, type Platform, startPlatform } from './support/platform';
import { describeWithPostgres } from './support/services';

// Starting three processes can take more than jest's default 5 s on a busy machine (the e2e
// project's testTimeout does not apply per project).
jest.setTimeout(60_000);

type Families = Map<string, MetricFamily>;

/**
 * `/metrics` of the built apps after the CONTRACT §3 story, read with the strict parser of
 * test/support/exposition.ts (classic text and OpenMetrics).
 */
async function scrape(
  url: string,
  openMetrics = false,
): Promise<{ text: string; families: Families }> {
  const res = await request(url)
    .get('/metrics')
    .set('accept', openMetrics ? 'application/openmetrics-text; version=1.0.0' : 'text/plain')
    .expect(200);
  expect(res.headers['content-type']).toBe(
    openMetrics
      ? 'application/openmetrics-text; version=1.0.0; charset=utf-8'
      : 'text/plain; version=0.0.4; charset=utf-8',
  );
  return {
    text: res.text,
    families: parseExposition(res.text, openMetrics ? 'openmetrics' : 'prometheus'),
  };
}

/**
 * `promtool check metrics` (Debian's `prometheus` package, installed by CI) as a second,
 * independent parser. Its only complaints may be prom-client's own `nodejs_active_*_total`
 * gauges, whose names break a naming lint, not the format.
 */
const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
if (!promtool && process.env.CI === 'true') {
  throw new Error('promtool is not installed but CI=true: apt-get install prometheus');
}
const KNOWN_LINT =
  /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;

function promtoolProblems(text: string): string[] {
  const result = spawnSync(promtool!, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return `${result.stdout}\n${result.stderr}`
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !KNOWN_LINT.test(line));
}

const HTTP = 'http_server_request_duration_seconds';
const DEFAULTS = [
  'process_cpu_user_seconds_total',
  'process_resident_memory_bytes',
  'nodejs_eventloop_lag_seconds',
  'nodejs_heap_size_used_bytes',
  'nodejs_gc_duration_seconds',
];

const databases = [
  ['SQLite', describe, 'sqlite'],
  ['PostgreSQL', describeWithPostgres(), 'postgres'],
] as const;

for (const [label, describeOn, database] of databases) {
  describeOn(`metrics of every app (${label})`, () => {
    let receiver: OtlpReceiver;
    let platform: Platform;
    const url = (app: AppName): string => platform.apps[app].url;

    beforeAll(async () => {
      receiver = await startOtlpReceiver();
      platform = await startPlatform({
        database,
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '200' },
      });
    });

    afterAll(async () => {
      await platform?.stop();
      await receiver?.close();
    });

    it('moves the domain counters as the story is driven', async () => {
      const gateway = platform.gatewayUrl;
      // A session of its own for the reads below: the reuse further down ends the user's.
      const reader = await registerAndLogin(gateway, uniqueEmail('reader'));
      const before = (await scrape(url('auth-service'))).families;

      const user = await registerAndLogin(gateway, uniqueEmail('metrics'));
      await request(gateway)
        .post('/api/v1/auth/login')
        .send({ email: user.email, password: 'not the password at all' })
        .expect(401);
      const rotated = await request(gateway)
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: user.refreshToken })
        .expect(200);
      // The first refresh token again: a reuse, which revokes the session.
      await request(gateway)
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: user.refreshToken })
        .expect(401);
      expect(rotated.body.accessToken).toEqual(expect.any(String));
      const bearer = `Bearer ${reader.accessToken}`;
      await request(gateway).get('/api/v1/auth/me').set('authorization', bearer).expect(200);
      await request(gateway).get('/api/v1/users/me').set('authorization', bearer).expect(200);
      await request(gateway)
        .patch('/api/v1/users/me')
        .set('authorization', bearer)
        .send({ bio: 'measured' })
        .expect(200);
      await request(gateway)
        .get(`/api/v1/users/${user.id}`)
        .set('authorization', bearer)
        .expect(200);
      await request(gateway)
        .get(`/api/v1/users/${user.id}`)
        .set('authorization', bearer)
        .expect(200);

      const after = (await scrape(url('auth-service'))).families;
      const delta = (name: string, labels: Record<string, string> = {}): number =>
        sampleValue(after, name, labels) - sampleValue(before, name, labels);
      expect(delta('auth_login_attempts_total', { result: 'invalid_credentials' })).toBe(1);
      expect(delta('auth_login_attempts_total', { result: 'success' })).toBe(1);
      expect(
        findSamples(after, 'auth_login_attempts_total', { result: 'rate_limited' }),
      ).toHaveLength(1);
      expect(delta('auth_refresh_reuse_detected_total')).toBe(1);
      expect(delta('auth_tokens_issued_total', { type: 'access' })).toBe(2);
      expect(delta('auth_tokens_issued_total', { type: 'refresh' })).toBe(2);
      expect(delta('auth_password_hash_duration_seconds_count', { operation: 'hash' })).toBe(1);
      expect(delta('auth_password_hash_duration_seconds_count', { operation: 'verify' })).toBe(2);

      const users = (await scrape(url('users-service'))).families;
      expect(
        sampleValue(users, 'cache_requests_total', { cache: 'profile', result: 'hit' }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        sampleValue(users, 'cache_requests_total', { cache: 'profile', result: 'miss' }),
      ).toBeGreaterThanOrEqual(1);

      const gatewayMetrics = (await scrape(gateway)).families;
      expect(
        sampleValue(gatewayMetrics, 'gateway_upstream_request_duration_seconds_count', {
          upstream: 'auth-service',
          method: 'POST',
          status_code: '201',
        }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        findSamples(gatewayMetrics, 'gateway_upstream_request_duration_seconds_count', {
          upstream: 'users-service',
          method: 'PATCH',
          status_code: '200',
        }),
      ).toHaveLength(1);
    });

    it('labels 100 distinct /users/<uuid> calls with one route template, in one series per app', async () => {
      const user = await registerAndLogin(platform.gatewayUrl, uniqueEmail('cardinality'));
      const bearer = `Bearer ${user.accessToken}`;
      const routeOf = {
        'api-gateway': '/api/v1/users/:id',
        'users-service': '/users/:id',
      } as const;
      const before = {
        'api-gateway': (await scrape(platform.gatewayUrl)).families,
        'users-service': (await scrape(url('users-service'))).families,
      };
      for (let i = 0; i < 100; i++) {
        await request(platform.gatewayUrl)
          .get(`/api/v1/users/${randomUUID()}`)
          .set('authorization', bearer)
          .expect(404);
      }
      for (const app of ['api-gateway', 'users-service'] as const) {
        const { families, text } = await scrape(url(app));
        const series = findSamples(families, `${HTTP}_count`, {
          route: routeOf[app],
          status_code: '404',
        });
        expect(series).toHaveLength(1);
        expect(series[0].value - sampleValue(before[app], `${HTTP}_count`, series[0].labels)).toBe(
          100,
        );
        // No raw path leaked into any label.
        expect(text).not.toMatch(/\/users\/[0-9a-f]{8}-/);
      }
    });

    it('exposes valid text with the service label, Node.js defaults and the contract series, per app', async () => {
      const expected: Record<AppName, string[]> = {
        'api-gateway': ['gateway_upstream_request_duration_seconds_bucket'],
        'auth-service': [
          'auth_login_attempts_total',
          'auth_tokens_issued_total',
          'auth_refresh_reuse_detected_total',
          'auth_password_hash_duration_seconds_bucket',
          'db_pool_connections',
        ],
        'users-service': ['cache_requests_total', 'db_pool_connections'],
      };
      for (const app of Object.keys(expected)) {
        const { text, families } = await scrape(url(app));
        if (promtool) {
          expect({ app, problems: promtoolProblems(text) }).toEqual({ app, problems: [] });
        }
        for (const family of families.values()) {
          for (const sample of family.samples) {
            expect({ sample: sample.name, service: sample.labels.service }).toEqual({
              sample: sample.name,
              service: app,
            });
          }
        }
        for (const name of DEFAULTS) {
          expect({ app, family: name, found: families.has(name) }).toEqual({
            app,
            family: name,
            found: true,
          });
        }
        for (const name of [`${HTTP}_bucket`, 'http_server_requests_in_flight', ...expected[app]]) {
          expect({ app, name, found: findSamples(families, name).length > 0 }).toEqual({
            app,
            name,
            found: true,
          });
        }
        const buckets = new Set(findSamples(families, `${HTTP}_bucket`).map((s) => s.labels.le));
        for (const le of ['0.005', '0.1', '5', '+Inf']) {
          expect(buckets.has(le)).toBe(true);
        }
        for (const sample of findSamples(families, `${HTTP}_count`)) {
          expect(Object.keys(sample.labels).sort()).toEqual([
            'method',
            'route',
            'service',
            'status_code',
          ]);
        }
        if (app !== 'api-gateway') {
          const states = findSamples(families, 'db_pool_connections').map((s) => s.labels.state);
          expect(states.sort()).toEqual(['busy', 'idle', 'waiting']);
          const open =
            sampleValue(families, 'db_pool_connections', { state: 'idle' }) +
            sampleValue(families, 'db_pool_connections', { state: 'busy' });
          expect(open).toBeGreaterThanOrEqual(1);
        }
      }
    });

    it('serves OpenMetrics with trace-id exemplars that the trace receiver has seen', async () => {
      await request(platform.gatewayUrl)
        .post('/api/v1/auth/login')
        .send({ email: uniqueEmail('exemplar'), password: 'wrong password here' })
        .expect(401);
      for (const app of ALL_APPS) {
        const { families } = await scrape(url(app), true);
        expect(families.get('auth_login_attempts')?.type ?? 'counter').toBe('counter');
        const exemplars = findSamples(families, `${HTTP}_bucket`).filter((s) => s.exemplar);
        expect({ app, exemplars: exemplars.length > 0 }).toEqual({ app, exemplars: true });
        for (const sample of exemplars) {
          expect(sample.exemplar!.labels.trace_id).toMatch(/^[0-9a-f]{32}$/);
        }
      }
      const { families } = await scrape(platform.gatewayUrl, true);
      const traceIds = new Set(
        findSamples(families, `${HTTP}_bucket`)
          .map((s) => s.exemplar?.labels.trace_id)
          .filter((id): id is string => id !== undefined),
      );
      const upstream = findSamples(
        families,
        'gateway_upstream_request_duration_seconds_bucket',
      ).filter((s) => s.exemplar);
      expect(upstream.length).toBeGreaterThan(0);
      await receiver.waitFor(
        (spans) => [...traceIds].every((id) => spans.some((span) => span.traceId === id)),
        10_000,
      );
    });

    it('leaves scrapes, probes and their database pings out of the traces', async () => {
      for (const app of ALL_APPS) {
        await request(url(app)).get('/health/ready').expect(200);
        await request(url(app)).get('/metrics').expect(200);
      }
      // A marker request: once its spans arrive, anything exported before it has arrived too.
      const marker = await request(platform.gatewayUrl).get('/api/v1/auth/me').expect(401);
      const traceId = marker.body.traceId as string;
      const spans = await receiver.waitFor(
        (all) => all.some((span) => span.traceId === traceId),
        10_000,
      );
      const operational = spans.filter((span) =>
        /\/(health|metrics)\b|"SELECT 1"/.test(`${span.name} ${JSON.stringify(span.attributes)}`),
      );
      expect(operational.map((span) => `${span.service}: ${span.name}`)).toEqual([]);
    });
  });
}
