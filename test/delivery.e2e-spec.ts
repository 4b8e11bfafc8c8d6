import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { loadRegistry } from '../scripts/registry/model';
import { type MetricFamily, parseExposition } from './support/exposition';
import { registerAndLogin, uniqueEmail } from './support/http';
import { type OtlpReceiver, startOtlpReceiver } from './support/otlp-receiver';
import {
  ALL_APPS,
  type AppName,
  type EnvPatch,
  type Platform,
  startPlatform,
} from './support/platform';
import { holdClosedPort, pickPort, saysAddressInUse } from './support/ports';
import { type PrivateRedis, startRedisServer } from './support/redis-server';
import { describeWithPostgres } from './support/services';

// Three processes start per platform, and argon2 runs on a busy two-core machine.
jest.setTimeout(90_000);

const ROOT = join(__dirname, '..');
const read = (...path: string[]): string => readFileSync(join(ROOT, ...path), 'utf8');
// js-yaml (a dev dependency, the same major as eslint's) has no type package installed.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { loadAll } = require('js-yaml') as { loadAll(text: string): unknown[] };
// Parsed YAML and JSON documents, read by their known shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
const yaml = (...path: string[]): Json[] => loadAll(read(...path)).filter(Boolean) as Json[];

/** The P-256 signing key as an operator would put it in an env file: one line, `\n` escapes. */
const JWT_PRIVATE_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString()
  .trim()
  .replace(/\n/g, '\\n');
const INTERNAL_TOKEN = randomBytes(24).toString('base64url');

/** Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?message}`. */
function interpolate(value: string, vars: Record<string, string | undefined>): string {
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-?])([^}]*))?\}/g,
    (_match, name: string, op: string | undefined, arg: string) => {
      const set = vars[name];
      if (op === '?' && !set) {
        throw new Error(`docker-compose.yml needs ${name}: ${arg}`);
      }
      return set || (op === '-' ? arg : '');
    },
  );
}

/**
 * What the harness decides on this machine (ports, upstream URLs, the test database) is left
 * to it; every other variable is exactly what the delivery file sets.
 */
const HARNESS_OWNED = [
  'PORT',
  'DATABASE_URL',
  ...loadRegistry(join(ROOT, 'services.json')).services.map((s) => `${s.envStem}_URL`),
];

function localize(env: Record<string, string>, otlpUrl: string, redisUrl: string): EnvPatch {
  const out: EnvPatch = { ...env };
  for (const name of HARNESS_OWNED) {
    delete out[name];
  }
  if (out.REDIS_URL) {
    out.REDIS_URL = redisUrl;
  }
  if (out.OTEL_EXPORTER_OTLP_ENDPOINT) {
    out.OTEL_EXPORTER_OTLP_ENDPOINT = otlpUrl;
  }
  return out;
}

function composeEnv(app: AppName): Record<string, string> {
  const [compose] = yaml('docker', 'docker-compose.yml');
  const env = (compose.services[app].environment ?? {}) as Record<
    string,
    string | number | boolean | null
  >;
  const vars = { JWT_PRIVATE_KEY, INTERNAL_TOKEN };
  return Object.fromEntries(
    Object.entries(env).map(([name, value]) => [name, interpolate(String(value ?? ''), vars)]),
  );
}

/**
 * Renders k8s/overlays/production with `kubectl kustomize` from a copy of k8s/ whose
 * git-ignored secrets.env holds `secrets` (as an operator writes it), and answers the objects.
 */
function renderProduction(secrets: string): Json[] {
  const dir = mkdtempSync(join(tmpdir(), 'keel-k8s-'));
  try {
    cpSync(join(ROOT, 'k8s'), join(dir, 'k8s'), { recursive: true });
    writeFileSync(join(dir, 'k8s', 'overlays', 'production', 'secrets.env'), secrets);
    const result = spawnSync('kubectl', ['kustomize', join(dir, 'k8s', 'overlays', 'production')], {
      encoding: 'utf8',
    });
    if (result.status !== 0) {
      throw new Error(
        `kubectl kustomize failed (is kubectl installed? see .ci/run): ${result.stderr}`,
      );
    }
    return loadAll(result.stdout).filter(Boolean) as Json[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The environment one app's container gets from the rendered overlay. */
function kubernetesEnv(app: AppName, objects: Json[]): Record<string, string> {
  const deployment = objects.find((doc) => doc.kind === 'Deployment' && doc.metadata.name === app)!;
  const container = deployment.spec.template.spec.containers[0] as Json;
  const named = (kind: string, name: string): Json =>
    objects.find((doc) => doc.kind === kind && doc.metadata.name === name)!;
  const env: Record<string, string> = {};
  for (const from of (container.envFrom ?? []) as Json[]) {
    Object.assign(env, named('ConfigMap', from.configMapRef.name as string).data);
  }
  for (const entry of container.env as Json[]) {
    const ref = entry.valueFrom?.secretKeyRef as Json | undefined;
    const encoded =
      ref && (named('Secret', ref.name as string).data?.[ref.key as string] as string);
    env[entry.name as string] = ref
      ? Buffer.from(encoded ?? '', 'base64').toString('utf8')
      : String(entry.value ?? '');
  }
  return env;
}

/** secrets.env as the operator fills it in for these tests. */
const PRODUCTION_SECRETS = [
  `INTERNAL_TOKEN=${INTERNAL_TOKEN}`,
  `JWT_PRIVATE_KEY=${JWT_PRIVATE_KEY}`,
  'AUTH_DATABASE_URL=postgres://placeholder/keel_auth',
  'USERS_DATABASE_URL=postgres://placeholder/keel_users',
  'REDIS_URL=redis://placeholder',
  'SENTRY_DSN=',
].join('\n');

/** One PromQL query of a dashboard or an alert rule. */
interface Query {
  where: string;
  expr: string;
  legend?: string;
}

function deliveryQueries(): Query[] {
  const queries: Query[] = [];
  for (const group of yaml('prometheus', 'alerts.yml')[0].groups as Json[]) {
    for (const rule of group.rules as Json[]) {
      queries.push({ where: `alerts.yml ${rule.alert ?? rule.record}`, expr: rule.expr });
    }
  }
  const dir = join(ROOT, 'grafana', 'dashboards');
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.json'))) {
    const walk = (panels: Json[] = []): void => {
      for (const panel of panels) {
        for (const target of (panel.targets ?? []) as Json[]) {
          queries.push({
            where: `${file} "${panel.title}"`,
            expr: target.expr,
            legend: target.legendFormat,
          });
        }
        walk(panel.panels);
      }
    };
    walk((JSON.parse(readFileSync(join(dir, file), 'utf8')) as Json).panels);
  }
  return queries;
}

const GROUPING = /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/** Series names, label names and `service` values a query uses (a small PromQL reader). */
function uses(query: Query): { metrics: string[]; labels: string[]; services: string[] } {
  const labels = new Set<string>();
  const services: string[] = [];
  for (const [, matchers] of query.expr.matchAll(/\{([^}]*)\}/g)) {
    for (const [, name, op, value] of matchers.matchAll(
      /([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"([^"]*)"/g,
    )) {
      labels.add(name);
      if (name === 'service' && (op === '=' || op === '=~')) {
        services.push(...value.split('|'));
      }
    }
  }
  for (const [, list] of query.expr.matchAll(GROUPING)) {
    list
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean)
      .forEach((l) => labels.add(l));
  }
  for (const [, name] of (query.legend ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
    labels.add(name);
  }
  const bare = query.expr
    .replace(/"[^"]*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(GROUPING, ' ');
  const metrics = [...bare.matchAll(/(^|[^\w:.$])([a-zA-Z_:][\w:]*)(?!\s*\(|[\w:])/g)]
    .map((m) => m[2])
    .filter((name) => !KEYWORDS.has(name.toLowerCase()));
  return { metrics, labels: [...labels], services };
}

/** Debian's `prometheus` package provides the binary; CI installs it (docs/delivery.md). */
const prometheusBin = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'].find((p) =>
  existsSync(p),
);
const describeWithPrometheus = (): jest.Describe => {
  if (prometheusBin) {
    return describe;
  }
  if (process.env.CI === 'true') {
    throw new Error('prometheus is not installed but CI=true: apt-get install prometheus');
  }
  return describe.skip;
};

interface RunningPrometheus {
  url: string;
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  waitFor(expr: string, done: (result: unknown[]) => boolean, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Prometheus on its own port with prometheus/prometheus.yml and alerts.yml, as Compose runs it
 * (exemplar storage on), except that the app targets are `targets` and everything runs every
 * second instead of every 15 (30) s.
 */
async function startPrometheus(targets: Record<AppName, string>): Promise<RunningPrometheus> {
  // Its own scrape job needs its port in the configuration, so the port is picked (outside
  // the ephemeral range) and bound by Prometheus; another one is picked if it was taken.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startPrometheusOn(targets, pickPort());
    } catch (error) {
      if (attempt === 3 || !saysAddressInUse(String(error))) {
        throw error;
      }
    }
  }
}

async function startPrometheusOn(
  targets: Record<AppName, string>,
  port: number,
): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-prometheus-'));
  const [config] = yaml('prometheus', 'prometheus.yml');
  config.global = {
    ...config.global,
    scrape_interval: '1s',
    scrape_timeout: '1s',
    evaluation_interval: '1s',
  };
  config.rule_files = [join(dir, 'alerts.yml')];
  for (const job of config.scrape_configs as Json[]) {
    if (ALL_APPS.includes(job.job_name)) {
      job.static_configs[0].targets = [targets[job.job_name as AppName]];
    } else {
      job.static_configs[0].targets = [`127.0.0.1:${port}`];
    }
  }
  const [rules] = yaml('prometheus', 'alerts.yml');
  for (const group of rules.groups as Json[]) {
    group.interval = '1s';
  }
  // JSON is YAML.
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config));
  writeFileSync(join(dir, 'alerts.yml'), JSON.stringify(rules));
  const child = spawn(
    prometheusBin!,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--enable-feature=exemplar-storage',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const log: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const query: RunningPrometheus['query'] = async (expr) => {
    const res = (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`).then((r) =>
      r.json(),
    )) as Json;
    if (res.status !== 'success') {
      throw new Error(String(res.error));
    }
    return res.data.result;
  };
  const waitFor: RunningPrometheus['waitFor'] = async (expr, done, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = await query(expr).catch(() => []);
      if (done(result)) {
        return;
      }
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(`Prometheus: ${expr} not satisfied in time\n${log.join('').slice(-2000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  try {
    await waitFor('vector(1)', (result) => result.length === 1);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, query, waitFor, stop };
}

async function scrape(url: string): Promise<Map<string, MetricFamily>> {
  const res = await request(url)
    .get('/metrics')
    .set('accept', 'application/openmetrics-text; version=1.0.0')
    .expect(200);
  return parseExposition(res.text, 'openmetrics');
}

async function waitReady(platform: Platform): Promise<Record<AppName, number>> {
  const status = {} as Record<AppName, number>;
  for (const app of ALL_APPS) {
    const deadline = Date.now() + 15_000;
    for (;;) {
      status[app] = (await request(platform.apps[app].url).get('/health/ready')).status;
      if (status[app] === 200 || Date.now() > deadline) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  return status;
}

describeWithPostgres()('delivery files against the built apps', () => {
  let receiver: OtlpReceiver;
  // A private Redis: rate-limit counts (and blocks) must not leak to or from other suites.
  let redis: PrivateRedis;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    redis = await startRedisServer();
  });

  afterAll(async () => {
    await receiver?.close();
    await redis?.stop();
  });

  describe('with the environment of docker/docker-compose.yml (production mode)', () => {
    let platform: Platform;
    const scrapes = {} as Record<AppName, Map<string, MetricFamily>>;

    beforeAll(async () => {
      const appEnv: Partial<Record<AppName, EnvPatch>> = {};
      for (const app of ALL_APPS) {
        appEnv[app] = localize(composeEnv(app), receiver.url, redis.url);
      }
      // So that 429s (and with them the rejection series) happen within a few requests.
      appEnv['api-gateway']!.RATE_LIMIT_LOGIN_ACCOUNT = '2/300s';
      appEnv['auth-service']!.RATE_LIMIT_SERVICE = '20/60s';
      appEnv['users-service']!.RATE_LIMIT_SERVICE = '20/60s';
      platform = await startPlatform({ database: 'postgres', appEnv });
    });

    afterAll(async () => {
      await platform?.stop();
    });

    it('starts every app and each becomes ready (database, Redis, upstreams)', async () => {
      expect(composeEnv('auth-service')).toMatchObject({ NODE_ENV: 'production' });
      expect(await waitReady(platform)).toEqual({
        'api-gateway': 200,
        'auth-service': 200,
        'users-service': 200,
      });
    });

    it('serves every metric and label the dashboards and alert rules query, per service', async () => {
      const gateway = platform.gatewayUrl;
      const user = await registerAndLogin(gateway, uniqueEmail('delivery'));
      const rotated = await request(gateway)
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: user.refreshToken })
        .expect(200);
      await request(gateway)
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: user.refreshToken })
        .expect(401);
      // The reuse ended that session, access tokens included (CONTRACT §6): a new one reads.
      expect(rotated.body.accessToken).toEqual(expect.any(String));
      const again = await request(gateway)
        .post('/api/v1/auth/login')
        .send({ email: user.email, password: user.password })
        .expect(200);
      const bearer = `Bearer ${again.body.accessToken as string}`;
      for (let i = 0; i < 2; i += 1) {
        await request(gateway)
          .get(`/api/v1/users/${user.id}`)
          .set('authorization', bearer)
          .expect(200);
      }
      const victim = uniqueEmail('delivery-locked');
      for (const expected of [401, 401, 429]) {
        await request(gateway)
          .post('/api/v1/auth/login')
          .send({ email: victim, password: 'not the right password' })
          .expect(expected);
      }
      // Each service's own limiter, called directly as a misbehaving in-cluster client would.
      for (const [app, path] of [
        ['auth-service', '/auth/me'],
        ['users-service', '/users/me'],
      ] as const) {
        let status = 200;
        for (let i = 0; i < 25 && status !== 429; i += 1) {
          status = (await request(platform.apps[app].url).get(path).set('authorization', bearer))
            .status;
        }
        expect({ app, status }).toEqual({ app, status: 429 });
      }
      for (const app of ALL_APPS) {
        scrapes[app] = await scrape(platform.apps[app].url);
      }

      const recorded = new Set(
        (yaml('prometheus', 'alerts.yml')[0].groups as Json[])
          .flatMap((g) => g.rules as Json[])
          .map((r) => r.record as string | undefined)
          .filter(Boolean),
      );
      // Added by Prometheus (the target's labels), not by the apps.
      const targetLabels = new Set(['instance', 'job', 'app']);
      const problems: string[] = [];
      const queries = deliveryQueries();
      for (const query of queries) {
        const use = uses(query);
        const targets = use.services.length ? use.services : [...ALL_APPS];
        const seenLabels = new Set<string>();
        for (const metric of use.metrics) {
          if (metric === 'up' || recorded.has(metric)) {
            continue;
          }
          for (const app of targets) {
            // By sample name: OpenMetrics names a counter's family without `_total`.
            const samples = [...(scrapes[app] ?? new Map()).values()]
              .flatMap((f) => f.samples)
              .filter((s) => s.name === metric);
            if (use.services.length && samples.length === 0) {
              problems.push(`${query.where}: ${app} serves no ${metric} series`);
            }
            samples.forEach((s) => Object.keys(s.labels).forEach((l) => seenLabels.add(l)));
          }
          if (!use.services.length && seenLabels.size === 0) {
            problems.push(`${query.where}: no app serves ${metric}`);
          }
        }
        if (use.metrics.every((m) => m === 'up' || recorded.has(m))) {
          continue;
        }
        for (const label of use.labels) {
          if (!targetLabels.has(label) && !seenLabels.has(label)) {
            problems.push(`${query.where}: label ${label} is on none of its series`);
          }
        }
      }
      expect(queries.length).toBeGreaterThan(40);
      expect(problems).toEqual([]);
    });

    it('labels every series with its service and puts trace_id exemplars where Grafana looks', () => {
      const wrongService = ALL_APPS.flatMap((app) =>
        [...scrapes[app].values()]
          .flatMap((family) => family.samples)
          .filter((sample) => sample.labels.service !== app)
          .map((sample) => `${app}: ${sample.name} service=${sample.labels.service}`),
      );
      expect(wrongService).toEqual([]);

      const [datasources] = yaml('grafana', 'provisioning', 'datasources', 'datasources.yml');
      const prometheus = (datasources.datasources as Json[]).find((d) => d.type === 'prometheus')!;
      const exemplarLabel = prometheus.jsonData.exemplarTraceIdDestinations[0].name as string;
      const exemplars = [...scrapes['api-gateway'].values()]
        .flatMap((family) => family.samples)
        .filter((sample) => sample.name === 'http_server_request_duration_seconds_bucket')
        .map((sample) => sample.exemplar?.labels[exemplarLabel])
        .filter(Boolean);
      expect(exemplars.length).toBeGreaterThan(0);
      expect(exemplars.every((id) => /^[0-9a-f]{32}$/.test(id!))).toBe(true);
    });

    it('docker/healthcheck.js passes on a live app and fails on a closed port', async () => {
      const probe = (port: number): number | null =>
        spawnSync(process.execPath, [join(ROOT, 'docker', 'healthcheck.js')], {
          env: { PATH: process.env.PATH, PORT: String(port) },
          timeout: 10_000,
        }).status;
      expect(probe(platform.apps['users-service'].port)).toBe(0);
      const closed = await holdClosedPort();
      try {
        expect(probe(closed.port)).toBe(1);
      } finally {
        await closed.release();
      }
    });

    describeWithPrometheus()('scraped by a real Prometheus with prometheus/', () => {
      let prometheus: RunningPrometheus;

      beforeAll(async () => {
        const targets = Object.fromEntries(
          ALL_APPS.map((app) => [app, `127.0.0.1:${platform.apps[app].port}`]),
        ) as Record<AppName, string>;
        prometheus = await startPrometheus(targets);
        // Every app scraped at least twice after the story, so rate() has two samples.
        await prometheus.waitFor(
          'count(count_over_time(http_server_request_duration_seconds_count[1m]) >= 2) by (service)',
          (result) => result.length === ALL_APPS.length,
        );
        // ... and the recording rules the overview reads have been evaluated on those samples.
        await prometheus.waitFor(
          'service:http_server_requests:rate5m',
          (result) => result.length === ALL_APPS.length,
        );
        // The SLO rules live in groups of their own, evaluated on their own schedule.
        await prometheus.waitFor('slo:sli_error:ratio_rate1h', (result) => result.length > 0);
      });

      afterAll(async () => {
        await prometheus?.stop();
      });

      it('finds every app up under its job and app labels', async () => {
        const up = await prometheus.query('up{app=~"api-gateway|auth-service|users-service"}');
        expect(up.map((r) => `${r.metric.job}/${r.metric.app}=${r.value[1]}`).sort()).toEqual(
          ALL_APPS.map((app) => `${app}/${app}=1`).sort(),
        );
      });

      it('keeps the trace_id exemplars Grafana links to Jaeger', async () => {
        const now = Math.floor(Date.now() / 1000);
        const res = (await fetch(
          `${prometheus.url}/api/v1/query_exemplars?query=http_server_request_duration_seconds_bucket&start=${now - 600}&end=${now + 60}`,
        ).then((r) => r.json())) as Json;
        const traceIds = (res.data as Json[]).flatMap((series) =>
          (series.exemplars as Json[]).map((e) => e.labels.trace_id as string),
        );
        expect(traceIds.length).toBeGreaterThan(0);
        expect(traceIds.every((id) => /^[0-9a-f]{32}$/.test(id))).toBe(true);
      });

      it('answers every dashboard query with data and evaluates every rule', async () => {
        const problems: string[] = [];
        for (const query of deliveryQueries()) {
          const expr = query.expr.replace(/\$__rate_interval/g, '1m').replace(/\$instance/g, '.+');
          try {
            const result = await prometheus.query(expr);
            if (!query.where.startsWith('alerts.yml') && result.length === 0) {
              problems.push(`${query.where}: no data`);
            }
          } catch (error) {
            problems.push(`${query.where}: ${(error as Error).message}`);
          }
        }
        const rules = (await fetch(`${prometheus.url}/api/v1/rules`).then((r) => r.json())) as Json;
        for (const group of rules.data.groups as Json[]) {
          for (const rule of group.rules as Json[]) {
            if (rule.health !== 'ok' && rule.health !== 'unknown') {
              problems.push(`rule ${rule.name}: ${rule.health} ${rule.lastError ?? ''}`);
            }
          }
        }
        expect(problems).toEqual([]);
      });
    });
  });

  describe('with the environment of k8s/overlays/production (secrets.env filled in)', () => {
    let platform: Platform;
    let objects: Json[];

    beforeAll(async () => {
      objects = renderProduction(PRODUCTION_SECRETS);
      const appEnv: Partial<Record<AppName, EnvPatch>> = {};
      for (const app of ALL_APPS) {
        appEnv[app] = localize(kubernetesEnv(app, objects), receiver.url, redis.url);
      }
      platform = await startPlatform({ database: 'postgres', appEnv });
    });

    afterAll(async () => {
      await platform?.stop();
    });

    it('starts every app ready, and a user can register and log in through the gateway', async () => {
      expect(kubernetesEnv('api-gateway', objects)).toMatchObject({ NODE_ENV: 'production' });
      expect(await waitReady(platform)).toEqual({
        'api-gateway': 200,
        'auth-service': 200,
        'users-service': 200,
      });
      const user = await registerAndLogin(platform.gatewayUrl, uniqueEmail('k8s'));
      await request(platform.gatewayUrl)
        .get('/api/v1/users/me')
        .set('authorization', `Bearer ${user.accessToken}`)
        .expect(200);
    });

    it('refuses to start when secrets.env is the example left unfilled', async () => {
      const example = renderProduction(
        read('k8s', 'overlays', 'production', 'secrets.env.example'),
      );
      const env: EnvPatch = { ...kubernetesEnv('auth-service', example) };
      delete env.DATABASE_URL;
      const result = spawnSync(
        process.execPath,
        [join(ROOT, 'dist', 'apps', 'auth-service', 'main.js')],
        { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 20_000 },
      );
      expect(result.status).toBe(1);
      expect(result.stdout + result.stderr).toMatch(/INTERNAL_TOKEN/);
      expect(result.stdout + result.stderr).toMatch(/JWT_PRIVATE_KEY/);
    });
  });
});

/** Debian's `prometheus-alertmanager` package provides the binary; CI installs it. */
const alertmanagerBin = [
  '/usr/bin/prometheus-alertmanager',
  '/usr/local/bin/alertmanager',
  '/usr/bin/alertmanager',
].find((p) => existsSync(p));

const describeWithAlertmanager = (): jest.Describe => {
  if (alertmanagerBin) {
    return describe;
  }
  if (process.env.CI === 'true') {
    throw new Error(
      'alertmanager is not installed but CI=true: apt-get install prometheus-alertmanager',
    );
  }
  return describe.skip;
};

describeWithAlertmanager()('Alertmanager with prometheus/alertmanager.yml', () => {
  let child: ReturnType<typeof spawn>;
  let url: string;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-alertmanager-'));
    child = spawn(
      alertmanagerBin!,
      [
        `--config.file=${join(ROOT, 'prometheus', 'alertmanager.yml')}`,
        `--storage.path=${dir}`,
        '--web.listen-address=127.0.0.1:0',
        '--cluster.listen-address=',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    // It binds port 0 and logs the address it got.
    url = await new Promise<string>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(
        () => reject(new Error(`alertmanager did not start: ${log}`)),
        15_000,
      );
      child.stderr!.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        const address = /msg="Listening on" address=(\S+)/.exec(log)?.[1];
        if (address) {
          clearTimeout(timer);
          resolve(`http://${address}`);
        }
      });
    });
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** Alerts as Prometheus sends them: its external label `platform` on every one. */
  const alert = (labels: Record<string, string>, endsAt?: Date): Json => ({
    labels: { platform: 'keel', ...labels },
    annotations: { summary: labels.alertname },
    ...(endsAt ? { endsAt: endsAt.toISOString() } : {}),
  });
  const post = async (alerts: Json[]): Promise<void> => {
    const res = await fetch(`${url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts),
    });
    expect(res.status).toBe(200);
  };
  /** alertname -> state (active / suppressed), polled until `done` holds (10 s). */
  const statesUntil = async (
    done: (states: Record<string, string>) => boolean,
  ): Promise<Record<string, string>> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const alerts = (await fetch(`${url}/api/v2/alerts`).then((r) => r.json())) as Json[];
      const states = Object.fromEntries(
        alerts.map((a) => [a.labels.alertname as string, a.status.state as string]),
      );
      if (done(states) || Date.now() > deadline) {
        return states;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  /** An alert's labels as prometheus/alerts.yml gives them (severity, slo), plus `extra`. */
  const fromRules = (
    alertname: string,
    extra: Record<string, string> = {},
  ): Record<string, string> => {
    const rule = (yaml('prometheus', 'alerts.yml')[0].groups as Json[])
      .flatMap((group) => group.rules as Json[])
      .find((r) => r.alert === alertname)!;
    return { alertname, ...(rule.labels as Record<string, string>), ...extra };
  };
  const page = fromRules('KeelAvailabilityBudgetBurn');
  const warning = fromRules('KeelServiceErrorRatioHigh', { service: 'users-service' });
  const sameTicket = fromRules('KeelAvailabilityBudgetBurnSlow');
  const otherTicket = fromRules('KeelAuthLatencyBudgetBurnSlow');

  it('one users-service incident pages once: the SLO page inhibits the symptom and its own ticket', async () => {
    await post([alert(page), alert(warning), alert(sameTicket), alert(otherTicket)]);
    const states = await statesUntil(
      (s) => Object.keys(s).length === 4 && s[warning.alertname] === 'suppressed',
    );
    expect(states).toEqual({
      KeelAvailabilityBudgetBurn: 'active',
      KeelServiceErrorRatioHigh: 'suppressed',
      KeelAvailabilityBudgetBurnSlow: 'suppressed',
      KeelAuthLatencyBudgetBurnSlow: 'active',
    });

    // The page resolves: the warning is shown again.
    await post([alert(page, new Date(Date.now() - 1000))]);
    const after = await statesUntil((s) => s[warning.alertname] === 'active');
    expect(after[warning.alertname]).toBe('active');
    expect(after[sameTicket.alertname]).toBe('active');
  });
});
