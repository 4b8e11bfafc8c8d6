import { opsOf } from './ops';
import {
  GENERATED,
  lines,
  pascalName,
  shortName,
  type RegistryService,
  type ServiceRegistry,
} from './model';

/** 0.010000000000000009 -> 0.01: numbers as a person writes them. */
export function tidy(value: number): number {
  return Number(value.toPrecision(10));
}

function percent(value: number): string {
  return `${tidy(value * 100)} %`;
}

function seconds(value: number): string {
  return value < 1 ? `${tidy(value * 1000)} ms` : `${tidy(value)} s`;
}

/** prometheus/prometheus.yml: one scrape job per app, on its compose service and port. */
export function prometheusFile(registry: ServiceRegistry): string {
  return lines(
    `# ${GENERATED}`,
    '#',
    '# Prometheus for docker/docker-compose.yml. Start it with --enable-feature=exemplar-storage',
    '# so the trace ids the apps attach to their duration histograms are kept (Grafana links',
    '# them to Jaeger). The apps answer OpenMetrics, with exemplars, when the scraper asks.',
    'global:',
    '  scrape_interval: 15s',
    '  scrape_timeout: 5s',
    '  evaluation_interval: 15s',
    '  external_labels:',
    '    platform: keel',
    '',
    'alerting:',
    '  alertmanagers:',
    '    # prometheus/alertmanager.yml: routes pages and tickets, inhibits symptoms during a page.',
    '    - static_configs:',
    "        - targets: ['alertmanager:9093']",
    '',
    'rule_files:',
    '  # Relative to this file: the compose file mounts both into /etc/prometheus/.',
    '  - alerts.yml',
    '',
    'scrape_configs:',
    '  # Each app serves /metrics on its own port (CONTRACT §4). Every series already carries',
    '  # `service`; the job is the app too, so `up{job=...}` names the app that is down.',
    registry.services.flatMap((s) => [
      `  - job_name: ${s.name}`,
      '    metrics_path: /metrics',
      '    static_configs:',
      `      - targets: ['${s.name}:${s.port}']`,
      `        labels: { app: ${s.name} }`,
    ]),
    '  - job_name: prometheus',
    '    static_configs:',
    "      - targets: ['localhost:9090']",
    '  - job_name: alertmanager',
    '    static_configs:',
    "      - targets: ['alertmanager:9093']",
    '  - job_name: otel-collector',
    '    static_configs:',
    "      - targets: ['otel-collector:8888']",
  );
}

const WINDOWS = ['5m', '30m', '1h', '6h', '3d'];

/** The latency SLO of `service` (registry `latencySlo`): names, numbers and its texts. */
function latency(service: RegistryService) {
  const slo = service.latencySlo!;
  const budget = tidy(1 - slo.objective);
  return {
    slo: `${shortName(service)}-latency`,
    alert: `Keel${pascalName(service)}Latency`,
    title: pascalName(service),
    le: String(slo.thresholdSeconds),
    threshold: seconds(slo.thresholdSeconds),
    objective: percent(slo.objective),
    budget,
    budgetText: percent(budget),
    burnRunbook: `docs/runbooks/keel-${shortName(service)}-latency-budget-burn.md`,
    highRunbook: `docs/runbooks/keel-${shortName(service)}-latency-high.md`,
  };
}

function latencySloGroup(service: RegistryService): string {
  const l = latency(service);
  const s = service.name;
  return lines(
    `  - name: keel-slo-${l.slo}`,
    '    interval: 30s',
    '    rules:',
    `      # Share of ${s} requests slower than ${l.threshold}: 1 - (under ${l.le} s) / all.`,
    WINDOWS.flatMap((w) => [
      `      - record: slo:sli_error:ratio_rate${w}`,
      `        labels: { slo: ${l.slo} }`,
      '        expr: |',
      `          1 - sum(rate(http_server_request_duration_seconds_bucket{service="${s}",le="${l.le}"}[${w}]))`,
      `            / sum(rate(http_server_request_duration_seconds_count{service="${s}"}[${w}]))`,
    ]),
  );
}

function latencyBurnAlerts(service: RegistryService): string {
  const l = latency(service);
  const s = service.name;
  const fast = tidy(14.4 * l.budget);
  const slow = tidy(6 * l.budget);
  return lines(
    `      - alert: ${l.alert}BudgetBurn`,
    `        # Budget ${l.budgetText.replace(' ', ' ')}: 14.4 x ${l.budget} = ${fast}; 6 x ${l.budget} = ${slow}.`,
    '        expr: |',
    '          (',
    `              slo:sli_error:ratio_rate1h{slo="${l.slo}"} > (14.4 * ${l.budget})`,
    '            and',
    `              slo:sli_error:ratio_rate5m{slo="${l.slo}"} > (14.4 * ${l.budget})`,
    '          )',
    '          or',
    '          (',
    `              slo:sli_error:ratio_rate6h{slo="${l.slo}"} > (6 * ${l.budget})`,
    '            and',
    `              slo:sli_error:ratio_rate30m{slo="${l.slo}"} > (6 * ${l.budget})`,
    '          )',
    '        for: 2m',
    '        labels:',
    '          severity: page',
    `          slo: ${l.slo}`,
    '        annotations:',
    `          summary: '${l.title} latency SLO: error budget burning fast'`,
    '          description: >-',
    `            {{ $value | humanizePercentage }} of ${s} requests take longer than`,
    `            ${l.threshold}; the ${l.objective} latency SLO's 30-day budget is gone within days at this rate.`,
    `          runbook_url: ${l.burnRunbook}`,
    '',
    `      - alert: ${l.alert}BudgetBurnSlow`,
    '        expr: |',
    `          slo:sli_error:ratio_rate3d{slo="${l.slo}"} > ${l.budget}`,
    '          and',
    `          slo:sli_error:ratio_rate6h{slo="${l.slo}"} > ${l.budget}`,
    '        for: 1h',
    '        labels:',
    '          severity: ticket',
    `          slo: ${l.slo}`,
    '        annotations:',
    `          summary: '${l.title} latency SLO: error budget burning faster than it refills'`,
    '          description: >-',
    `            Over 3 days and the last 6 hours more than ${l.budgetText} of ${s} requests took`,
    `            longer than ${l.threshold} ({{ $value | humanizePercentage }} over 3 days).`,
    `          runbook_url: ${l.burnRunbook}`,
    '',
  );
}

function latencyHighAlert(service: RegistryService): string {
  const l = latency(service);
  const s = service.name;
  const hint = opsOf(service).latencyHint;
  return lines(
    `      - alert: ${l.alert}High`,
    `        # p95 of each ${s} route over 5 minutes against the ${l.threshold} objective; routes`,
    '        # with fewer than 3 requests a minute have no meaningful p95.',
    '        expr: |',
    '          histogram_quantile(0.95,',
    '            sum by (service, route, le) (',
    `              rate(http_server_request_duration_seconds_bucket{service="${s}", route!="unmatched"}[5m])`,
    '            )',
    `          ) > ${l.le}`,
    '          and',
    '          sum by (service, route) (',
    `            rate(http_server_request_duration_seconds_count{service="${s}", route!="unmatched"}[5m])`,
    '          ) > 0.05',
    '        for: 5m',
    '        labels:',
    '          severity: warning',
    '        annotations:',
    `          summary: '${s} {{ $labels.route }}: p95 latency above ${l.threshold}'`,
    '          description: >-',
    `            The 95th percentile of ${s} {{ $labels.route }} has been above ${l.threshold} for`,
    hint
      ? [
          `            5 minutes. Check ${hint},`,
          '            db_pool_connections{state="waiting"} and the slow exemplar traces in Grafana.',
        ]
      : '            5 minutes. Check db_pool_connections{state="waiting"} and the slow exemplar traces in Grafana.',
    `          runbook_url: ${l.highRunbook}`,
    '',
  );
}

/**
 * prometheus/alerts.yml: the SLOs and alerts. The gateway-availability SLO, the recording
 * rules and the platform-wide symptom alerts are fixed text here; the app lists and one
 * latency SLO (recording rules, two burn-rate alerts, a p95 warning) per service with a
 * `latencySlo` come from the registry.
 */
export function alertsFile(registry: ServiceRegistry): string {
  const gw = registry.gateway().name;
  const names = registry.services.map((s) => s.name);
  const absent = names.map((n) => `absent(up{app="${n}"})`).join(' or ');
  const appRegex = names.join('|');
  const slos = registry.services.filter((s) => s.latencySlo);
  const sloLines = slos.map((s) => {
    const l = latency(s);
    return `#   ${l.slo.padEnd(21)} ${l.objective} of ${s.name} requests finish under ${l.threshold} (budget ${l.budgetText})`;
  });
  const count =
    ['one', 'two', 'three', 'four', 'five', 'six'][slos.length] ?? String(slos.length + 1);
  return (
    lines(
      `# ${GENERATED}`,
      '# (scripts/registry/prometheus.ts holds the template).',
      '#',
      '# Keel recording and alert rules. Unit tests: prometheus/alerts.test.yml',
      '#   promtool test rules prometheus/alerts.test.yml',
      '# Every alert links its runbook in docs/runbooks/; docs/delivery.md#alerts has the overview.',
      '#',
      `# Paging is on symptoms users feel, measured against ${count} SLOs (SRE workbook, chapter 5,`,
      '# multi-window multi-burn-rate):',
      "#   gateway-availability  99.9 % of the gateway's requests are not 5xx      (budget 0.1 %)",
      sloLines,
      "# page:   burn rate 14.4x over 1h and 5m, or 6x over 6h and 30m (2 % / 5 % of 30 days' budget)",
      '# ticket: burn rate 1x over 3d and 6h (10 % of the budget)',
      '# Per-service causes are warnings; Alertmanager inhibits them while an SLO pages',
      '# (prometheus/alertmanager.yml), so one incident pages once.',
      '#',
      '# HTTP metrics leave out /metrics and /health/* (the apps do not record them), so scrapes',
      '# and probes do not dilute the ratios. `route="unmatched"` is a 404 / rejected body. 499',
      '# (client went away) is not an error.',
    ) +
    `groups:
  - name: keel-slo-gateway-availability
    interval: 30s
    rules:
      - record: slo:sli_error:ratio_rate5m
        labels: { slo: gateway-availability }
        expr: |
          sum(rate(http_server_request_duration_seconds_count{service="${gw}",status_code=~"5.."}[5m]))
          / sum(rate(http_server_request_duration_seconds_count{service="${gw}"}[5m]))
      - record: slo:sli_error:ratio_rate30m
        labels: { slo: gateway-availability }
        expr: |
          sum(rate(http_server_request_duration_seconds_count{service="${gw}",status_code=~"5.."}[30m]))
          / sum(rate(http_server_request_duration_seconds_count{service="${gw}"}[30m]))
      - record: slo:sli_error:ratio_rate1h
        labels: { slo: gateway-availability }
        expr: |
          sum(rate(http_server_request_duration_seconds_count{service="${gw}",status_code=~"5.."}[1h]))
          / sum(rate(http_server_request_duration_seconds_count{service="${gw}"}[1h]))
      - record: slo:sli_error:ratio_rate6h
        labels: { slo: gateway-availability }
        expr: |
          sum(rate(http_server_request_duration_seconds_count{service="${gw}",status_code=~"5.."}[6h]))
          / sum(rate(http_server_request_duration_seconds_count{service="${gw}"}[6h]))
      - record: slo:sli_error:ratio_rate3d
        labels: { slo: gateway-availability }
        expr: |
          sum(rate(http_server_request_duration_seconds_count{service="${gw}",status_code=~"5.."}[3d]))
          / sum(rate(http_server_request_duration_seconds_count{service="${gw}"}[3d]))

` +
    slos.map((s) => latencySloGroup(s) + '\n').join('') +
    `  - name: keel-recording
    interval: 30s
    rules:
      - record: service:http_server_requests:rate5m
        expr: sum by (service) (rate(http_server_request_duration_seconds_count[5m]))
      - record: service:http_server_errors:rate5m
        expr: sum by (service) (rate(http_server_request_duration_seconds_count{status_code=~"5.."}[5m]))
      - record: service_route:http_server_request_duration_seconds:p95_5m
        expr: |
          histogram_quantile(0.95,
            sum by (service, route, le) (rate(http_server_request_duration_seconds_bucket[5m])))

  - name: keel-slo-alerts
    rules:
      - alert: KeelAvailabilityBudgetBurn
        # 14.4 x 0.001 = 0.0144; 6 x 0.001 = 0.006. The short window makes the alert stop
        # soon after the errors do.
        expr: |
          (
              slo:sli_error:ratio_rate1h{slo="gateway-availability"} > (14.4 * 0.001)
            and
              slo:sli_error:ratio_rate5m{slo="gateway-availability"} > (14.4 * 0.001)
          )
          or
          (
              slo:sli_error:ratio_rate6h{slo="gateway-availability"} > (6 * 0.001)
            and
              slo:sli_error:ratio_rate30m{slo="gateway-availability"} > (6 * 0.001)
          )
        for: 2m
        labels:
          severity: page
          slo: gateway-availability
        annotations:
          summary: 'Gateway availability SLO: error budget burning fast'
          description: >-
            {{ $value | humanizePercentage }} of the gateway's requests answer 5xx; at this
            rate the 30-day budget of the 99.9 % availability SLO is gone within days.
            Find the failing upstream or route on the overview dashboard.
          runbook_url: docs/runbooks/keel-availability-budget-burn.md

      - alert: KeelAvailabilityBudgetBurnSlow
        expr: |
          slo:sli_error:ratio_rate3d{slo="gateway-availability"} > 0.001
          and
          slo:sli_error:ratio_rate6h{slo="gateway-availability"} > 0.001
        for: 1h
        labels:
          severity: ticket
          slo: gateway-availability
        annotations:
          summary: 'Gateway availability SLO: error budget burning faster than it refills'
          description: >-
            Over 3 days and the last 6 hours more than 0.1 % of the gateway's requests
            answered 5xx ({{ $value | humanizePercentage }} over 3 days): the 99.9 % SLO will
            be missed this month unless it is fixed.
          runbook_url: docs/runbooks/keel-availability-budget-burn.md

` +
    slos.map(latencyBurnAlerts).join('') +
    `      - alert: KeelGatewayNoTraffic
        # A gateway that answers nothing is as bad as one that answers 5xx, but its error
        # ratio is 0/0 and the SLO alerts see nothing. Scrapes alone do not count.
        expr: |
          sum(rate(http_server_request_duration_seconds_count{service="${gw}"}[15m])) == 0
          or
          absent(http_server_request_duration_seconds_count{service="${gw}"})
        for: 15m
        labels:
          severity: ticket
        annotations:
          summary: 'The gateway answered no request for 15 minutes'
          description: >-
            No request reached any gateway replica in the last 15 minutes. Check the
            ingress / load balancer, DNS, and that the gateway pods are in the Service
            (their /health/ready). Quiet nights on a demo system also trip this.
          runbook_url: docs/runbooks/keel-gateway-no-traffic.md

      - alert: KeelAppTargetsAbsent
        # \`up == 0\` sees a target that stopped answering, not one that is gone: a deleted
        # Deployment or a broken selector leaves no \`up\` series at all.
        expr: |
          ${absent}
        for: 5m
        labels:
          severity: page
        annotations:
          summary: 'Prometheus has no scrape target for {{ $labels.app }}'
          description: >-
            No target of {{ $labels.app }} has been discovered for 5 minutes: its pods or
            containers are gone, or the scrape configuration no longer finds them.
          runbook_url: docs/runbooks/keel-app-targets-absent.md

      - alert: KeelAppDown
        # Every target of an app fails its scrape: the app is down, whatever its traffic.
        expr: max by (app) (up{app=~"${appRegex}"}) == 0
        for: 2m
        labels:
          severity: page
        annotations:
          summary: 'Every instance of {{ $labels.app }} is down'
          description: >-
            No {{ $labels.app }} target has answered a scrape for 2 minutes: the app is not
            running or not answering on its port anywhere.
          runbook_url: docs/runbooks/keel-app-down.md

  - name: keel-symptom-alerts
    rules:
      - alert: KeelServiceErrorRatioHigh
        # 5xx share per service over 5 minutes. A cause, not the page: the gateway's SLO alert
        # pages for what users see; this one says where. Below 6 requests a minute a single
        # failure is not a ratio worth looking at.
        expr: |
          (
            sum by (service) (rate(http_server_request_duration_seconds_count{status_code=~"5.."}[5m]))
          /
            sum by (service) (rate(http_server_request_duration_seconds_count[5m]))
          ) > 0.05
          and
          sum by (service) (rate(http_server_request_duration_seconds_count[5m])) > 0.1
        for: 2m
        labels:
          severity: warning
        annotations:
          summary: '{{ $labels.service }}: more than 5% of requests answer 5xx'
          description: >-
            Over the last 5 minutes {{ $value | humanizePercentage }} of the requests
            {{ $labels.service }} served ended in a 5xx. Look at the service's dashboard (error
            ratio by route), its error logs and Sentry; follow a failing request's trace_id
            into Jaeger.
          runbook_url: docs/runbooks/keel-service-error-ratio-high.md

` +
    slos.map(latencyHighAlert).join('') +
    `      - alert: KeelRateLimitStoreErrors
        # The limiter fell back to process memory because Redis failed: limits are now per
        # replica, so the effective limit is replicas times the configured one.
        expr: sum by (service) (increase(rate_limit_store_errors_total[5m])) > 0
        labels:
          severity: warning
        annotations:
          summary: '{{ $labels.service }}: rate limiting fell back to process memory'
          description: >-
            Redis failed for rate-limit decisions of {{ $labels.service }} in the last 5
            minutes. Requests are still served, limited per replica. Check REDIS_URL, Redis
            health and keel_dependency_up{dependency="redis"}.
          runbook_url: docs/runbooks/keel-rate-limit-store-errors.md

      - alert: KeelDependencyDown
        # Readiness no longer reports shared dependencies as 503 (CONTRACT §4): this is where
        # a Redis or upstream outage shows. \`min by\` so two replicas agreeing make one alert.
        expr: min by (service, dependency) (keel_dependency_up) == 0
        for: 2m
        labels:
          severity: warning
        annotations:
          summary: '{{ $labels.service }}: dependency {{ $labels.dependency }} is down'
          description: >-
            {{ $labels.service }} has not reached {{ $labels.dependency }} for 2 minutes. Its
            replicas stay in rotation; requests that need {{ $labels.dependency }} fail or
            fall back (rate limits per replica without Redis, 502 from the gateway without an
            upstream).
          runbook_url: docs/runbooks/keel-dependency-down.md

      - alert: KeelServiceDown
        # One target stops answering scrapes; the others may still serve. \`app\` is a target
        # label set by the scrape config (prometheus/prometheus.yml, k8s/ ServiceMonitors and
        # the dev Prometheus), so the alert names the app even when it exposes nothing.
        expr: up{app=~"${appRegex}"} == 0
        for: 1m
        labels:
          severity: warning
        annotations:
          summary: '{{ $labels.app }} ({{ $labels.instance }}) is down'
          description: >-
            Prometheus could not scrape {{ $labels.app }} at {{ $labels.instance }} for a
            minute: the process is not running or not answering on its port.
          runbook_url: docs/runbooks/keel-service-down.md

      - alert: KeelRefreshTokenReuse
        # A rotated refresh token was presented again: a stolen token or a buggy client.
        # The session was already revoked; this is for the security team to look at.
        expr: sum by (service) (increase(auth_refresh_reuse_detected_total[5m])) > 0
        labels:
          severity: info
        annotations:
          summary: 'auth-service revoked a session after refresh-token reuse'
          description: >-
            A rotated refresh token was used again and its whole session was revoked. One-off
            events are usually a client retrying; a burst suggests stolen tokens.
          runbook_url: docs/runbooks/keel-refresh-token-reuse.md
`
  );
}

/**
 * prometheus/alerts.registry.test.yml: the promtool tests that depend on the app list. For
 * each app: KeelAppTargetsAbsent stays quiet while every app has a target and fires for
 * exactly the app whose target disappears.
 */
export function alertsRegistryTestFile(registry: ServiceRegistry): string {
  return lines(
    `# ${GENERATED}`,
    '#',
    '# promtool test rules prometheus/alerts.registry.test.yml (check-delivery runs it beside',
    '# the hand-written prometheus/alerts.test.yml). absent() sees what `up == 0` cannot: an app',
    '# with no scrape target at all (deleted, or the selector finds nothing).',
    'rule_files:',
    '  - alerts.yml',
    '',
    'evaluation_interval: 1m',
    '',
    'tests:',
    registry.services.flatMap((gone) => [
      `  # ${gone.name} loses its target after 3 minutes; the others keep theirs.`,
      '  - interval: 1m',
      '    input_series:',
      ...registry.services.flatMap((s, i) => [
        `      - series: 'up{job="${s.name}",app="${s.name}",instance="10.0.0.${i + 1}:${s.port}"}'`,
        `        values: '${s === gone ? '1 1 1' : '1x20'}'`,
      ]),
      '    alert_rule_test:',
      '      - eval_time: 3m',
      '        alertname: KeelAppTargetsAbsent',
      '        exp_alerts: []',
      '      - eval_time: 15m',
      '        alertname: KeelAppTargetsAbsent',
      '        exp_alerts:',
      '          - exp_labels:',
      '              severity: page',
      `              app: ${gone.name}`,
      '            exp_annotations:',
      `              summary: 'Prometheus has no scrape target for ${gone.name}'`,
      '              description: >-',
      `                No target of ${gone.name} has been discovered for 5 minutes: its pods or`,
      '                containers are gone, or the scrape configuration no longer finds them.',
      '              runbook_url: docs/runbooks/keel-app-targets-absent.md',
      '',
    ]),
  );
}
