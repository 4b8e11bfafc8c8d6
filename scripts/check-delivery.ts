/**
 * Checks the delivery files (docker/, prometheus/, grafana/, k8s/, nest-cli.json) without a
 * Docker engine or a cluster: the generated files match services.json, files parse, names
 * match what the apps really read and export, Prometheus rules pass their unit tests,
 * Alertmanager's config passes amtool, every kustomize overlay renders and validates. Exits
 * non-zero on any failure, and on any check it could not run. The app list comes from the
 * registry (services.json).
 *
 *   npm run check:delivery                 # a missing tool (promtool, amtool, kubectl) or an
 *                                          # unbuilt dist/ is a failure
 *   ALLOW_SKIP=1 npm run check:delivery    # explicit opt-out: report those as SKIPPED and
 *                                          # exit 0 if nothing else failed (never in CI)
 * Tools: apt-get install prometheus prometheus-alertmanager; kubectl (see .ci/run).
 */
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-explicit-any -- parsed YAML and JSON documents are read by their known shape */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { appEnvNames, checkKubernetes, renderKustomize } from './check-k8s';
import { syncRegistry } from './registry/generate';
import { loadRegistry, shortName, pascalName } from './registry/model';
import { opsOf } from './registry/ops';

type Json = any;

const root = path.join(__dirname, '..');
const rel = (...p: string[]): string => path.join(root, ...p);
const read = (...p: string[]): string => fs.readFileSync(rel(...p), 'utf8');

let failed = 0;
let skipped = 0;
const ok = (msg: string): void => console.log(`ok    ${msg}`);
const fail = (msg: string, details: string[] = []): void => {
  failed += 1;
  console.log(`FAIL  ${msg}`);
  for (const d of details) {
    console.log(`      ${d}`);
  }
};
const check = (msg: string, problems: string[]): void =>
  problems.length ? fail(msg, problems) : ok(msg);
/** A check that cannot run fails, unless the caller opted out with ALLOW_SKIP=1. */
const skip = (msg: string): void => {
  if (process.env.ALLOW_SKIP === '1') {
    console.log(`SKIP  ${msg}`);
    skipped += 1;
  } else {
    fail(`${msg} (could not run; ALLOW_SKIP=1 to accept)`);
  }
};
const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
/** Runs a command quietly; on failure prints its output under the FAIL line. */
const run = (label: string, command: string, args: string[]): boolean => {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8' });
  if (result.status === 0) {
    ok(label);
    return true;
  }
  fail(
    label,
    `${result.stdout}${result.stderr}${result.error?.message ?? ''}`.trimEnd().split('\n'),
  );
  return false;
};

// js-yaml (a dev dependency, the same major as eslint's) has no type package installed.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const jsYaml = require('js-yaml') as { loadAll(text: string): unknown[] };
const loadAllYaml = (text: string): Json[] => jsYaml.loadAll(text);
const parseYaml = (file: string): Json[] =>
  loadAllYaml(read(file)).filter((doc) => doc !== null && doc !== undefined);

async function main(): Promise<number> {
  if (process.env.ALLOW_SKIP === '1' && process.env.CI === 'true') {
    console.log(
      'check-delivery: ALLOW_SKIP=1 is refused in CI (CI=true): every check must run there',
    );
    return 1;
  }

  // --- The registry, and the files generated from it ---
  let registry;
  try {
    registry = loadRegistry(rel('services.json'));
    ok('services.json is a valid registry');
  } catch (error) {
    fail('services.json is a valid registry', String((error as Error).message).split('\n'));
    return 1;
  }
  const drift = syncRegistry(registry, root, true);
  check(
    'generated files match services.json (npm run check:registry; npm run sync:registry writes them)',
    [
      ...drift.changed.map((f) => `${f} differs from what the registry produces`),
      ...drift.stale.map((f) => `${f}: its service is not in the registry`),
    ],
  );

  // --- Prometheus: config, rules, rule unit tests (promtool from Debian's `prometheus`) ---
  const promtool = has('promtool');
  if (promtool) {
    run('promtool check config prometheus/prometheus.yml', 'promtool', [
      'check',
      'config',
      'prometheus/prometheus.yml',
    ]);
    run('promtool check rules prometheus/alerts.yml', 'promtool', [
      'check',
      'rules',
      'prometheus/alerts.yml',
    ]);
    run(
      'promtool test rules prometheus/alerts.test.yml prometheus/alerts.registry.test.yml',
      'promtool',
      ['test', 'rules', 'prometheus/alerts.test.yml', 'prometheus/alerts.registry.test.yml'],
    );
  } else {
    skip(
      'promtool checks (config, rules, rule unit tests, PromQL of dashboards): promtool not installed (apt-get install prometheus)',
    );
  }

  // --- Alertmanager: config, and where a page and a warning are routed ---
  if (has('amtool')) {
    run('amtool check-config prometheus/alertmanager.yml', 'amtool', [
      'check-config',
      'prometheus/alertmanager.yml',
    ]);
    const routeOf = (...labels: string[]): string =>
      (
        spawnSync(
          'amtool',
          ['config', 'routes', 'test', '--config.file=prometheus/alertmanager.yml', ...labels],
          { cwd: root, encoding: 'utf8' },
        ).stdout ?? ''
      )
        .trim()
        .split('\n')
        .pop() ?? '';
    const upstream = registry.upstreams()[0]?.name ?? registry.gateway().name;
    check('alertmanager routes: pages to pager, warnings to tickets', [
      ...(routeOf('severity=page', 'slo=gateway-availability') === 'pager'
        ? []
        : ['a page does not go to pager']),
      ...(routeOf('severity=warning', `service=${upstream}`) === 'tickets'
        ? []
        : ['a warning does not go to tickets']),
    ]);
  } else {
    skip('amtool check-config: amtool not installed (apt-get install prometheus-alertmanager)');
  }

  // --- Kubernetes: every overlay renders (kubectl kustomize needs no cluster) ---
  // Rendered from a copy of k8s/: production's git-ignored secrets.env is made from
  // secrets.env.example with dummy values, and one more overlay adds the optional component.
  let renderedDir = '';
  if (has('kubectl')) {
    renderedDir = fs.mkdtempSync(path.join(tmpdir(), 'keel-check-delivery-'));
    renderKustomize(rel('k8s'), renderedDir, (target, ok_, err) =>
      ok_
        ? ok(`kubectl kustomize k8s/${target} renders`)
        : fail(`kubectl kustomize k8s/${target} renders`, err.split('\n')),
    );
  } else {
    skip('kubectl kustomize k8s/overlays/*: kubectl not installed (see .ci/run)');
  }

  try {
    await fileChecks(registry, renderedDir, promtool);
  } finally {
    if (renderedDir) {
      fs.rmSync(renderedDir, { recursive: true, force: true });
    }
  }

  console.log();
  if (failed > 0) {
    console.log(`check-delivery: ${failed} check(s) failed`);
    return 1;
  }
  if (skipped > 0) {
    console.log(
      `check-delivery: no failures, but ${skipped} check(s) SKIPPED (ALLOW_SKIP=1): this is not a full check`,
    );
  } else {
    console.log('check-delivery: all checks ran and passed');
  }
  console.log(
    'Not checked here (needs a Docker engine or a cluster): docker build, compose up, kubectl apply.',
  );
  return 0;
}

async function fileChecks(
  registry: ReturnType<typeof loadRegistry>,
  renderedDir: string,
  promtool: boolean,
): Promise<void> {
  // ---------------------------------------------------------------- what the code has
  const APPS = registry.services.map((s: Json) => s.name);
  const PORTS: Record<string, number> = Object.fromEntries(
    registry.services.map((s: Json) => [s.name, s.port]),
  );
  const GATEWAY = registry.gateway().name;
  const latencySlos = registry.services.filter((s: Json) => s.latencySlo);

  function sourceFiles(dir: string): string[] {
    const out: string[] = [];
    for (const entry of fs.readdirSync(rel(dir), { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        out.push(...sourceFiles(p));
      } else if (/\.ts$/.test(p) && !/\.(e2e-)?spec\.ts$/.test(p)) {
        out.push(p);
      }
    }
    return out;
  }
  const sources = [...sourceFiles('apps'), ...sourceFiles('libs')].filter((f: Json) =>
    f.includes('/src/'),
  );
  const sourceText = sources.map((f: Json) => read(f)).join('\n');

  // Metric names: `name: '...'` in a metric declaration, or the *_METRIC constants.
  const declared = new Set<string>();
  for (const m of sourceText.matchAll(/(?:name:\s*|_METRIC\s*=\s*)'([a-z][a-z0-9_]*)'/g)) {
    declared.add(m[1]);
  }
  const appMetrics = [
    'http_server_request_duration_seconds',
    'http_server_requests_in_flight',
    'gateway_upstream_request_duration_seconds',
    'rate_limit_rejections_total',
    'rate_limit_store_errors_total',
    'auth_login_attempts_total',
    'auth_tokens_issued_total',
    'auth_refresh_reuse_detected_total',
    'auth_password_hash_duration_seconds',
    'cache_requests_total',
    'db_pool_connections',
  ];
  check(
    'the CONTRACT §5 metrics are declared in apps/ and libs/',
    appMetrics
      .filter((m: Json) => !declared.has(m))
      .map((m: Json) => `${m} not found in the source`),
  );
  const histograms = new Set<string>();
  for (const m of sourceText.matchAll(/histogram[^(]*\(\{\s*name:\s*'([a-z0-9_]+)'/g)) {
    histograms.add(m[1]);
  }

  // prom-client's defaults, as this prom-client version names them.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const promClient = require('prom-client');
  const defaultsRegistry = new promClient.Registry();
  promClient.collectDefaultMetrics({ register: defaultsRegistry });
  const defaults: Json[] = defaultsRegistry.getMetricsAsArray();
  for (const metric of defaults) {
    if (metric.constructor.name === 'Histogram') {
      histograms.add(metric.name);
    }
  }
  const known = new Set<string>([...declared, ...defaults.map((m: Json) => m.name), 'up']);

  // Label names per metric: the `labelNames` of the declaration that names it (a literal or a
  // *_METRIC constant), plus the target labels Prometheus adds and `service` (every series).
  const TARGET_LABELS = ['service', 'instance', 'job', 'app'];
  const metricConstants = Object.fromEntries(
    [...sourceText.matchAll(/([A-Z][A-Z0-9_]*_METRIC)\s*=\s*'([a-z0-9_]+)'/g)].map((m: Json) => [
      m[1],
      m[2],
    ]),
  );
  const metricLabels = new Map<string, Set<string>>();
  const addLabels = (metric: string, labels: Iterable<string>): void => {
    const set = metricLabels.get(metric) ?? new Set(TARGET_LABELS);
    for (const l of labels) {
      set.add(l);
    }
    metricLabels.set(metric, set);
  };
  for (const m of sourceText.matchAll(
    /\bname:\s*(?:'([a-z][a-z0-9_]*)'|([A-Z][A-Z0-9_]*_METRIC)\b)/g,
  )) {
    const metric: string | undefined = m[1] ?? metricConstants[m[2]];
    if (!metric) {
      continue;
    }
    let chunk = sourceText.slice(m.index + m[0].length, m.index + m[0].length + 600);
    const end = chunk.search(/\bname:|\}\)/);
    if (end >= 0) {
      chunk = chunk.slice(0, end);
    }
    const names = chunk.match(/labelNames:\s*\[([^\]]*)\]/);
    addLabels(metric, names ? [...names[1].matchAll(/'([a-z_]+)'/g)].map((l: Json) => l[1]) : []);
  }
  for (const metric of defaults) {
    addLabels(metric.name, metric.labelNames ?? []);
  }
  addLabels('up', []);
  const labelNames = new Set([
    'le',
    'quantile',
    ...[...metricLabels.values()].flatMap((set) => [...set]),
  ]);
  // Label values: each must be a string literal in the file that writes that label.
  const literalsIn = (text: string): Set<string> =>
    new Set([...text.matchAll(/'([^'\n]{1,60})'/g)].map((m: Json) => m[1]));
  const valueSources: Record<string, string[]> = {
    service: ['libs/platform/src/config/base-config.ts'],
    app: ['libs/platform/src/config/base-config.ts'],
    result: [
      'apps/auth-service/src/auth/auth.metrics.ts',
      'apps/users-service/src/profiles/metered-profile-cache.service.ts',
    ],
    type: ['apps/auth-service/src/auth/auth.metrics.ts'],
    operation: ['apps/auth-service/src/auth/auth.metrics.ts'],
    cache: ['apps/users-service/src/profiles/profile-cache.service.ts'],
    state: ['libs/observability/src/metrics/db-pool.collector.ts'],
    limiter: ['libs/security/src/throttling/throttling.constants.ts'],
    upstream: ['apps/api-gateway/src/proxy/proxy.service.ts'],
    route: ['libs/observability/src/metrics/metrics.constants.ts', ...sources],
  };
  const labelValues: Record<string, Set<string>> = Object.fromEntries(
    Object.entries(valueSources).map(([label, files]) => [
      label,
      literalsIn(
        files
          .filter((f: Json) => fs.existsSync(rel(f)))
          .map((f: Json) => read(f))
          .join('\n'),
      ),
    ]),
  );
  // The apps name themselves (`service`), their scrape targets (`app`) and the gateway its
  // upstreams (`upstream`) from the registry.
  for (const label of ['service', 'app', 'upstream']) {
    for (const name of APPS) {
      labelValues[label].add(name);
    }
  }

  const envNames = appEnvNames(root, registry);
  const envProblems = (where: string, names: Iterable<string>): string[] =>
    [...names]
      .filter((n) => !envNames.has(n))
      .map((n) => `${where}: ${n} is read by no app (not in the config loaders or CONTRACT §2)`);

  // ---------------------------------------------------------------- YAML parses
  const yamlFiles = [
    'docker/docker-compose.yml',
    'docker/docker-compose.chaos.yml',
    'docker/otel-collector.yml',
    'prometheus/prometheus.yml',
    'prometheus/alerts.yml',
    'prometheus/alertmanager.yml',
    'prometheus/alerts.test.yml',
    'prometheus/alerts.registry.test.yml',
    'grafana/provisioning/datasources/datasources.yml',
    'grafana/provisioning/dashboards/dashboards.yml',
    ...[
      'k8s/base',
      'k8s/overlays/dev',
      'k8s/overlays/production',
      'k8s/components/prometheus-operator',
    ].flatMap((d: Json) =>
      fs
        .readdirSync(rel(d))
        .filter((f: Json) => /\.ya?ml$/.test(f))
        .map((f: Json) => `${d}/${f}`),
    ),
  ];
  const parsed: Record<string, Json[]> = {};
  const yamlProblems: string[] = [];
  for (const file of yamlFiles) {
    try {
      parsed[file] = parseYaml(file);
    } catch (error) {
      yamlProblems.push(`${file}: ${(error as Error).message}`);
    }
  }
  check(`YAML parses (${yamlFiles.length} files)`, yamlProblems);
  const one = (file: string): Json => (parsed[file] ?? [])[0] ?? {};

  // ---------------------------------------------------------------- PromQL
  function promqlUse(expr: string) {
    const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
    const labels = new Set<string>();
    const values: { label: string; op: string; value: string }[] = [];
    const selectors: { metric: string | undefined; labels: string[] }[] = [];
    for (const m of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}/g)) {
      const selector: { metric: string | undefined; labels: string[] } = {
        metric: m[1],
        labels: [],
      };
      for (const l of m[2].matchAll(
        /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g,
      )) {
        selector.labels.push(l[1]);
        values.push({ label: l[1], op: l[2], value: l[3] });
      }
      selectors.push(selector);
    }
    const grouping = new Set<string>();
    for (const m of noStrings.matchAll(
      /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g,
    )) {
      for (const l of m[1]
        .split(',')
        .map((s: Json) => s.trim())
        .filter(Boolean)) {
        grouping.add(l);
      }
    }
    const bare = noStrings
      .replace(/\{[^}]*\}/g, ' ')
      .replace(/\[[^\]]*\]/g, ' ')
      .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
    const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'Inf', 'NaN']);
    const metrics = new Set<string>();
    for (const m of bare.matchAll(
      /(^|[^a-zA-Z0-9_:.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(?!\s*\(|[a-zA-Z0-9_:])/g,
    )) {
      if (!keywords.has(m[2])) {
        metrics.add(m[2]);
      }
    }
    return { metrics, labels, values, selectors, grouping };
  }

  const alertGroups: Json[] = one('prometheus/alerts.yml').groups ?? [];
  const recorded = new Set<string>(
    alertGroups
      .flatMap((g: Json) => g.rules)
      .filter((r: Json) => r.record)
      .map((r: Json) => r.record),
  );
  const exprs: { where: string; expr: string }[] = [];
  for (const g of alertGroups) {
    for (const r of g.rules) {
      exprs.push({ where: `alerts.yml ${r.alert ?? r.record}`, expr: r.expr });
    }
  }
  // A recorded series has the labels its expression groups by plus the rule's own labels.
  for (const r of alertGroups.flatMap((g: Json) => g.rules).filter((x: Json) => x.record)) {
    addLabels(r.record, [...promqlUse(r.expr).grouping, ...Object.keys(r.labels ?? {})]);
    for (const l of Object.keys(r.labels ?? {})) {
      labelNames.add(l);
    }
  }

  const dashboards: Record<string, Json> = {};
  const dashboardProblems: string[] = [];
  for (const file of fs
    .readdirSync(rel('grafana/dashboards'))
    .filter((f: Json) => f.endsWith('.json'))) {
    try {
      dashboards[file] = JSON.parse(read('grafana/dashboards', file));
    } catch (error) {
      dashboardProblems.push(`${file}: ${(error as Error).message}`);
    }
  }
  const datasources: Json[] =
    one('grafana/provisioning/datasources/datasources.yml').datasources ?? [];
  const dsUids = new Set(datasources.map((d: Json) => d.uid));
  const uids = new Set<string>();
  const legendLabels: { where: string; label: string }[] = [];
  for (const [file, board] of Object.entries(dashboards)) {
    if (!board.uid) {
      dashboardProblems.push(`${file}: no uid`);
    }
    if (uids.has(board.uid)) {
      dashboardProblems.push(`${file}: uid ${board.uid} used twice`);
    }
    uids.add(board.uid);
    const ids = new Set<number>();
    const walk = (panels: Json[] | undefined): void => {
      for (const p of panels ?? []) {
        if (ids.has(p.id)) {
          dashboardProblems.push(`${file}: panel id ${p.id} used twice`);
        }
        ids.add(p.id);
        if (!p.gridPos) {
          dashboardProblems.push(`${file}: panel "${p.title}" has no gridPos`);
        }
        if (p.type !== 'row' && !dsUids.has(p.datasource?.uid)) {
          dashboardProblems.push(
            `${file}: panel "${p.title}" uses datasource ${JSON.stringify(p.datasource)}, not a provisioned uid`,
          );
        }
        for (const t of p.targets ?? []) {
          if (!dsUids.has(t.datasource?.uid)) {
            dashboardProblems.push(
              `${file}: "${p.title}" target ${t.refId} has no provisioned datasource uid`,
            );
          }
          exprs.push({ where: `${file} "${p.title}"`, expr: t.expr });
          for (const l of (t.legendFormat ?? '').matchAll(/\{\{\s*([a-zA-Z_]+)\s*\}\}/g)) {
            legendLabels.push({ where: `${file} "${p.title}"`, label: l[1] });
          }
        }
        walk(p.panels);
      }
    };
    walk(board.panels);
    for (const v of board.templating?.list ?? []) {
      exprs.push({
        where: `${file} variable ${v.name}`,
        expr: (v.query?.query ?? v.query ?? '').replace(/^label_values\((.*),\s*\w+\)$/, '$1'),
      });
    }
  }
  const expectedBoards = ['keel-overview.json', ...APPS.map((a) => `keel-${a}.json`)];
  for (const b of expectedBoards) {
    if (!dashboards[b]) {
      dashboardProblems.push(`grafana/dashboards/${b} missing`);
    }
  }
  check(
    `dashboards are valid JSON with unique uids, panel ids and provisioned datasource uids (${Object.keys(dashboards).length})`,
    dashboardProblems,
  );

  const nameProblems: string[] = [];
  const labelProblems: string[] = [];
  for (const { where, expr } of exprs) {
    const use = promqlUse(expr);
    for (const name of use.metrics) {
      const base = name.replace(/_(bucket|count|sum)$/, '');
      const ok =
        known.has(name) ||
        recorded.has(name) ||
        (base !== name && histograms.has(base) && known.has(base));
      if (!ok) {
        nameProblems.push(`${where}: ${name} is exported by no app`);
      }
    }
    // Per metric: a selector's label must be one that metric has (`le` on histogram buckets).
    const labelsOf = (name: string): Set<string> | undefined => {
      const base = name.replace(/_(bucket|count|sum)$/, '');
      const set = metricLabels.get(name) ?? (base !== name ? metricLabels.get(base) : undefined);
      return set && name.endsWith('_bucket') ? new Set([...set, 'le']) : set;
    };
    for (const { metric, labels } of use.selectors) {
      if (!metric) {
        for (const l of labels) {
          if (!labelNames.has(l)) {
            labelProblems.push(`${where}: label ${l} is on no metric`);
          }
        }
        continue;
      }
      const allowed = labelsOf(metric);
      if (!allowed) {
        continue;
      } // unknown metric: reported above
      for (const l of labels) {
        if (!allowed.has(l)) {
          labelProblems.push(
            `${where}: ${metric} has no label ${l} (it has ${[...allowed].join(', ')})`,
          );
        }
      }
    }
    // Grouping labels must be on at least one metric of the same query.
    const used = [...use.metrics]
      .map(labelsOf)
      .filter((set): set is Set<string> => set !== undefined);
    for (const l of use.grouping) {
      if (l !== 'le' && !used.some((set) => set.has(l))) {
        labelProblems.push(`${where}: groups by ${l}, which none of its metrics has`);
      }
    }
    for (const { label, op, value } of use.values) {
      if (!labelValues[label]) {
        continue;
      }
      if (op === '=~' && !/^[A-Za-z0-9_|\-/:]+$/.test(value)) {
        continue;
      }
      for (const v of value.split('|')) {
        if (!labelValues[label].has(v)) {
          labelProblems.push(`${where}: ${label}="${v}" is a value no app writes`);
        }
      }
    }
  }
  for (const { where, label } of legendLabels) {
    if (!labelNames.has(label)) {
      labelProblems.push(`${where}: legend {{${label}}} is on no metric`);
    }
  }
  check(
    `every metric in dashboards and alert rules is one the apps export (${exprs.length} queries)`,
    nameProblems,
  );
  check(
    'every label in those queries is one its metric has, every value one an app writes',
    labelProblems,
  );

  // The queries parse as PromQL: promtool checks them as recording rules (Grafana variables
  // replaced by values Prometheus accepts).
  // JSON is YAML, which promtool reads.
  const promqlRulesFile = path.join(
    fs.mkdtempSync(path.join(tmpdir(), 'keel-promql-')),
    'rules.yml',
  );
  fs.writeFileSync(
    promqlRulesFile,
    JSON.stringify({
      groups: [
        {
          name: 'dashboard-queries',
          rules: exprs
            .filter((e: Json) => e.expr)
            .map((e, i) => ({
              record: `keel:dashboard_query:${i}`,
              expr: e.expr
                .replace(/\$__rate_interval|\$__interval/g, '1m')
                .replace(/\$instance/g, '.+'),
            })),
        },
      ],
    }),
  );

  // ---------------------------------------------------------------- Prometheus config
  {
    const prom = one('prometheus/prometheus.yml');
    const problems: string[] = [];
    const jobs = new Map<string, Json>(
      (prom.scrape_configs ?? []).map((j: Json) => [j.job_name, j]),
    );
    for (const app of APPS) {
      const job = jobs.get(app);
      if (!job) {
        problems.push(`no scrape job ${app}`);
        continue;
      }
      const target = job.static_configs?.[0]?.targets?.[0];
      if (target !== `${app}:${PORTS[app]}`) {
        problems.push(
          `${app}: target ${target}, expected ${app}:${PORTS[app]} (compose service:port)`,
        );
      }
      if ((job.metrics_path ?? '/metrics') !== '/metrics') {
        problems.push(`${app}: metrics_path ${job.metrics_path}`);
      }
      if (job.static_configs?.[0]?.labels?.app !== app) {
        problems.push(
          `${app}: target label app=${app} missing (KeelServiceDown and the dashboards use it)`,
        );
      }
      if (job.honor_labels) {
        problems.push(`${app}: honor_labels would let a target override job/instance`);
      }
      if (job.static_configs?.[0]?.labels?.service) {
        problems.push(
          `${app}: a target label "service" would rename the apps' own service label to exported_service`,
        );
      }
    }
    for (const f of prom.rule_files ?? []) {
      if (!fs.existsSync(rel('prometheus', f))) {
        problems.push(`rule file ${f} not found beside prometheus.yml`);
      }
    }
    const alerts = new Set<string>(
      alertGroups
        .flatMap((g: Json) => g.rules)
        .filter((r: Json) => r.alert)
        .map((r: Json) => r.alert),
    );
    for (const a of [
      'KeelAvailabilityBudgetBurn',
      'KeelAvailabilityBudgetBurnSlow',
      'KeelGatewayNoTraffic',
      'KeelAppTargetsAbsent',
      'KeelAppDown',
      'KeelServiceErrorRatioHigh',
      'KeelRateLimitStoreErrors',
      'KeelDependencyDown',
      'KeelServiceDown',
      ...latencySlos.flatMap((s: Json) =>
        ['BudgetBurn', 'BudgetBurnSlow', 'High'].map(
          (x: Json) => `Keel${pascalName(s)}Latency${x}`,
        ),
      ),
    ]) {
      if (!alerts.has(a)) {
        problems.push(`alert ${a} missing`);
      }
    }
    // SLOs as code: one recording rule per SLO and window, both SLOs.
    const rules: Json[] = alertGroups.flatMap((g: Json) => g.rules);
    for (const slo of [
      'gateway-availability',
      ...latencySlos.map((s: Json) => `${shortName(s)}-latency`),
    ]) {
      for (const w of ['5m', '30m', '1h', '6h', '3d']) {
        if (
          !rules.some(
            (r: Json) => r.record === `slo:sli_error:ratio_rate${w}` && r.labels?.slo === slo,
          )
        ) {
          problems.push(`recording rule slo:sli_error:ratio_rate${w}{slo="${slo}"} missing`);
        }
      }
    }
    for (const app of APPS) {
      if (!rules.some((r: Json) => r.alert && r.expr.includes(`absent(up{app="${app}"})`))) {
        problems.push(`no absent(up{app="${app}"}) alert`);
      }
    }
    const severities = new Set(['page', 'ticket', 'warning', 'info']);
    for (const r of rules.filter((x: Json) => x.alert)) {
      if (!severities.has(r.labels?.severity)) {
        problems.push(
          `${r.alert}: severity ${r.labels?.severity} is not one of ${[...severities].join(', ')} (alertmanager.yml routes on it)`,
        );
      }
      for (const a of ['summary', 'description', 'runbook_url']) {
        if (!r.annotations?.[a]) {
          problems.push(`${r.alert}: no ${a} annotation`);
        }
      }
      const runbook = r.annotations?.runbook_url ?? '';
      if (runbook && !(runbook.startsWith('docs/runbooks/') && fs.existsSync(rel(runbook)))) {
        problems.push(`${r.alert}: runbook_url ${runbook} is not a file in docs/runbooks/`);
      }
    }
    if (!prom.alerting?.alertmanagers?.length) {
      problems.push('prometheus.yml sends alerts to no Alertmanager');
    }
    const am = one('prometheus/alertmanager.yml');
    const inhibits = am.inhibit_rules ?? [];
    if (
      !inhibits.some(
        (i: Json) =>
          (i.source_matchers ?? []).includes('severity="page"') &&
          (i.target_matchers ?? []).includes('severity="warning"'),
      )
    ) {
      problems.push('alertmanager.yml: a page must inhibit the warnings (per-service symptoms)');
    }
    if (
      !prom.global?.external_labels?.platform ||
      !inhibits.every((i: Json) =>
        (i.equal ?? []).every(
          (l: Json) => l === 'platform' || rules.some((r: Json) => r.alert && r.labels?.[l]),
        ),
      )
    ) {
      problems.push(
        'alertmanager.yml: inhibition `equal` labels must exist on the alerts (platform is an external label)',
      );
    }
    const ruleTests: Json[] = [
      'prometheus/alerts.test.yml',
      'prometheus/alerts.registry.test.yml',
    ].flatMap((file) => one(file).tests ?? []);
    const tested = new Set<string>(
      ruleTests.flatMap((t: Json) => (t.alert_rule_test ?? []).map((a: Json) => a.alertname)),
    );
    for (const a of alerts) {
      if (!tested.has(a)) {
        problems.push(`alert ${a} has no promtool unit test`);
      }
    }
    const firing = new Set<string>();
    const quiet = new Set<string>();
    for (const t of ruleTests) {
      for (const a of t.alert_rule_test ?? []) {
        (a.exp_alerts?.length ? firing : quiet).add(a.alertname);
      }
    }
    for (const a of alerts) {
      if (!firing.has(a) || !quiet.has(a)) {
        problems.push(`alert ${a}: tests must show it firing and not firing`);
      }
    }
    check(
      'prometheus.yml scrapes each app on its own port; SLO windows recorded; every alert has severity, summary, description, a runbook, firing and quiet tests; Alertmanager inhibits symptoms',
      problems,
    );
  }

  // ---------------------------------------------------------------- Dockerfile
  {
    const text = read('docker/Dockerfile').replace(/\\\n/g, ' ');
    const lines = text
      .split('\n')
      .map((l: Json) => l.trim())
      .filter((l: Json) => l && !l.startsWith('#'));
    const problems: string[] = [];
    const ignore: string[] | null = fs.existsSync(rel('docker/Dockerfile.dockerignore'))
      ? read('docker/Dockerfile.dockerignore')
          .split('\n')
          .map((l: Json) => l.trim())
          .filter((l: Json) => l && !l.startsWith('#'))
      : null;
    if (!ignore) {
      problems.push('docker/Dockerfile.dockerignore missing');
    }
    const globToRe = (g: string): RegExp =>
      new RegExp(
        '^' +
          g
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*\*\/?/g, '@@ANY@@')
            .replace(/\*/g, '[^/]*')
            .replace(/@@ANY@@/g, '.*') +
          '(/.*)?$',
      );
    const included = (p: string): boolean => {
      let inc = true;
      for (const rule of ignore ?? []) {
        const neg = rule.startsWith('!');
        if (globToRe(neg ? rule.slice(1) : rule).test(p)) {
          inc = neg;
        }
      }
      return inc;
    };
    const anyIncludedUnder = (dir: string): string[] => {
      const files: string[] = [];
      const walk = (d: string): void => {
        for (const e of fs.readdirSync(rel(d), { withFileTypes: true })) {
          const p = path.join(d, e.name);
          if (e.isDirectory()) {
            if (e.name !== 'node_modules') {
              walk(p);
            }
          } else {
            files.push(p);
          }
        }
      };
      walk(dir);
      return files.filter(included);
    };
    for (const line of lines.filter((l: Json) => /^COPY\s/i.test(l) && !/--from=/.test(l))) {
      const parts = line
        .split(/\s+/)
        .slice(1)
        .filter((p: Json) => !p.startsWith('--'));
      for (const src of parts.slice(0, -1)) {
        if (!fs.existsSync(rel(src))) {
          problems.push(`COPY ${src}: not in the repository`);
          continue;
        }
        if (fs.statSync(rel(src)).isDirectory()) {
          if (anyIncludedUnder(src).length === 0) {
            problems.push(`COPY ${src}: everything under it is excluded by the .dockerignore`);
          }
        } else if (!included(src)) {
          problems.push(`COPY ${src}: excluded by docker/Dockerfile.dockerignore`);
        }
      }
    }
    for (const needed of [
      `apps/${GATEWAY}/src/main.ts`,
      'libs/platform/src/index.ts',
      ...APPS.map((a) => `apps/${a}/tsconfig.app.json`),
      'libs/platform/tsconfig.lib.json',
    ]) {
      if (!included(needed)) {
        problems.push(`${needed} is excluded from the build context`);
      }
    }
    for (const spec of ['apps/auth-service/src/config/auth-config.spec.ts']) {
      if (fs.existsSync(rel(spec)) && included(spec)) {
        problems.push(`${spec} should not be in the build context`);
      }
    }
    const froms = lines.filter((l: Json) => /^FROM\s/i.test(l));
    const nodeImage = (text.match(/ARG NODE_IMAGE=(\S+)/) ?? [])[1] ?? '';
    if (!/^node:24[.-]/.test(nodeImage)) {
      problems.push(`base image ${nodeImage}: CONTRACT §1 wants Node.js 24 LTS`);
    }
    if (froms.length < 3) {
      problems.push('not a multi-stage build');
    }
    const runtime = text.slice(text.lastIndexOf('\nFROM '));
    if (!/^USER\s+(node|1000)/m.test(runtime)) {
      problems.push('runtime stage does not switch to a non-root USER');
    }
    if (!/npm ci --omit=dev/.test(text)) {
      problems.push('production dependencies are not installed with npm ci --omit=dev');
    }
    if (!/HEALTHCHECK[\s\S]*healthcheck\.js/.test(runtime)) {
      problems.push('no HEALTHCHECK in the runtime stage');
    }
    if (!/\/health\/live/.test(read('docker/healthcheck.js'))) {
      problems.push('docker/healthcheck.js does not probe /health/live');
    }
    if (!/NODE_ENV=production/.test(runtime) || !/HOST=0\.0\.0\.0/.test(runtime)) {
      problems.push('runtime stage must set NODE_ENV=production and HOST=0.0.0.0');
    }
    if (!/ENV APP=\$\{APP\}/.test(runtime)) {
      problems.push('runtime stage must keep APP as an ENV for CMD');
    }
    if (!/CMD .*exec node .*dist\/apps\/\$\{APP\}\/main\.js/.test(runtime)) {
      problems.push('CMD does not exec node dist/apps/${APP}/main.js');
    }
    // One V8 heap sizing wherever the built apps run: the image, the manifests generated from
    // scripts/registry/ops.ts, `npm start` and the SLA benchmark (docs/performance.md, "Memory").
    const imageNodeOptions = (runtime.match(/ENV NODE_OPTIONS="([^"]*)"/) ?? [])[1];
    if (!imageNodeOptions || !/--max-old-space-size=\d+/.test(imageNodeOptions)) {
      problems.push('runtime stage must set NODE_OPTIONS with a --max-old-space-size ceiling');
    } else {
      const runners: [string, string][] = [
        ['scripts/start.js', `const NODE_OPTIONS = '${imageNodeOptions}';`],
        ['bench/sla.mjs', `'${imageNodeOptions}'`],
        ['docker/docker-compose.yml', `NODE_OPTIONS: '${imageNodeOptions}'`],
        ...APPS.map((app): [string, string] => [
          `k8s/base/${app}.yaml`,
          `- name: NODE_OPTIONS\n              value: "${imageNodeOptions}"`,
        ]),
      ];
      for (const [file, expected] of runners) {
        if (!read(file).includes(expected)) {
          problems.push(`${file} does not run the apps with NODE_OPTIONS "${imageNodeOptions}"`);
        }
      }
    }
    // Where the build puts each app: the path the image copies and runs.
    for (const app of APPS) {
      const tsconfig = JSON.parse(read('apps', app, 'tsconfig.app.json'));
      const out = path.normalize(path.join('apps', app, tsconfig.compilerOptions.outDir));
      if (out !== path.join('dist', 'apps', app)) {
        problems.push(`${app} builds to ${out}, the image expects dist/apps/${app}`);
      }
    }
    // What the bundles require at run time must be in the production dependency closure
    // (`npm ci --omit=dev` leaves out lock entries marked dev).
    const lock = JSON.parse(read('package-lock.json'));
    const builtins = new Set(builtinModules);
    for (const app of APPS) {
      const bundle = rel('dist', 'apps', app, 'main.js');
      if (!fs.existsSync(bundle)) {
        skip(
          `${app}: dist/apps/${app}/main.js not built (npm run build), its requires are not checked`,
        );
        continue;
      }
      const mods = new Set<string>(
        [...fs.readFileSync(bundle, 'utf8').matchAll(/require\("([^"]+)"\)/g)].map(
          (m: Json) => m[1],
        ),
      );
      for (const mod of mods) {
        if (mod.startsWith('node:') || builtins.has(mod) || mod.startsWith('.')) {
          continue;
        }
        const name = mod.startsWith('@') ? mod.split('/').slice(0, 2).join('/') : mod.split('/')[0];
        const entry = lock.packages?.[`node_modules/${name}`];
        if (!entry) {
          problems.push(
            `dist/apps/${app}/main.js requires ${mod}, which is not in package-lock.json`,
          );
        } else if (entry.dev) {
          problems.push(
            `dist/apps/${app}/main.js requires ${mod}, a dev-only package: the image (npm ci --omit=dev) would not have it`,
          );
        }
      }
    }
    const pkg = JSON.parse(read('package.json'));
    for (const native of ['better-sqlite3', '@node-rs/argon2']) {
      if (!pkg.dependencies[native]) {
        problems.push(
          `${native} is not a production dependency any more: revisit the toolchain stage`,
        );
      }
    }
    check(
      'docker/Dockerfile: paths exist and reach the build context, Node 24, non-root, HEALTHCHECK, CMD, one NODE_OPTIONS heap sizing everywhere the apps run, runtime requires are production deps',
      problems,
    );
  }

  // ---------------------------------------------------------------- docker-compose.yml
  {
    const compose = one('docker/docker-compose.yml');
    const services: Record<string, Json> = compose.services ?? {};
    const problems: string[] = [];
    for (const s of [...APPS, 'postgres', 'redis', 'jaeger', 'prometheus', 'grafana']) {
      if (!services[s]) {
        problems.push(`service ${s} missing`);
      }
    }
    for (const [name, svc] of Object.entries<Json>(services)) {
      for (const dep of Object.keys(svc.depends_on ?? {})) {
        if (!services[dep]) {
          problems.push(`${name} depends on unknown ${dep}`);
        }
        const cond = svc.depends_on[dep]?.condition;
        if (cond === 'service_healthy' && !services[dep]?.healthcheck && !APPS.includes(dep)) {
          problems.push(`${name} waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
        }
      }
      for (const v of svc.volumes ?? []) {
        const src: string = typeof v === 'string' ? v.split(':')[0] : v.source;
        if (src.startsWith('.') && !fs.existsSync(path.join(root, 'docker', src))) {
          problems.push(`${name}: mounted ${src} does not exist`);
        }
      }
      if (
        !APPS.includes(name) &&
        !svc.healthcheck &&
        !['jaeger', 'otel-collector'].includes(name)
      ) {
        problems.push(`${name}: no healthcheck`);
      }
      if (!svc.mem_limit && !svc.deploy?.resources?.limits?.memory) {
        problems.push(`${name}: no memory limit`);
      }
      for (const p of svc.ports ?? []) {
        if (name !== GATEWAY && !String(p).startsWith('127.0.0.1:')) {
          problems.push(`${name} published on all interfaces (${p}); only the gateway is public`);
        }
      }
    }
    const published: { app: string; p: string }[] = [];
    for (const app of APPS) {
      const svc = services[app] ?? {};
      const env: Record<string, Json> = svc.environment ?? {};
      const service = registry.service(app);
      if (svc.build?.args?.APP !== app) {
        problems.push(`${app}: build arg APP=${svc.build?.args?.APP}`);
      }
      if (svc.build?.dockerfile !== 'docker/Dockerfile' || svc.build?.context !== '..') {
        problems.push(`${app}: must build docker/Dockerfile with the repository as context`);
      }
      if (String(env.PORT) !== String(PORTS[app])) {
        problems.push(`${app}: PORT ${env.PORT}`);
      }
      if (env.NODE_ENV !== 'production') {
        problems.push(`${app}: NODE_ENV must be production`);
      }
      if (!env.INTERNAL_TOKEN) {
        problems.push(`${app}: INTERNAL_TOKEN unset (refused in production)`);
      }
      if (env.CHAOS_ENABLED !== undefined) {
        problems.push(`${app}: CHAOS_ENABLED is refused in production`);
      }
      if (env.OTEL_EXPORTER_OTLP_ENDPOINT !== 'http://otel-collector:4318') {
        problems.push(
          `${app}: OTEL_EXPORTER_OTLP_ENDPOINT should be http://otel-collector:4318 (the collector forwards to Jaeger)`,
        );
      }
      if (svc.init !== true) {
        problems.push(`${app}: init: true missing (tini as PID 1 forwards signals to node)`);
      }
      if (service.database && !/^postgres:\/\/[^@]+@postgres:5432\//.test(env.DATABASE_URL ?? '')) {
        problems.push(`${app}: DATABASE_URL should point at the postgres service`);
      }
      if (!service.database && env.DATABASE_URL !== undefined) {
        problems.push(`${app}: has no database in services.json but a DATABASE_URL`);
      }
      if (app === GATEWAY && env.REDIS_URL !== 'redis://redis:6379') {
        problems.push(`${app}: REDIS_URL should be redis://redis:6379`);
      }
      for (const callee of service.calls.map((n) => registry.service(n))) {
        if (env[`${callee.envStem}_URL`] !== `http://${callee.name}:${callee.port}`) {
          problems.push(
            `${app}: ${callee.envStem}_URL must be http://${callee.name}:${callee.port} (it calls ${callee.name})`,
          );
        }
      }
      problems.push(...envProblems(`compose ${app}`, Object.keys(env)));
      for (const p of svc.ports ?? []) {
        published.push({ app, p: String(p) });
      }
    }
    for (const s of registry.services) {
      for (const secret of opsOf(s).secrets) {
        if (!(secret.name in (services[s.name]?.environment ?? {}))) {
          problems.push(`${s.name}: ${secret.name} unset (required in production)`);
        }
      }
    }
    for (const { app, p } of published) {
      if (app !== GATEWAY && !p.startsWith('127.0.0.1:')) {
        problems.push(`${app} published on all interfaces (${p}); only the gateway is public`);
      }
    }
    if (
      !(services[GATEWAY]?.ports ?? []).some((p: Json) => String(p).endsWith(`:${PORTS[GATEWAY]}`))
    ) {
      problems.push('the gateway is not published');
    }
    const chaos: Record<string, Json> = one('docker/docker-compose.chaos.yml').services ?? {};
    for (const [name, svc] of Object.entries<Json>(chaos)) {
      if (!APPS.includes(name)) {
        problems.push(`docker-compose.chaos.yml: ${name} is not an app`);
      }
      problems.push(
        ...envProblems(`docker-compose.chaos.yml ${name}`, Object.keys(svc.environment ?? {})),
      );
      if (svc.environment?.CHAOS_ENABLED === 'true' && svc.environment?.NODE_ENV === 'production') {
        problems.push(`docker-compose.chaos.yml ${name}: chaos is refused in production`);
      }
    }
    const promCmd = (services.prometheus?.command ?? []).join(' ');
    if (!promCmd.includes('--enable-feature=exemplar-storage')) {
      problems.push('prometheus: --enable-feature=exemplar-storage missing');
    }
    if (promCmd.includes('--web.enable-lifecycle') || promCmd.includes('--web.enable-admin-api')) {
      problems.push('prometheus: lifecycle / admin API must stay off');
    }
    if (
      !services.alertmanager ||
      !(services.alertmanager.volumes ?? []).some((v: Json) =>
        String(v).startsWith('../prometheus/alertmanager.yml:'),
      )
    ) {
      problems.push('alertmanager: missing or not mounting prometheus/alertmanager.yml');
    }
    const collectorPorts = (services['otel-collector']?.ports ?? []).join(' ');
    for (const p of ['4317', '4318']) {
      if (!collectorPorts.includes(`:${p}`)) {
        problems.push(`otel-collector: OTLP port ${p} not published (apps on the host)`);
      }
    }
    if (!(services.jaeger?.ports ?? []).join(' ').includes(':16686')) {
      problems.push('jaeger: UI 16686 not published');
    }
    if (services.jaeger?.environment?.COLLECTOR_OTLP_ENABLED !== 'true') {
      problems.push('jaeger: COLLECTOR_OTLP_ENABLED must be "true"');
    }
    const collector = one('docker/otel-collector.yml');
    const traces = collector.service?.pipelines?.traces ?? {};
    if (
      !(traces.receivers ?? []).includes('otlp') ||
      (traces.processors ?? [])[0] !== 'memory_limiter'
    ) {
      problems.push(
        'otel-collector.yml: traces must come in over otlp and pass memory_limiter first',
      );
    }
    for (const e of traces.exporters ?? []) {
      if (!collector.exporters?.[e]) {
        problems.push(`otel-collector.yml: exporter ${e} not configured`);
      }
    }
    if (
      !Object.values<Json>(collector.exporters ?? {}).some(
        (e: Json) => e?.endpoint === 'jaeger:4317',
      )
    ) {
      problems.push('otel-collector.yml: nothing exports to jaeger:4317');
    }
    const grafanaEnv = services.grafana?.environment ?? {};
    if (!/^\$\{GRAFANA_ADMIN_PASSWORD:\?/.test(String(grafanaEnv.GF_SECURITY_ADMIN_PASSWORD))) {
      problems.push(
        'grafana: the admin password must be required (${GRAFANA_ADMIN_PASSWORD:?...}), never defaulted',
      );
    }
    if (String(grafanaEnv.GF_AUTH_ANONYMOUS_ENABLED) !== 'false') {
      problems.push('grafana: anonymous access must be off');
    }
    const grafanaPorts: string[] = (services.grafana?.ports ?? []).map(String);
    if (grafanaPorts.some((p: Json) => p.startsWith('3000:'))) {
      problems.push("grafana published on 3000, the gateway's port");
    }
    if (
      !(services.prometheus?.ports ?? []).some((p: Json) => String(p) === '127.0.0.1:9090:9090')
    ) {
      problems.push('prometheus not on 127.0.0.1:9090');
    }
    check(
      'docker/docker-compose.yml: services, healthchecks, depends_on, mounts, production env, ports',
      problems,
    );
  }

  // ---------------------------------------------------------------- Grafana provisioning
  {
    const problems: string[] = [];
    const prom = datasources.find((d: Json) => d.type === 'prometheus');
    const jaeger = datasources.find((d: Json) => d.type === 'jaeger');
    if (!prom || !jaeger) {
      problems.push('Prometheus and Jaeger datasources must both be provisioned');
    }
    const link = prom?.jsonData?.exemplarTraceIdDestinations?.[0];
    if (link?.name !== 'trace_id' || link?.datasourceUid !== jaeger?.uid) {
      problems.push('Prometheus exemplars must link trace_id to the Jaeger datasource uid');
    }
    if (
      !/exemplarLabels|trace_id/.test(read('libs/observability/src/metrics/duration-histogram.ts'))
    ) {
      problems.push('the apps no longer label exemplars trace_id');
    }
    if (prom?.url !== 'http://prometheus:9090' || jaeger?.url !== 'http://jaeger:16686') {
      problems.push('datasource URLs must name the compose services');
    }
    const provider = one('grafana/provisioning/dashboards/dashboards.yml').providers?.[0];
    const compose = one('docker/docker-compose.yml');
    const mounts: string[] = (compose.services?.grafana?.volumes ?? []).map(String);
    if (
      !mounts.some((m: Json) => m.startsWith('../grafana/dashboards:' + provider?.options?.path))
    ) {
      problems.push(
        `dashboards provider path ${provider?.options?.path} is not where compose mounts grafana/dashboards`,
      );
    }
    check(
      'Grafana provisioning: datasources by uid, exemplar link to Jaeger, dashboard path',
      problems,
    );
  }

  if (promtool && fs.existsSync(promqlRulesFile)) {
    run('every dashboard and alert query parses as PromQL (promtool)', 'promtool', [
      'check',
      'rules',
      promqlRulesFile,
    ]);
  }
  fs.rmSync(path.dirname(promqlRulesFile), { recursive: true, force: true });

  // ---------------------------------------------------------------- Kubernetes
  try {
    await checkKubernetes({ root, registry, renderedDir, loadAllYaml, envNames, ok, fail, skip });
  } catch (error) {
    fail(`k8s checks crashed: ${(error as Error).stack}`);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    console.log(`FAIL  check-delivery crashed: ${error.stack}`);
    process.exitCode = 1;
  },
);
