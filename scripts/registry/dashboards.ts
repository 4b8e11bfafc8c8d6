import { type RegistryService, type ServiceRegistry } from './model';

/**
 * grafana/dashboards/*.json: one dashboard per registry service and a cross-service
 * overview (formerly grafana/generate-dashboards.py). Every service gets traffic, latency
 * and runtime panels, and a database pool panel when it has a database; the gateway and
 * services with panels of their own (SERVICE_PANELS) get those between them.
 */

type Json = Record<string, unknown>;

const PROM = { type: 'prometheus', uid: 'keel-prometheus' };
const RATE = '$__rate_interval';

/** Places panels on Grafana's 24-column grid, two or three to a row. */
class Layout {
  readonly panels: Json[] = [];
  private y = 0;
  private x = 0;
  private nextId = 1;
  private lastHeight = 8;

  row(title: string): void {
    this.newline();
    this.panels.push({
      type: 'row',
      title,
      id: this.id(),
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y: this.y },
      panels: [],
    });
    this.y += 1;
  }

  add(panel: Json, w = 12, h = 8): void {
    if (this.x + w > 24) {
      this.newline();
    }
    panel.id = this.id();
    panel.gridPos = { h, w, x: this.x, y: this.y };
    this.panels.push(panel);
    this.x += w;
    this.lastHeight = h;
  }

  private newline(): void {
    if (this.x > 0) {
      this.y += this.lastHeight;
      this.x = 0;
    }
  }

  private id(): number {
    this.nextId += 1;
    return this.nextId - 1;
  }
}

function target(expr: string, legend: string, ref = 'A', exemplar = false): Json {
  return { refId: ref, datasource: PROM, expr, legendFormat: legend, exemplar, range: true };
}

function timeseries(
  title: string,
  targets: Json[],
  unit = 'short',
  description = '',
  stack = false,
  minZero = true,
): Json {
  const defaults: Json = {
    unit,
    custom: { fillOpacity: 10, showPoints: 'never', stacking: { mode: stack ? 'normal' : 'none' } },
  };
  if (minZero) {
    defaults.min = 0;
  }
  return {
    type: 'timeseries',
    title,
    description,
    datasource: PROM,
    fieldConfig: { defaults, overrides: [] },
    options: {
      legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
    targets,
  };
}

function stat(title: string, expr: string, unit: string, description: string, steps: Json[]): Json {
  return {
    type: 'stat',
    title,
    description,
    datasource: PROM,
    fieldConfig: { defaults: { unit, thresholds: { mode: 'absolute', steps } }, overrides: [] },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'background',
      graphMode: 'area',
      textMode: 'auto',
    },
    targets: [target(expr, '')],
  };
}

/** Label matchers of one service, narrowed to the instances picked in the dashboard. */
function sel(service: string, extra = ''): string {
  return `{service="${service}", instance=~"$instance"${extra ? `, ${extra}` : ''}}`;
}

function httpPanels(layout: Layout, service: string): void {
  const s = sel(service);
  layout.row('Traffic');
  layout.add(
    timeseries(
      'Request rate by route',
      [
        target(
          `sum by (method, route) (rate(http_server_request_duration_seconds_count${s}[${RATE}]))`,
          '{{method}} {{route}}',
        ),
      ],
      'reqps',
      'Requests answered per second (operational routes /metrics and /health/* excluded).',
    ),
    8,
  );
  layout.add(
    timeseries(
      'Responses by status',
      [
        target(
          `sum by (status_code) (rate(http_server_request_duration_seconds_count${s}[${RATE}]))`,
          '{{status_code}}',
        ),
      ],
      'reqps',
      '499: the client went away before the response.',
      true,
    ),
    8,
  );
  const errors = sel(service, 'status_code=~"5.."');
  // `or ... * 0`: 0 rather than "no data" while nothing fails.
  const total = `sum(rate(http_server_request_duration_seconds_count${s}[5m]))`;
  const byRoute = `sum by (route) (rate(http_server_request_duration_seconds_count${s}[5m]))`;
  layout.add(
    timeseries(
      'Error ratio (5xx)',
      [
        target(
          `(sum(rate(http_server_request_duration_seconds_count${errors}[5m])) or ${total} * 0) / ${total}`,
          'all routes',
        ),
        target(
          `(sum by (route) (rate(http_server_request_duration_seconds_count${errors}[5m])) or ${byRoute} * 0) / ${byRoute}`,
          '{{route}}',
          'B',
        ),
      ],
      'percentunit',
      'Share of 5xx over 5 minutes; KeelServiceErrorRatioHigh warns above 5%.',
    ),
    8,
  );
  layout.row('Latency');
  for (const [q, name] of [
    ['0.5', 'p50'],
    ['0.95', 'p95'],
    ['0.99', 'p99'],
  ]) {
    layout.add(
      timeseries(
        `${name} latency by route`,
        [
          target(
            `histogram_quantile(${q}, sum by (route, le) (rate(http_server_request_duration_seconds_bucket${s}[${RATE}])))`,
            '{{route}}',
            'A',
            true,
          ),
        ],
        's',
        'Exemplar dots carry trace_id: click one to open the trace in Jaeger.',
      ),
      8,
    );
  }
  layout.add(
    timeseries(
      'Requests in flight',
      [target(`sum by (instance) (http_server_requests_in_flight${s})`, '{{instance}}')],
      'short',
    ),
    12,
  );
  layout.add(
    timeseries(
      'Rate-limit rejections (429)',
      [
        target(
          `sum by (limiter, route) (rate(rate_limit_rejections_total${s}[${RATE}]))`,
          '{{limiter}} {{route}}',
        ),
      ],
      'reqps',
      'Requests refused by a limiter (gateway: global, auth, login-account; services: service).',
    ),
    12,
  );
}

function runtimePanels(layout: Layout, service: string): void {
  const s = sel(service);
  layout.row('Runtime (Node.js)');
  layout.add(
    timeseries(
      'CPU',
      [target(`rate(process_cpu_seconds_total${s}[${RATE}])`, '{{instance}}')],
      'percentunit',
    ),
    6,
  );
  layout.add(
    timeseries(
      'Resident memory',
      [target(`process_resident_memory_bytes${s}`, '{{instance}}')],
      'bytes',
    ),
    6,
  );
  layout.add(
    timeseries('Heap used', [target(`nodejs_heap_size_used_bytes${s}`, '{{instance}}')], 'bytes'),
    6,
  );
  layout.add(
    timeseries(
      'Event loop lag p99',
      [target(`nodejs_eventloop_lag_p99_seconds${s}`, '{{instance}}')],
      's',
    ),
    6,
  );
}

function dbPoolPanel(layout: Layout, service: string): void {
  layout.add(
    timeseries(
      'Database pool',
      [target(`sum by (state) (db_pool_connections${sel(service)})`, '{{state}}')],
      'short',
      'Connections by state; "waiting" above 0 means requests queue for a connection ' +
        '(raise DB_POOL_SIZE or find slow queries).',
      true,
    ),
    12,
  );
}

function gatewayPanels(layout: Layout, service: string): void {
  const s = sel(service);
  layout.row('Upstreams');
  layout.add(
    timeseries(
      'Upstream p95 latency',
      [
        target(
          `histogram_quantile(0.95, sum by (upstream, le) (rate(gateway_upstream_request_duration_seconds_bucket${s}[${RATE}])))`,
          '{{upstream}}',
          'A',
          true,
        ),
      ],
      's',
      'Time from the gateway to an upstream and back.',
    ),
    8,
  );
  layout.add(
    timeseries(
      'Upstream calls by status',
      [
        target(
          `sum by (upstream, status_code) (rate(gateway_upstream_request_duration_seconds_count${s}[${RATE}]))`,
          '{{upstream}} {{status_code}}',
        ),
      ],
      'reqps',
      'status_code "none": no answer (refused, timed out, reset): the gateway answered 502/504.',
    ),
    8,
  );
  const routed = sel(service, 'route!="unmatched"');
  layout.add(
    timeseries(
      'Gateway overhead (p95 total - p95 upstream)',
      [
        target(
          `histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_seconds_bucket${routed}[${RATE}])))` +
            ` - histogram_quantile(0.95, sum by (le) (rate(gateway_upstream_request_duration_seconds_bucket${s}[${RATE}])))`,
          'overhead',
        ),
      ],
      's',
      'Rough: the difference of two quantiles is not a quantile.',
      false,
      false,
    ),
    8,
  );
  layout.add(
    timeseries(
      'Upstream connections',
      [
        target(
          `sum by (upstream, state) (gateway_upstream_connections${s})`,
          '{{upstream}} {{state}}',
        ),
      ],
      'short',
      'Keep-alive connections per upstream (busy, idle) and requests waiting for one; ' +
        '"waiting" above 0 means the upstream is slower than the traffic.',
      true,
    ),
    12,
  );
  layout.add(
    timeseries(
      'Response compression',
      [
        target(
          `sum(rate(gateway_response_compression_bytes_total${sel(service, 'stage="compressed"')}[${RATE}]))` +
            ` / sum(rate(gateway_response_compression_bytes_total${sel(service, 'stage="uncompressed"')}[${RATE}]))`,
          'compressed / uncompressed bytes',
        ),
      ],
      'percentunit',
      'Size of the answers the gateway compressed, as a share of their size before ' +
        '(gateway_response_compression_total counts them by coding).',
    ),
    12,
  );
  layout.row('Rate limiting');
  layout.add(
    timeseries(
      'Rejections by limiter',
      [target(`sum by (limiter) (rate(rate_limit_rejections_total${s}[${RATE}]))`, '{{limiter}}')],
      'reqps',
    ),
    12,
  );
  layout.add(
    timeseries(
      'Rate-limit store errors (Redis failed, memory fallback)',
      [
        target(
          `sum by (instance) (increase(rate_limit_store_errors_total${s}[5m]))`,
          '{{instance}}',
        ),
      ],
      'short',
      'Above 0: limits are counted per replica. KeelRateLimitStoreErrors fires.',
    ),
    12,
  );
}

function authPanels(layout: Layout, service: string, registry: ServiceRegistry): void {
  const s = sel(service);
  layout.row('Authentication');
  // Not narrowed to auth-service: `rate_limited` is counted by the gateway, whose login
  // limiters refuse the attempt before it reaches auth-service.
  layout.add(
    timeseries(
      'Login attempts by result',
      [
        target(
          `sum by (result) (rate(auth_login_attempts_total{service=~"${service}|${registry.gateway().name}"}[${RATE}]))`,
          '{{result}}',
        ),
      ],
      'reqps',
      'success and invalid_credentials from auth-service (all its instances), rate_limited from ' +
        "the gateway's login limiters.",
      true,
    ),
    8,
  );
  layout.add(
    timeseries(
      'Tokens issued',
      [target(`sum by (type) (rate(auth_tokens_issued_total${s}[${RATE}]))`, '{{type}}')],
      'reqps',
    ),
    8,
  );
  layout.add(
    timeseries(
      'Refresh-token reuse detected',
      [target(`sum(increase(auth_refresh_reuse_detected_total${s}[5m]))`, 'sessions revoked')],
      'short',
      'A rotated refresh token presented again; its session was revoked.',
    ),
    8,
  );
  layout.add(
    timeseries(
      'Password hashing p50 / p95',
      [
        target(
          `histogram_quantile(0.5, sum by (operation, le) (rate(auth_password_hash_duration_seconds_bucket${s}[${RATE}])))`,
          'p50 {{operation}}',
          'A',
          true,
        ),
        target(
          `histogram_quantile(0.95, sum by (operation, le) (rate(auth_password_hash_duration_seconds_bucket${s}[${RATE}])))`,
          'p95 {{operation}}',
          'B',
          true,
        ),
      ],
      's',
      'argon2id hash (register) and verify (login). Dominates login latency.',
    ),
    12,
  );
  dbPoolPanel(layout, service);
}

function usersPanels(layout: Layout, service: string): void {
  const s = sel(service);
  layout.row('Profile cache and database');
  const hits = sel(service, 'cache="profile", result="hit"');
  const lookups = sel(service, 'cache="profile"');
  layout.add(
    timeseries(
      'Profile cache hit ratio',
      [
        target(
          `sum(rate(cache_requests_total${hits}[5m])) / sum(rate(cache_requests_total${lookups}[5m]))`,
          'hit ratio',
        ),
      ],
      'percentunit',
      'Public profiles (GET /users/:id) served from memory.',
    ),
    8,
  );
  layout.add(
    timeseries(
      'Cache lookups',
      [
        target(
          `sum by (cache, result) (rate(cache_requests_total${s}[${RATE}]))`,
          '{{cache}} {{result}}',
        ),
      ],
      'reqps',
      '',
      true,
    ),
    8,
  );
  layout.add(
    timeseries(
      'Database pool',
      [target(`sum by (state) (db_pool_connections${s})`, '{{state}}')],
      'short',
      '"waiting" above 0: requests queue for a connection.',
      true,
    ),
    8,
  );
}

/** Panels of the services' own metrics, by service name. */
const SERVICE_PANELS: Record<
  string,
  (layout: Layout, service: string, registry: ServiceRegistry) => void
> = {
  'auth-service': authPanels,
  'users-service': usersPanels,
};

function ownPanels(layout: Layout, service: RegistryService, registry: ServiceRegistry): void {
  const own = SERVICE_PANELS[service.name];
  if (own) {
    own(layout, service.name, registry);
  } else if (service.kind === 'gateway') {
    gatewayPanels(layout, service.name);
  } else if (service.database) {
    layout.row('Database');
    dbPoolPanel(layout, service.name);
  }
}

function serviceDashboard(service: RegistryService, registry: ServiceRegistry): Json {
  const layout = new Layout();
  httpPanels(layout, service.name);
  ownPanels(layout, service, registry);
  runtimePanels(layout, service.name);
  return dashboard(
    `keel-${service.name}`,
    `Keel / ${service.name}`,
    layout.panels,
    [service.name],
    service.name,
  );
}

function overview(registry: ServiceRegistry): Json {
  const layout = new Layout();
  const apps = registry.services.map((s) => s.name);
  const slos = registry.services.filter((s) => s.latencySlo);
  layout.row('Services');
  for (const app of apps) {
    layout.add(
      stat(
        `${app} up`,
        `sum(up{app="${app}"})`,
        'short',
        'Instances Prometheus scraped successfully.',
        [
          { color: 'red', value: null },
          { color: 'green', value: 1 },
        ],
      ),
      8,
      4,
    );
  }
  layout.add(
    timeseries(
      'Request rate by service',
      [target('service:http_server_requests:rate5m', '{{service}}')],
      'reqps',
      'Recording rule over 5 minutes.',
    ),
    8,
  );
  layout.add(
    timeseries(
      'Error ratio (5xx) by service',
      [
        target(
          '(service:http_server_errors:rate5m or service:http_server_requests:rate5m * 0) / service:http_server_requests:rate5m',
          '{{service}}',
        ),
      ],
      'percentunit',
      'KeelServiceErrorRatioHigh warns above 5% for 2 minutes.',
    ),
    8,
  );
  const pascal = (s: RegistryService) =>
    s.name
      .replace(/-service$/, '')
      .split('-')
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join('');
  const tidy = (n: number) => Number(n.toPrecision(10));
  layout.add(
    timeseries(
      'SLO error ratio (1h) against budget',
      [target('slo:sli_error:ratio_rate1h', '{{slo}}')],
      'percentunit',
      [
        'gateway-availability: 5xx share (budget 0.1%)',
        ...slos.map(
          (s) =>
            `${s.name.replace(/-service$/, '')}-latency: share over ${tidy(s.latencySlo!.thresholdSeconds * 1000)} ms ` +
            `(budget ${tidy((1 - s.latencySlo!.objective) * 100)}%)`,
        ),
      ].join('; ') +
        `. ${['KeelAvailabilityBudgetBurn', ...slos.map((s) => `Keel${pascal(s)}LatencyBudgetBurn`)].join(' / ')} page at 14.4x.`,
    ),
    8,
  );
  layout.add(
    timeseries(
      'Dependencies up (min over replicas)',
      [
        target(
          'min by (service, dependency) (keel_dependency_up)',
          '{{service}} -> {{dependency}}',
        ),
      ],
      'short',
      '1 up, 0 down. Readiness does not fail for Redis or an upstream; this does.',
    ),
    8,
  );
  layout.add(
    timeseries(
      'p95 latency by service',
      [
        target(
          `histogram_quantile(0.95, sum by (service, le) (rate(http_server_request_duration_seconds_bucket[${RATE}])))`,
          '{{service}}',
          'A',
          true,
        ),
      ],
      's',
      slos
        .map(
          (s) =>
            `${s.name} objective: ${tidy(s.latencySlo!.thresholdSeconds * 1000)} ms per route.`,
        )
        .join(' '),
    ),
    8,
  );
  layout.add(
    timeseries(
      'Requests in flight',
      [target('sum by (service) (http_server_requests_in_flight)', '{{service}}')],
      'short',
    ),
    8,
  );
  layout.add(
    timeseries(
      'Rate-limit rejections',
      [
        target(
          `sum by (service, limiter) (rate(rate_limit_rejections_total[${RATE}]))`,
          '{{service}} {{limiter}}',
        ),
      ],
      'reqps',
    ),
    8,
  );
  layout.add(
    timeseries(
      'Rate-limit store errors',
      [target('sum by (service) (increase(rate_limit_store_errors_total[5m]))', '{{service}}')],
      'short',
    ),
    8,
  );
  layout.add(
    timeseries(
      'Logins by result',
      [target(`sum by (result) (rate(auth_login_attempts_total[${RATE}]))`, '{{result}}')],
      'reqps',
      '',
      true,
    ),
    8,
  );
  layout.add(
    timeseries(
      'Gateway upstream p95',
      [
        target(
          `histogram_quantile(0.95, sum by (upstream, le) (rate(gateway_upstream_request_duration_seconds_bucket[${RATE}])))`,
          '{{upstream}}',
        ),
      ],
      's',
    ),
    8,
  );
  layout.add(
    timeseries(
      'Resident memory by service',
      [target('sum by (service) (process_resident_memory_bytes)', '{{service}}')],
      'bytes',
    ),
    8,
  );
  return dashboard('keel-overview', 'Keel / Overview', layout.panels, apps, undefined);
}

function dashboard(
  uid: string,
  title: string,
  panels: Json[],
  services: string[],
  service: string | undefined,
): Json {
  const links = [
    {
      type: 'dashboards',
      tags: ['keel'],
      asDropdown: true,
      title: 'Keel',
      includeVars: false,
      keepTime: true,
    },
  ];
  const templating: Json[] = [];
  if (service) {
    templating.push({
      name: 'instance',
      label: 'instance',
      type: 'query',
      datasource: PROM,
      query: `label_values(up{app="${service}"}, instance)`,
      definition: `label_values(up{app="${service}"}, instance)`,
      includeAll: true,
      multi: true,
      allValue: '.+',
      refresh: 2,
      current: { selected: true, text: ['All'], value: ['$__all'] },
      sort: 1,
    });
  }
  return {
    uid,
    title,
    tags: ['keel', ...services],
    editable: false,
    schemaVersion: 39,
    version: 1,
    graphTooltip: 1,
    timezone: 'browser',
    time: { from: 'now-1h', to: 'now' },
    refresh: '30s',
    links,
    templating: { list: templating },
    annotations: { list: [] },
    panels,
  };
}

/** File name (under grafana/dashboards/) to its text. */
export function dashboardFiles(registry: ServiceRegistry): Map<string, string> {
  const text = (board: Json) => `${JSON.stringify(board, null, 2)}\n`;
  const out = new Map<string, string>([['keel-overview.json', text(overview(registry))]]);
  for (const service of registry.services) {
    out.set(`keel-${service.name}.json`, text(serviceDashboard(service, registry)));
  }
  return out;
}
