import { opsOf } from './ops';
import {
  comment,
  databaseName,
  GENERATED,
  lines,
  startupDependencies,
  type RegistryService,
  type ServiceRegistry,
} from './model';

/** docker/docker-compose.yml: the apps from the registry, then the stores and telemetry. */
export function composeFile(registry: ServiceRegistry): string {
  const dependencies = startupDependencies(registry);
  const databases = registry.services.filter((s) => s.database);
  return lines(
    `# ${GENERATED}`,
    '# (scripts/registry/compose.ts holds the template).',
    '#',
    '# Keel with its backing services and telemetry, for a laptop or a demo host.',
    '#   docker compose -f docker/docker-compose.yml up --build',
    '# Public entry: the gateway on http://localhost:3000/api/v1. Every other port (UIs, OTLP,',
    '# the services) is bound to 127.0.0.1 only. See docs/delivery.md.',
    'name: keel',
    '',
    'x-app: &app',
    '  restart: unless-stopped',
    '  # tini as PID 1 forwards SIGTERM to node and reaps zombies; node installs its handlers',
    '  # before the app is created, so a stop during start-up exits promptly too.',
    '  init: true',
    '  # The drain takes up to 5 s plus the telemetry flush; the process exits 0 within ~15 s.',
    '  stop_grace_period: 20s',
    '  mem_limit: 256m',
    '  networks: [keel]',
    '',
    'x-app-env: &app-env',
    '  NODE_ENV: production',
    '  HOST: 0.0.0.0',
    '  LOG_LEVEL: ${LOG_LEVEL:-info}',
    '  INTERNAL_TOKEN: ${INTERNAL_TOKEN:?set INTERNAL_TOKEN to 32+ random characters (see docs/delivery.md)}',
    '  # The collector batches and forwards to Jaeger (docker/otel-collector.yml).',
    '  OTEL_EXPORTER_OTLP_ENDPOINT: http://otel-collector:4318',
    '  OTEL_EXPORTER_OTLP_PROTOCOL: http/protobuf',
    '  SENTRY_DSN: ${SENTRY_DSN:-}',
    '  SENTRY_ENVIRONMENT: ${SENTRY_ENVIRONMENT:-compose}',
    '',
    'services:',
    registry.services.map((s) => appService(registry, s, dependencies.get(s.name) ?? [])).flat(),
    '  postgres:',
    '    image: ${POSTGRES_IMAGE:-postgres:17-alpine}',
    '    restart: unless-stopped',
    '    mem_limit: 512m',
    '    environment:',
    '      POSTGRES_USER: keel',
    '      POSTGRES_PASSWORD: keel',
    '      POSTGRES_DB: keel',
    '    volumes:',
    '      - postgres-data:/var/lib/postgresql/data',
    '      - ./postgres-init.sql:/docker-entrypoint-initdb.d/10-keel-databases.sql:ro',
    '    healthcheck:',
    "      # Ready once the init script has made the services' databases (the last one made).",
    `      test: ['CMD-SHELL', 'pg_isready -h 127.0.0.1 -U keel -d ${databases.length ? databaseName(databases[databases.length - 1]) : 'keel'}']`,
    '      interval: 5s',
    '      timeout: 3s',
    '      retries: 20',
    '    networks: [keel]',
    '',
    '  redis:',
    '    image: ${REDIS_IMAGE:-redis:7-alpine}',
    '    restart: unless-stopped',
    '    mem_limit: 128m',
    "    command: ['redis-server', '--save', '', '--appendonly', 'no', '--maxmemory', '96mb']",
    '    healthcheck:',
    "      test: ['CMD', 'redis-cli', 'ping']",
    '      interval: 5s',
    '      timeout: 3s',
    '      retries: 20',
    '    networks: [keel]',
    '',
    '  # The apps send OTLP here; it batches and forwards to Jaeger. Published on the loopback for',
    '  # apps run on the host (OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318). The image has',
    '  # no shell for a healthcheck; its health endpoint is :13133.',
    '  otel-collector:',
    '    image: ${OTEL_COLLECTOR_IMAGE:-otel/opentelemetry-collector-contrib:0.130.0}',
    '    restart: unless-stopped',
    '    mem_limit: 256m',
    "    command: ['--config=/etc/otelcol/config.yml']",
    '    volumes:',
    '      - ./otel-collector.yml:/etc/otelcol/config.yml:ro',
    '    ports:',
    "      - '127.0.0.1:4317:4317' # OTLP/gRPC",
    "      - '127.0.0.1:4318:4318' # OTLP/HTTP",
    '    depends_on:',
    '      jaeger: { condition: service_started }',
    '    networks: [keel]',
    '',
    '  jaeger:',
    '    image: ${JAEGER_IMAGE:-jaegertracing/all-in-one:1.62.0}',
    '    restart: unless-stopped',
    '    mem_limit: 512m',
    '    environment:',
    '      # OTLP on 4317/4318 inside the network, fed by the collector.',
    "      COLLECTOR_OTLP_ENABLED: 'true'",
    "      MEMORY_MAX_TRACES: '50000'",
    '    ports:',
    "      - '127.0.0.1:16686:16686' # UI",
    '    networks: [keel]',
    '',
    '  prometheus:',
    '    image: ${PROMETHEUS_IMAGE:-prom/prometheus:v3.5.0}',
    '    restart: unless-stopped',
    '    mem_limit: 1g',
    '    # No --web.enable-lifecycle (anyone reaching the port could stop or reload it), no',
    '    # admin API. Reload after editing rules: docker compose kill -s SIGHUP prometheus.',
    '    command:',
    '      - --config.file=/etc/prometheus/prometheus.yml',
    '      - --storage.tsdb.path=/prometheus',
    '      - --storage.tsdb.retention.time=7d',
    '      - --enable-feature=exemplar-storage',
    '    volumes:',
    '      - ../prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
    '      - ../prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro',
    '      - prometheus-data:/prometheus',
    '    ports:',
    "      - '127.0.0.1:9090:9090'",
    '    healthcheck:',
    "      test: ['CMD', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:9090/-/ready']",
    '      interval: 10s',
    '      timeout: 3s',
    '      retries: 10',
    '    networks: [keel]',
    '',
    '  alertmanager:',
    '    image: ${ALERTMANAGER_IMAGE:-prom/alertmanager:v0.28.1}',
    '    restart: unless-stopped',
    '    mem_limit: 128m',
    '    command:',
    '      - --config.file=/etc/alertmanager/alertmanager.yml',
    '      - --storage.path=/alertmanager',
    '    volumes:',
    '      - ../prometheus/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro',
    '    ports:',
    "      - '127.0.0.1:9093:9093'",
    '    healthcheck:',
    "      test: ['CMD', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:9093/-/ready']",
    '      interval: 10s',
    '      timeout: 3s',
    '      retries: 10',
    '    networks: [keel]',
    '',
    '  grafana:',
    '    image: ${GRAFANA_IMAGE:-grafana/grafana:12.0.2}',
    '    restart: unless-stopped',
    '    mem_limit: 256m',
    '    environment:',
    '      # No default password and no anonymous access: set GRAFANA_ADMIN_PASSWORD in docker/.env.',
    '      GF_SECURITY_ADMIN_USER: ${GRAFANA_ADMIN_USER:-admin}',
    '      GF_SECURITY_ADMIN_PASSWORD: ${GRAFANA_ADMIN_PASSWORD:?set GRAFANA_ADMIN_PASSWORD in docker/.env (see docs/delivery.md)}',
    "      GF_AUTH_ANONYMOUS_ENABLED: 'false'",
    "      GF_USERS_ALLOW_SIGN_UP: 'false'",
    '      GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH: /etc/grafana/dashboards/keel-overview.json',
    '    volumes:',
    '      - ../grafana/provisioning:/etc/grafana/provisioning:ro',
    '      - ../grafana/dashboards:/etc/grafana/dashboards:ro',
    '      - grafana-data:/var/lib/grafana',
    '    ports:',
    "      # 3000 is the gateway's.",
    "      - '127.0.0.1:3300:3000'",
    '    healthcheck:',
    "      test: ['CMD', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:3000/api/health']",
    '      interval: 10s',
    '      timeout: 3s',
    '      retries: 10',
    '    depends_on:',
    '      prometheus: { condition: service_healthy }',
    '      jaeger: { condition: service_started }',
    '    networks: [keel]',
    '',
    'networks:',
    '  keel: {}',
    '',
    'volumes:',
    '  postgres-data: {}',
    '  prometheus-data: {}',
    '  grafana-data: {}',
  );
}

function appService(
  registry: ServiceRegistry,
  service: RegistryService,
  waitsFor: string[],
): string[] {
  const ops = opsOf(service);
  const gateway = service.kind === 'gateway';
  const out = [
    `  ${service.name}:`,
    '    <<: *app',
    '    build:',
    '      context: ..',
    '      dockerfile: docker/Dockerfile',
    `      args: { APP: ${service.name} }`,
    `    image: keel/${service.name}:local`,
  ];
  if (ops.composeMemLimit !== '256m') {
    out.push(
      ...comment(ops.composeMemComment ?? '', '    '),
      `    mem_limit: ${ops.composeMemLimit}`,
    );
  }
  out.push(
    '    environment:',
    '      <<: *app-env',
    `      PORT: '${service.port}'`,
    `      NODE_OPTIONS: '${ops.nodeOptions}'`,
  );
  for (const callee of service.calls.map((name) => registry.service(name))) {
    out.push(`      ${callee.envStem}_URL: http://${callee.name}:${callee.port}`);
  }
  if (service.database) {
    out.push(`      DATABASE_URL: postgres://keel:keel@postgres:5432/${databaseName(service)}`);
  }
  for (const { name, value } of ops.env) {
    out.push(`      ${name}: '${value}'`);
  }
  for (const secret of ops.secrets) {
    out.push(
      ...secret.composeComment.map((text) => `      # ${text}`),
      `      ${secret.name}: \${${secret.name}:?set ${secret.name} (see docs/delivery.md)}`,
    );
  }
  if (gateway) {
    out.push(
      '      # Rate-limit counts shared by gateway replicas. Readiness reports Redis but never fails',
      "      # for it (CONTRACT §4). The services' own limiter (a second line of defence) is fine per",
      '      # replica, so only the gateway is given Redis.',
      '      REDIS_URL: redis://redis:6379',
      '      # No TRUST_PROXY: the gateway is the edge here and clients connect to it directly (put a',
      '      # reverse proxy in front and set TRUST_PROXY to its address to see client IPs).',
      '      CORS_ORIGINS: ${CORS_ORIGINS:-}',
      '    ports:',
      `      - '\${GATEWAY_PORT:-${service.port}}:${service.port}'`,
    );
  } else {
    out.push(
      '      # Requests arrive through the gateway, which sets X-Forwarded-For on this network.',
      '      TRUST_PROXY: uniquelocal',
      '    # Published for debugging only (docs/delivery.md); clients use the gateway.',
      '    ports:',
      `      - '127.0.0.1:${service.port}:${service.port}'`,
    );
  }
  out.push('    depends_on:');
  if (service.database) {
    out.push('      postgres: { condition: service_healthy }');
  }
  for (const callee of waitsFor) {
    out.push(`      ${callee}: { condition: service_healthy }`);
  }
  if (gateway) {
    out.push('      redis: { condition: service_healthy }');
  }
  out.push('      otel-collector: { condition: service_started }', '');
  return out;
}

/** docker/docker-compose.chaos.yml: every app in development mode with chaos on. */
export function composeChaosFile(registry: ServiceRegistry): string {
  return lines(
    `# ${GENERATED}`,
    '#',
    '# Demo override: lets the `x-chaos` header (CONTRACT §7) inject errors and latency, so the',
    '# alerts and dashboards can be shown on demand. Never for production: chaos is refused when',
    '# NODE_ENV=production, so this runs the apps in development mode.',
    '#   docker compose -f docker/docker-compose.yml -f docker/docker-compose.chaos.yml up --build',
    'services:',
    registry.services
      .map((s) => [
        `  ${s.name}:`,
        "    environment: { NODE_ENV: development, CHAOS_ENABLED: 'true' }",
      ])
      .flat(),
  );
}

/** docker/postgres-init.sql (and its copy in the k8s dev overlay). */
export function postgresInit(registry: ServiceRegistry): string {
  return lines(
    `-- ${GENERATED}`,
    '-- One database per service with `"database": true` (each app also keeps its own migration',
    '-- table, so a shared database would work too). Runs once, when the volume is first',
    '-- initialised.',
    registry.services.filter((s) => s.database).map((s) => `CREATE DATABASE ${databaseName(s)};`),
  );
}
