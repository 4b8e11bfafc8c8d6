import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderKustomize } from '../scripts/check-k8s';

/**
 * The registry generator (npm run sync:registry) on a registry with a fourth service: every
 * operations file gets it, Prometheus and kubectl accept the result, and the drift check
 * (npm run check:registry) names a generated file edited by hand. Runs the real CLI on a
 * copy of the repository's delivery folders; the repository itself is never written.
 */

// Generation, three kustomize renders per overlay set and promtool on a busy machine.
jest.setTimeout(120_000);

const ROOT = join(__dirname, '..');
// js-yaml (a dev dependency) has no type package installed.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { loadAll } = require('js-yaml') as { loadAll(text: string): unknown[] };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const ORDERS = {
  name: 'orders-service',
  kind: 'service',
  port: 3003,
  database: true,
  calls: ['auth-service'],
  latencySlo: { thresholdSeconds: 0.25, objective: 0.995 },
  routes: [{ method: 'GET', path: '/orders', auth: 'bearer' }],
};

/** A copy of the delivery folders and nest-cli.json, with `registry` as its services.json. */
function workspace(registry: Json): string {
  const dir = mkdtempSync(join(tmpdir(), 'keel-registry-'));
  for (const entry of ['docker', 'prometheus', 'grafana', 'k8s', 'nest-cli.json']) {
    cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  }
  writeFileSync(join(dir, 'services.json'), JSON.stringify(registry, null, 2));
  return dir;
}

function withOrders(): Json {
  const registry = JSON.parse(readFileSync(join(ROOT, 'services.json'), 'utf8')) as Json;
  registry.services.push(ORDERS);
  const gateway = (registry.services as Json[]).find((s) => s.kind === 'gateway')!;
  gateway.calls.push('orders-service');
  return registry;
}

/** npm run sync:registry (or check:registry with `--check`) against `dir`. */
function sync(dir: string, ...args: string[]) {
  return spawnSync(
    process.execPath,
    [
      '-r',
      join(ROOT, 'scripts/ts-register.js'),
      join(ROOT, 'scripts/registry-sync.ts'),
      '--registry',
      join(dir, 'services.json'),
      '--root',
      dir,
      ...args,
    ],
    { encoding: 'utf8' },
  );
}

const read = (dir: string, file: string): string => readFileSync(join(dir, file), 'utf8');
const yaml = (dir: string, file: string): Json[] =>
  loadAll(read(dir, file)).filter(Boolean) as Json[];

describe('npm run sync:registry with a fourth service (orders-service)', () => {
  let dir: string;

  beforeAll(() => {
    dir = workspace(withOrders());
    const result = sync(dir);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds its project to nest-cli.json and keeps the three libraries', () => {
    const nest = JSON.parse(read(dir, 'nest-cli.json')) as Json;
    expect(nest.projects['orders-service']).toEqual({
      type: 'application',
      root: 'apps/orders-service',
      entryFile: 'main',
      sourceRoot: 'apps/orders-service/src',
      compilerOptions: { tsConfigPath: 'apps/orders-service/tsconfig.app.json' },
    });
    expect(Object.keys(nest.projects)).toEqual([
      'api-gateway',
      'auth-service',
      'users-service',
      'orders-service',
      'observability',
      'security',
      'platform',
    ]);
  });

  it('gives it a compose service with its port, database, callee URLs and start-up order', () => {
    const [compose] = yaml(dir, 'docker/docker-compose.yml');
    const orders = compose.services['orders-service'];
    expect(orders.build.args.APP).toBe('orders-service');
    expect(orders.mem_limit).toBe('256m');
    expect(orders.init).toBe(true);
    expect(orders.environment).toMatchObject({
      PORT: '3003',
      NODE_ENV: 'production',
      AUTH_SERVICE_URL: 'http://auth-service:3001',
      DATABASE_URL: 'postgres://keel:keel@postgres:5432/keel_orders',
    });
    expect(orders.environment.USERS_SERVICE_URL).toBeUndefined();
    expect(orders.ports).toEqual(['127.0.0.1:3003:3003']);
    expect(Object.keys(orders.depends_on)).toEqual(['postgres', 'auth-service', 'otel-collector']);
    // The gateway calls it, so it has its URL and waits for it.
    const gateway = compose.services['api-gateway'];
    expect(gateway.environment.ORDERS_SERVICE_URL).toBe('http://orders-service:3003');
    expect(gateway.depends_on['orders-service']).toEqual({ condition: 'service_healthy' });
    const [chaos] = yaml(dir, 'docker/docker-compose.chaos.yml');
    expect(chaos.services['orders-service'].environment.CHAOS_ENABLED).toBe('true');
  });

  it('creates its PostgreSQL database, in compose and in the k8s dev overlay', () => {
    for (const file of [
      'docker/postgres-init.sql',
      'k8s/overlays/dev/generated/postgres-init.sql',
    ]) {
      expect(read(dir, file)).toMatch(/^CREATE DATABASE keel_orders;$/m);
      expect(read(dir, file)).toMatch(/^CREATE DATABASE keel_auth;$/m);
    }
  });

  it('scrapes it, alerts on it, and Prometheus accepts the config and the rules', () => {
    const [prom] = yaml(dir, 'prometheus/prometheus.yml');
    const job = (prom.scrape_configs as Json[]).find((j) => j.job_name === 'orders-service')!;
    expect(job.static_configs).toEqual([
      { targets: ['orders-service:3003'], labels: { app: 'orders-service' } },
    ]);
    const [alerts] = yaml(dir, 'prometheus/alerts.yml');
    const rules = (alerts.groups as Json[]).flatMap((g) => g.rules as Json[]);
    const alert = (name: string) => rules.find((r) => r.alert === name)!;
    expect(alert('KeelAppTargetsAbsent').expr).toContain('absent(up{app="orders-service"})');
    expect(alert('KeelAppDown').expr).toContain('orders-service');
    expect(alert('KeelServiceDown').expr).toContain('orders-service');
    // Its latency SLO: five windows, two burn-rate alerts and a p95 warning, from the registry.
    const windows = rules.filter((r) => r.labels?.slo === 'orders-latency' && r.record);
    expect(windows.map((r) => r.record)).toEqual(
      ['5m', '30m', '1h', '6h', '3d'].map((w) => `slo:sli_error:ratio_rate${w}`),
    );
    expect(windows[0].expr).toContain('service="orders-service",le="0.25"');
    expect(alert('KeelOrdersLatencyBudgetBurn').expr).toContain('(14.4 * 0.005)');
    expect(alert('KeelOrdersLatencyBudgetBurnSlow').labels.severity).toBe('ticket');
    expect(alert('KeelOrdersLatencyHigh').expr).toContain('> 0.25');
    // The existing SLO and alerts stay as they were.
    expect(alert('KeelAuthLatencyBudgetBurn').expr).toContain('(14.4 * 0.01)');
    const [registryTests] = yaml(dir, 'prometheus/alerts.registry.test.yml');
    expect(
      (registryTests.tests as Json[]).map(
        (t) => t.alert_rule_test[1].exp_alerts[0].exp_labels.app as string,
      ),
    ).toEqual(['api-gateway', 'auth-service', 'users-service', 'orders-service']);

    const promtool = (...args: string[]) =>
      spawnSync('promtool', args, { cwd: dir, encoding: 'utf8' });
    const rulesCheck = promtool('check', 'rules', 'prometheus/alerts.yml');
    expect(rulesCheck.stdout + rulesCheck.stderr).toContain('SUCCESS');
    expect(rulesCheck.status).toBe(0);
    expect(promtool('check', 'config', 'prometheus/prometheus.yml').status).toBe(0);
    // The hand-written rule tests, and the generated per-app ones (now four apps), pass.
    const tests = promtool(
      'test',
      'rules',
      'prometheus/alerts.test.yml',
      'prometheus/alerts.registry.test.yml',
    );
    expect(tests.stdout + tests.stderr).toContain('SUCCESS');
    expect(tests.status).toBe(0);
  });

  it('writes its dashboard and puts it on the overview', () => {
    const board = JSON.parse(read(dir, 'grafana/dashboards/keel-orders-service.json')) as Json;
    expect(board.uid).toBe('keel-orders-service');
    const titles = (board.panels as Json[]).map((p) => p.title as string);
    expect(titles).toEqual(
      expect.arrayContaining(['Request rate by route', 'Database pool', 'CPU']),
    );
    const exprs = (board.panels as Json[]).flatMap((p) =>
      ((p.targets ?? []) as Json[]).map((t) => t.expr as string),
    );
    expect(
      exprs.every((e) => !e.includes('service=') || e.includes('service="orders-service"')),
    ).toBe(true);
    const overview = JSON.parse(read(dir, 'grafana/dashboards/keel-overview.json')) as Json;
    expect((overview.panels as Json[]).map((p) => p.title)).toContain('orders-service up');
    // The k8s dev overlay's Grafana gets the same file.
    expect(read(dir, 'k8s/overlays/dev/generated/dashboards/keel-orders-service.json')).toBe(
      read(dir, 'grafana/dashboards/keel-orders-service.json'),
    );
  });

  it('deploys it in every k8s overlay, and the rendered objects pass the delivery checks', async () => {
    const rendered = mkdtempSync(join(tmpdir(), 'keel-registry-k8s-'));
    try {
      const renderErrors: string[] = [];
      renderKustomize(join(dir, 'k8s'), rendered, (target, ok, stderr) => {
        if (!ok) {
          renderErrors.push(`${target}: ${stderr}`);
        }
      });
      expect(renderErrors).toEqual([]);
      const objects = loadAll(readFileSync(join(rendered, 'production.yaml'), 'utf8')) as Json[];
      const find = (kind: string, name: string) =>
        objects.find((o) => o.kind === kind && o.metadata.name === name)!;
      const deployment = find('Deployment', 'orders-service');
      const container = deployment.spec.template.spec.containers[0];
      expect(container.ports).toEqual([{ name: 'http', containerPort: 3003 }]);
      const env = new Map((container.env as Json[]).map((e) => [e.name as string, e]));
      expect(env.get('PORT')).toEqual({ name: 'PORT', value: '3003' });
      expect(env.get('DATABASE_URL')?.valueFrom.secretKeyRef.key).toBe('ORDERS_DATABASE_URL');
      expect(deployment.spec.replicas).toBe(2);
      expect(find('Service', 'orders-service').spec.ports[0].port).toBe(3003);
      const config = objects.find(
        (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('keel-config-'),
      )!;
      expect(config.data.ORDERS_SERVICE_URL).toBe('http://orders-service:3003');
      // NetworkPolicies from `calls`: it reaches auth-service; auth-service and the gateway
      // let it in / reach it; users-service (which it does not call) does not.
      const policy = (name: string) => find('NetworkPolicy', name).spec;
      const egressTo = (name: string) =>
        (policy(name).egress as Json[]).flatMap((e) =>
          ((e.to ?? []) as Json[]).map(
            (t) => t.podSelector?.matchLabels?.['app.kubernetes.io/name'] as string,
          ),
        );
      const ingressFrom = (name: string) =>
        (policy(name).ingress as Json[]).flatMap((i) =>
          (i.from as Json[]).map(
            (f) => f.podSelector?.matchLabels?.['app.kubernetes.io/name'] as string,
          ),
        );
      expect(egressTo('orders-service')).toEqual(['auth-service']);
      expect(ingressFrom('orders-service')).toContain('api-gateway');
      expect(ingressFrom('auth-service')).toContain('orders-service');
      expect(ingressFrom('users-service')).not.toContain('orders-service');
      expect(egressTo('api-gateway')).toContain('orders-service');
      const dev = loadAll(readFileSync(join(rendered, 'dev.yaml'), 'utf8')) as Json[];
      const devSecret = dev.find(
        (o) => o.kind === 'Secret' && o.metadata.name.startsWith('keel-secrets-'),
      )!;
      expect(Buffer.from(devSecret.data.ORDERS_DATABASE_URL as string, 'base64').toString()).toBe(
        'postgres://keel:keel@postgres:5432/keel_orders',
      );

      // What check-delivery checks of the rendered overlays (schemas, Pod Security, env
      // names, Secret keys, probes, ports, policies...), with the registry of four.
      const checked = spawnSync(
        process.execPath,
        [
          '-r',
          join(ROOT, 'scripts/ts-register.js'),
          join(ROOT, 'scripts/check-k8s.ts'),
          '--root',
          dir,
        ],
        { encoding: 'utf8' },
      );
      expect(checked.stdout.split('\n').filter((line) => !line.startsWith('ok '))).toEqual(['']);
      expect(checked.stdout).toContain('ok    k8s production: hashed ConfigMaps/Secrets');
      expect(checked.status).toBe(0);
    } finally {
      rmSync(rendered, { recursive: true, force: true });
    }
  });

  it('leaves nothing for the drift check, which fails naming a file edited by hand', () => {
    const clean = sync(dir, '--check');
    expect(clean.status).toBe(0);
    const manifest = join(dir, 'k8s/base/orders-service.yaml');
    const generated = readFileSync(manifest, 'utf8');
    writeFileSync(manifest, generated.replace('replicas: 2', 'replicas: 3'));
    const board = join(dir, 'grafana/dashboards/keel-overview.json');
    writeFileSync(
      board,
      readFileSync(board, 'utf8').replace('"refresh": "30s"', '"refresh": "5s"'),
    );
    try {
      const drift = sync(dir, '--check');
      expect(drift.status).toBe(1);
      expect(drift.stderr).toContain('k8s/base/orders-service.yaml');
      expect(drift.stderr).toContain('grafana/dashboards/keel-overview.json');
      expect(drift.stderr).not.toContain('k8s/base/auth-service.yaml');
      // --check writes nothing.
      expect(readFileSync(manifest, 'utf8')).toContain('replicas: 3');
    } finally {
      sync(dir);
    }
    expect(readFileSync(manifest, 'utf8')).toBe(generated);
    expect(sync(dir, '--check').status).toBe(0);
  });
});

describe('npm run sync:registry when a service leaves the registry', () => {
  it('reports its generated files as stale, then removes them', () => {
    const dir = workspace(withOrders());
    try {
      expect(sync(dir).status).toBe(0);
      writeFileSync(join(dir, 'services.json'), readFileSync(join(ROOT, 'services.json'), 'utf8'));
      const drift = sync(dir, '--check');
      expect(drift.status).toBe(1);
      expect(drift.stderr).toContain(
        'k8s/base/orders-service.yaml (its service is not in the registry)',
      );
      expect(drift.stderr).toContain('grafana/dashboards/keel-orders-service.json');
      expect(sync(dir).status).toBe(0);
      expect(existsSync(join(dir, 'k8s/base/orders-service.yaml'))).toBe(false);
      expect(
        existsSync(join(dir, 'k8s/overlays/dev/generated/dashboards/keel-orders-service.json')),
      ).toBe(false);
      // Back to the repository's own files, byte for byte.
      for (const file of [
        'docker/docker-compose.yml',
        'prometheus/alerts.yml',
        'k8s/base/networkpolicy.yaml',
        'nest-cli.json',
      ]) {
        expect(read(dir, file)).toBe(read(ROOT, file));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an invalid registry and names the problem', () => {
    const registry = withOrders();
    (registry.services as Json[])[3].calls = ['billing-service'];
    const dir = workspace(registry);
    try {
      const result = sync(dir, '--check');
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain('orders-service: calls unknown service billing-service');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
