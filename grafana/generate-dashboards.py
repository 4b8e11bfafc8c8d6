#!/usr/bin/env python3
"""Writes grafana/dashboards/*.json: one dashboard per service and a cross-service overview.

Edit the panels here, then run `python3 grafana/generate-dashboards.py`; the JSON files are
what Grafana loads. `--check` exits 1 when a committed file differs from what this writes
(scripts/check-delivery.sh runs it).
"""
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / 'dashboards'
PROM = {'type': 'prometheus', 'uid': 'keel-prometheus'}
RATE = '$__rate_interval'
APPS = ['api-gateway', 'auth-service', 'users-service']


class Layout:
    """Places panels on Grafana's 24-column grid, two or three to a row."""

    def __init__(self):
        self.panels = []
        self.y = 0
        self.x = 0
        self.next_id = 1

    def row(self, title):
        self._newline()
        self.panels.append({'type': 'row', 'title': title, 'id': self._id(), 'collapsed': False,
                            'gridPos': {'h': 1, 'w': 24, 'x': 0, 'y': self.y}, 'panels': []})
        self.y += 1

    def add(self, panel, w=12, h=8):
        if self.x + w > 24:
            self._newline()
        panel['id'] = self._id()
        panel['gridPos'] = {'h': h, 'w': w, 'x': self.x, 'y': self.y}
        self.panels.append(panel)
        self.x += w
        self._h = h

    def _newline(self):
        if self.x > 0:
            self.y += getattr(self, '_h', 8)
            self.x = 0

    def _id(self):
        self.next_id += 1
        return self.next_id - 1


def target(expr, legend, ref='A', exemplar=False):
    return {'refId': ref, 'datasource': PROM, 'expr': expr, 'legendFormat': legend,
            'exemplar': exemplar, 'range': True}


def timeseries(title, targets, unit='short', description='', stack=False, min_zero=True):
    defaults = {'unit': unit, 'custom': {'fillOpacity': 10, 'showPoints': 'never',
                                         'stacking': {'mode': 'normal' if stack else 'none'}}}
    if min_zero:
        defaults['min'] = 0
    return {'type': 'timeseries', 'title': title, 'description': description, 'datasource': PROM,
            'fieldConfig': {'defaults': defaults, 'overrides': []},
            'options': {'legend': {'displayMode': 'list', 'placement': 'bottom', 'showLegend': True},
                        'tooltip': {'mode': 'multi', 'sort': 'desc'}},
            'targets': targets}


def stat(title, expr, unit='short', description='', thresholds=None, legend=''):
    steps = thresholds or [{'color': 'green', 'value': None}]
    return {'type': 'stat', 'title': title, 'description': description, 'datasource': PROM,
            'fieldConfig': {'defaults': {'unit': unit,
                                         'thresholds': {'mode': 'absolute', 'steps': steps}},
                            'overrides': []},
            'options': {'reduceOptions': {'calcs': ['lastNotNull'], 'fields': '', 'values': False},
                        'colorMode': 'background', 'graphMode': 'area', 'textMode': 'auto'},
            'targets': [target(expr, legend)]}


def sel(service, extra=''):
    """Label matchers of one service, narrowed to the instances picked in the dashboard."""
    return '{service="%s", instance=~"$instance"%s}' % (service, ', ' + extra if extra else '')


def http_panels(layout, service):
    s = sel(service)
    layout.row('Traffic')
    layout.add(timeseries('Request rate by route', [target(
        f'sum by (method, route) (rate(http_server_request_duration_seconds_count{s}[{RATE}]))',
        '{{method}} {{route}}')], 'reqps',
        'Requests answered per second (operational routes /metrics and /health/* excluded).'), 8)
    layout.add(timeseries('Responses by status', [target(
        f'sum by (status_code) (rate(http_server_request_duration_seconds_count{s}[{RATE}]))',
        '{{status_code}}')], 'reqps', '499: the client went away before the response.', True), 8)
    errors = sel(service, 'status_code=~"5.."')
    # `or ... * 0`: 0 rather than "no data" while nothing fails.
    total = f'sum(rate(http_server_request_duration_seconds_count{s}[5m]))'
    by_route = f'sum by (route) (rate(http_server_request_duration_seconds_count{s}[5m]))'
    layout.add(timeseries('Error ratio (5xx)', [
        target(f'(sum(rate(http_server_request_duration_seconds_count{errors}[5m])) or {total} * 0)'
               f' / {total}', 'all routes'),
        target(f'(sum by (route) (rate(http_server_request_duration_seconds_count{errors}[5m]))'
               f' or {by_route} * 0) / {by_route}', '{{route}}', 'B'),
    ], 'percentunit', 'Share of 5xx over 5 minutes; KeelServiceErrorRatioHigh warns above 5%.'), 8)
    layout.row('Latency')
    for q in ('0.5', '0.95', '0.99'):
        name = {'0.5': 'p50', '0.95': 'p95', '0.99': 'p99'}[q]
        layout.add(timeseries(f'{name} latency by route', [target(
            f'histogram_quantile({q}, sum by (route, le) (rate(http_server_request_duration_seconds_bucket{s}[{RATE}])))',
            '{{route}}', exemplar=True)], 's',
            'Exemplar dots carry trace_id: click one to open the trace in Jaeger.'), 8)
    layout.add(timeseries('Requests in flight', [target(
        f'sum by (instance) (http_server_requests_in_flight{s})', '{{instance}}')], 'short'), 12)
    layout.add(timeseries('Rate-limit rejections (429)', [target(
        f'sum by (limiter, route) (rate(rate_limit_rejections_total{s}[{RATE}]))',
        '{{limiter}} {{route}}')], 'reqps',
        'Requests refused by a limiter (gateway: global, auth, login-account; services: service).'), 12)


def runtime_panels(layout, service):
    s = sel(service)
    layout.row('Runtime (Node.js)')
    layout.add(timeseries('CPU', [target(f'rate(process_cpu_seconds_total{s}[{RATE}])',
                                         '{{instance}}')], 'percentunit'), 6)
    layout.add(timeseries('Resident memory', [target(f'process_resident_memory_bytes{s}',
                                                     '{{instance}}')], 'bytes'), 6)
    layout.add(timeseries('Heap used', [target(f'nodejs_heap_size_used_bytes{s}',
                                               '{{instance}}')], 'bytes'), 6)
    layout.add(timeseries('Event loop lag p99', [target(f'nodejs_eventloop_lag_p99_seconds{s}',
                                                        '{{instance}}')], 's'), 6)


def db_pool_panel(layout, service):
    layout.add(timeseries('Database pool', [target(
        f'sum by (state) (db_pool_connections{sel(service)})', '{{state}}')], 'short',
        'Connections by state; "waiting" above 0 means requests queue for a connection '
        '(raise DB_POOL_SIZE or find slow queries).', True), 12)


def gateway(layout):
    s = sel('api-gateway')
    layout.row('Upstreams')
    layout.add(timeseries('Upstream p95 latency', [target(
        f'histogram_quantile(0.95, sum by (upstream, le) (rate(gateway_upstream_request_duration_seconds_bucket{s}[{RATE}])))',
        '{{upstream}}', exemplar=True)], 's', 'Time from the gateway to an upstream and back.'), 8)
    layout.add(timeseries('Upstream calls by status', [target(
        f'sum by (upstream, status_code) (rate(gateway_upstream_request_duration_seconds_count{s}[{RATE}]))',
        '{{upstream}} {{status_code}}')], 'reqps',
        'status_code "none": no answer (refused, timed out, reset): the gateway answered 502/504.'), 8)
    routed = sel('api-gateway', 'route!="unmatched"')
    layout.add(timeseries('Gateway overhead (p95 total - p95 upstream)', [target(
        f'histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_seconds_bucket{routed}[{RATE}])))'
        f' - histogram_quantile(0.95, sum by (le) (rate(gateway_upstream_request_duration_seconds_bucket{s}[{RATE}])))',
        'overhead')], 's', 'Rough: the difference of two quantiles is not a quantile.', min_zero=False), 8)
    layout.row('Rate limiting')
    layout.add(timeseries('Rejections by limiter', [target(
        f'sum by (limiter) (rate(rate_limit_rejections_total{s}[{RATE}]))', '{{limiter}}')],
        'reqps'), 12)
    layout.add(timeseries('Rate-limit store errors (Redis failed, memory fallback)', [target(
        f'sum by (instance) (increase(rate_limit_store_errors_total{s}[5m]))', '{{instance}}')],
        'short', 'Above 0: limits are counted per replica. KeelRateLimitStoreErrors fires.'), 12)


def auth(layout):
    s = sel('auth-service')
    layout.row('Authentication')
    # Not narrowed to auth-service: `rate_limited` is counted by the gateway, whose login
    # limiters refuse the attempt before it reaches auth-service.
    layout.add(timeseries('Login attempts by result', [target(
        f'sum by (result) (rate(auth_login_attempts_total{{service=~"auth-service|api-gateway"}}[{RATE}]))',
        '{{result}}')], 'reqps',
        'success and invalid_credentials from auth-service (all its instances), rate_limited from '
        'the gateway\'s login limiters.', True), 8)
    layout.add(timeseries('Tokens issued', [target(
        f'sum by (type) (rate(auth_tokens_issued_total{s}[{RATE}]))', '{{type}}')], 'reqps'), 8)
    layout.add(timeseries('Refresh-token reuse detected', [target(
        f'sum(increase(auth_refresh_reuse_detected_total{s}[5m]))', 'sessions revoked')], 'short',
        'A rotated refresh token presented again; its session was revoked.'), 8)
    layout.add(timeseries('Password hashing p50 / p95', [
        target(f'histogram_quantile(0.5, sum by (operation, le) (rate(auth_password_hash_duration_seconds_bucket{s}[{RATE}])))',
               'p50 {{operation}}', exemplar=True),
        target(f'histogram_quantile(0.95, sum by (operation, le) (rate(auth_password_hash_duration_seconds_bucket{s}[{RATE}])))',
               'p95 {{operation}}', 'B', exemplar=True),
    ], 's', 'argon2id hash (register) and verify (login). Dominates login latency.'), 12)
    db_pool_panel(layout, 'auth-service')


def users(layout):
    s = sel('users-service')
    layout.row('Profile cache and database')
    hits = sel('users-service', 'cache="profile", result="hit"')
    lookups = sel('users-service', 'cache="profile"')
    layout.add(timeseries('Profile cache hit ratio', [target(
        f'sum(rate(cache_requests_total{hits}[5m]))'
        f' / sum(rate(cache_requests_total{lookups}[5m]))',
        'hit ratio')], 'percentunit', 'Public profiles (GET /users/:id) served from memory.'), 8)
    layout.add(timeseries('Cache lookups', [target(
        f'sum by (cache, result) (rate(cache_requests_total{s}[{RATE}]))', '{{cache}} {{result}}')],
        'reqps', stack=True), 8)
    layout.add(timeseries('Database pool', [target(
        f'sum by (state) (db_pool_connections{s})', '{{state}}')], 'short',
        '"waiting" above 0: requests queue for a connection.', True), 8)


def service_dashboard(service, extra):
    layout = Layout()
    http_panels(layout, service)
    extra(layout)
    runtime_panels(layout, service)
    return dashboard(f'keel-{service}', f'Keel / {service}', layout.panels, [service], service)


def overview():
    layout = Layout()
    layout.row('Services')
    for app in APPS:
        layout.add(stat(f'{app} up', f'sum(up{{app="{app}"}})', 'short',
                        'Instances Prometheus scraped successfully.',
                        [{'color': 'red', 'value': None}, {'color': 'green', 'value': 1}]), 8, 4)
    layout.add(timeseries('Request rate by service', [target(
        'service:http_server_requests:rate5m', '{{service}}')], 'reqps',
        'Recording rule over 5 minutes.'), 8)
    layout.add(timeseries('Error ratio (5xx) by service', [target(
        '(service:http_server_errors:rate5m or service:http_server_requests:rate5m * 0)'
        ' / service:http_server_requests:rate5m', '{{service}}')],
        'percentunit', 'KeelServiceErrorRatioHigh warns above 5% for 2 minutes.'), 8)
    layout.add(timeseries('SLO error ratio (1h) against budget', [target(
        'slo:sli_error:ratio_rate1h', '{{slo}}')], 'percentunit',
        'gateway-availability: 5xx share (budget 0.1%); auth-latency: share over 100 ms '
        '(budget 1%). KeelAvailabilityBudgetBurn / KeelAuthLatencyBudgetBurn page at 14.4x.'), 8)
    layout.add(timeseries('Dependencies up (min over replicas)', [target(
        'min by (service, dependency) (keel_dependency_up)', '{{service}} -> {{dependency}}')],
        'short', '1 up, 0 down. Readiness does not fail for Redis or an upstream; this does.'), 8)
    layout.add(timeseries('p95 latency by service', [target(
        f'histogram_quantile(0.95, sum by (service, le) (rate(http_server_request_duration_seconds_bucket[{RATE}])))',
        '{{service}}', exemplar=True)], 's', 'auth-service objective: 100 ms per route.'), 8)
    layout.add(timeseries('Requests in flight', [target(
        'sum by (service) (http_server_requests_in_flight)', '{{service}}')], 'short'), 8)
    layout.add(timeseries('Rate-limit rejections', [target(
        f'sum by (service, limiter) (rate(rate_limit_rejections_total[{RATE}]))',
        '{{service}} {{limiter}}')], 'reqps'), 8)
    layout.add(timeseries('Rate-limit store errors', [target(
        'sum by (service) (increase(rate_limit_store_errors_total[5m]))', '{{service}}')],
        'short'), 8)
    layout.add(timeseries('Logins by result', [target(
        f'sum by (result) (rate(auth_login_attempts_total[{RATE}]))', '{{result}}')], 'reqps',
        stack=True), 8)
    layout.add(timeseries('Gateway upstream p95', [target(
        f'histogram_quantile(0.95, sum by (upstream, le) (rate(gateway_upstream_request_duration_seconds_bucket[{RATE}])))',
        '{{upstream}}')], 's'), 8)
    layout.add(timeseries('Resident memory by service', [target(
        'sum by (service) (process_resident_memory_bytes)', '{{service}}')], 'bytes'), 8)
    return dashboard('keel-overview', 'Keel / Overview', layout.panels, APPS, None)


def dashboard(uid, title, panels, services, service):
    links = [{'type': 'dashboards', 'tags': ['keel'], 'asDropdown': True, 'title': 'Keel',
              'includeVars': False, 'keepTime': True}]
    templating = []
    if service:
        templating.append({
            'name': 'instance', 'label': 'instance', 'type': 'query', 'datasource': PROM,
            'query': f'label_values(up{{app="{service}"}}, instance)',
            'definition': f'label_values(up{{app="{service}"}}, instance)',
            'includeAll': True, 'multi': True, 'allValue': '.+', 'refresh': 2,
            'current': {'selected': True, 'text': ['All'], 'value': ['$__all']}, 'sort': 1,
        })
    return {
        'uid': uid, 'title': title, 'tags': ['keel'] + services, 'editable': False,
        'schemaVersion': 39, 'version': 1, 'graphTooltip': 1, 'timezone': 'browser',
        'time': {'from': 'now-1h', 'to': 'now'}, 'refresh': '30s', 'links': links,
        'templating': {'list': templating}, 'annotations': {'list': []}, 'panels': panels,
    }


def render():
    return {
        'keel-overview.json': overview(),
        'keel-api-gateway.json': service_dashboard('api-gateway', gateway),
        'keel-auth-service.json': service_dashboard('auth-service', auth),
        'keel-users-service.json': service_dashboard('users-service', users),
    }


def main():
    check = '--check' in sys.argv[1:]
    stale = []
    OUT.mkdir(exist_ok=True)
    for name, board in render().items():
        text = json.dumps(board, indent=2) + '\n'
        path = OUT / name
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print('stale dashboards (run python3 grafana/generate-dashboards.py): ' + ', '.join(stale))
        sys.exit(1)


if __name__ == '__main__':
    main()
