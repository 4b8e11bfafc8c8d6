import { opsOf } from './ops';
import {
  callers,
  comment,
  databaseName,
  databaseSecretKey,
  GENERATED,
  lines,
  type RegistryService,
  type ServiceRegistry,
} from './model';

const HEADER = `# ${GENERATED}`;

/** k8s/base/<name>.yaml: Deployment, Service and PodDisruptionBudget of one service. */
export function serviceManifest(service: RegistryService): string {
  const ops = opsOf(service);
  const { name, port } = service;
  const component = service.kind === 'gateway' ? 'gateway' : 'service';
  const env: string[] = [];
  if (service.kind === 'gateway') {
    env.push(
      '            # Shared rate-limit counts of the gateway replicas. Readiness reports Redis but',
      "            # never fails for it; the services' own limiter is fine per replica.",
      '            - name: REDIS_URL',
      '              valueFrom:',
      '                secretKeyRef: { name: keel-secrets, key: REDIS_URL, optional: false }',
    );
  }
  env.push(
    '            # V8 heap sized for the memory limit below (docs/performance.md, "Memory").',
    '            - name: NODE_OPTIONS',
    `              value: "${ops.nodeOptions}"`,
  );
  for (const { name: envName, value } of ops.env) {
    env.push(`            - name: ${envName}`, `              value: ${value}`);
  }
  if (service.database) {
    env.push(
      '            - name: DATABASE_URL',
      '              valueFrom:',
      `                secretKeyRef: { name: keel-secrets, key: ${databaseSecretKey(service)}, optional: false }`,
    );
  }
  for (const secret of ops.secrets) {
    env.push(
      `            - name: ${secret.name}`,
      '              valueFrom:',
      `                secretKeyRef: { name: keel-secrets, key: ${secret.name}, optional: false }`,
    );
  }
  const r = ops.resources;
  return lines(
    HEADER,
    '# (scripts/registry/k8s.ts holds the template; sizes and extra settings: scripts/registry/ops.ts).',
    comment(`${name}: ${ops.description}`),
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    `  name: ${name}`,
    '  labels:',
    `    app.kubernetes.io/name: ${name}`,
    `    app.kubernetes.io/component: ${component}`,
    'spec:',
    ops.hpa
      ? '  # No `replicas`: the HorizontalPodAutoscaler (hpa.yaml) owns it, 2 to 10.'
      : '  replicas: 2',
    '  revisionHistoryLimit: 5',
    '  selector:',
    '    matchLabels:',
    `      app.kubernetes.io/name: ${name}`,
    '  strategy:',
    '    type: RollingUpdate',
    '    rollingUpdate: { maxSurge: 1, maxUnavailable: 0 }',
    '  template:',
    '    metadata:',
    '      labels:',
    `        app.kubernetes.io/name: ${name}`,
    '        app.kubernetes.io/part-of: keel',
    '      annotations:',
    '        # For annotation-based Prometheus discovery (docs/delivery.md shows the scrape job).',
    "        prometheus.io/scrape: 'true'",
    `        prometheus.io/port: '${port}'`,
    '        prometheus.io/path: /metrics',
    '    spec:',
    '      # preStop sleep (5 s) + drain (up to 5 s) + telemetry flush: the process exits 0 within',
    '      # ~15 s of SIGTERM; this leaves room before SIGKILL.',
    '      terminationGracePeriodSeconds: 30',
    '      automountServiceAccountToken: false',
    '      securityContext:',
    '        runAsNonRoot: true',
    "        runAsUser: 1000 # the image's `node` user",
    '        runAsGroup: 1000',
    '        fsGroup: 1000',
    '        seccompProfile: { type: RuntimeDefault }',
    '      # Across zones first, then across nodes. ScheduleAnyway: a single-zone cluster or a',
    "      # full node still schedules. pod-template-hash spreads each rollout's pods on its own.",
    '      topologySpreadConstraints:',
    '        - maxSkew: 1',
    '          topologyKey: topology.kubernetes.io/zone',
    '          whenUnsatisfiable: ScheduleAnyway',
    '          labelSelector:',
    `            matchLabels: { app.kubernetes.io/name: ${name} }`,
    '          matchLabelKeys: [pod-template-hash]',
    '        - maxSkew: 1',
    '          topologyKey: kubernetes.io/hostname',
    '          whenUnsatisfiable: ScheduleAnyway',
    '          labelSelector:',
    `            matchLabels: { app.kubernetes.io/name: ${name} }`,
    '          matchLabelKeys: [pod-template-hash]',
    '      containers:',
    `        - name: ${name}`,
    `          image: keel/${name}:0.1.0 # the overlay's \`images:\` sets registry and tag`,
    '          imagePullPolicy: IfNotPresent',
    '          ports:',
    '            - name: http',
    `              containerPort: ${port}`,
    '          envFrom:',
    '            - configMapRef: { name: keel-config }',
    '          env:',
    '            - name: PORT',
    `              value: "${port}"`,
    env,
    '            - name: SENTRY_DSN',
    '              valueFrom:',
    '                secretKeyRef: { name: keel-secrets, key: SENTRY_DSN, optional: true }',
    '            - name: INTERNAL_TOKEN',
    '              valueFrom:',
    '                secretKeyRef: { name: keel-secrets, key: INTERNAL_TOKEN }',
    '          resources:',
    `            requests: { cpu: ${r.requests.cpu}, memory: ${r.requests.memory} }`,
    `            limits: { cpu: '${r.limits.cpu}', memory: ${r.limits.memory} }`,
    '          securityContext:',
    '            allowPrivilegeEscalation: false',
    '            readOnlyRootFilesystem: true',
    '            capabilities: { drop: [ALL] }',
    '          volumeMounts:',
    '            - name: tmp',
    '              mountPath: /tmp',
    '          startupProbe:',
    '            httpGet: { path: /health/live, port: http }',
    '            periodSeconds: 2',
    '            failureThreshold: 30 # migrations run at start: up to 60 s',
    '          livenessProbe:',
    '            httpGet: { path: /health/live, port: http }',
    '            periodSeconds: 10',
    '            timeoutSeconds: 3',
    '            failureThreshold: 3',
    '          readinessProbe:',
    "            # 503 only while this instance's own database is down and from the first moment",
    '            # of draining; Redis and upstreams are reported, never a reason (CONTRACT §4).',
    '            httpGet: { path: /health/ready, port: http }',
    '            periodSeconds: 5',
    '            timeoutSeconds: 3',
    '            failureThreshold: 2',
    '          lifecycle:',
    '            preStop:',
    '              # Endpoints controllers and ingress controllers take a few seconds to stop',
    '              # sending traffic here; keep serving meanwhile, then SIGTERM starts the drain.',
    "              exec: { command: [sleep, '5'] }",
    '      volumes:',
    '        - name: tmp',
    '          emptyDir: { sizeLimit: 64Mi }',
    '---',
    'apiVersion: v1',
    'kind: Service',
    'metadata:',
    `  name: ${name}`,
    '  labels:',
    `    app.kubernetes.io/name: ${name}`,
    `    app.kubernetes.io/component: ${component}`,
    'spec:',
    '  type: ClusterIP',
    '  selector:',
    `    app.kubernetes.io/name: ${name}`,
    '  ports:',
    '    - name: http',
    `      port: ${port}`,
    '      targetPort: http',
    '---',
    'apiVersion: policy/v1',
    'kind: PodDisruptionBudget',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  maxUnavailable: 1',
    '  selector:',
    '    matchLabels:',
    `      app.kubernetes.io/name: ${name}`,
  );
}

/** k8s/base/config.env: the settings every app shares, with each service's URL. */
export function configEnv(registry: ServiceRegistry): string {
  return lines(
    HEADER,
    '# keel-config: settings shared by the apps (CONTRACT §2). Per-app values (PORT,',
    "# DATABASE_URL, JWT_PRIVATE_KEY) are set in each Deployment; secrets come from the overlay's",
    '# Secret `keel-secrets`. Overlays change values with a `behavior: merge` generator.',
    'NODE_ENV=production',
    'HOST=0.0.0.0',
    'LOG_LEVEL=info',
    'LOG_FORMAT=json',
    '# The apps reach each other through their Services (each reads the URLs of what it calls).',
    registry
      .upstreams()
      .filter((s) => callers(registry, s).length > 0)
      .map((s) => `${s.envStem}_URL=http://${s.name}:${s.port}`),
    '# Requests reach the gateway through the ingress controller and the services through the',
    '# gateway, all on private pod addresses: believe X-Forwarded-For from those only, so rate',
    '# limits see client IPs. If the gateway Service is exposed directly (LoadBalancer without a',
    "# proxy), remove TRUST_PROXY from the gateway (it would trust the load balancer's SNAT).",
    'TRUST_PROXY=uniquelocal',
    '# OTLP/HTTP of an OpenTelemetry Collector (the dev overlay runs one beside the apps).',
    'OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector:4318',
    'OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf',
    '# Written to only when DATABASE_URL or JWT_PRIVATE_KEY is unset; an emptyDir, because the',
    '# root filesystem is read-only.',
    'KEEL_DATA_DIR=/tmp/keel',
  );
}

/** k8s/base/hpa.yaml: a CPU autoscaler for each service whose ops ask for one. */
export function hpaFile(registry: ServiceRegistry): string {
  const scaled = registry.services.filter((s) => opsOf(s).hpa);
  const fixed = registry.services.filter((s) => !opsOf(s).hpa).map((s) => s.name);
  return lines(
    HEADER,
    comment(
      `${scaled.map((s) => s.name).join(', ')} scale on CPU (scripts/registry/ops.ts says which and at what utilisation). ` +
        'Their Deployments set no `replicas`, so re-applying the manifests never resets what the autoscaler chose. ' +
        (fixed.length ? `${fixed.join(', ')}: two fixed replicas (their Deployments).` : ''),
    ),
    scaled
      .map((s, i) => [
        ...(i > 0 ? ['---'] : []),
        'apiVersion: autoscaling/v2',
        'kind: HorizontalPodAutoscaler',
        'metadata:',
        `  name: ${s.name}`,
        'spec:',
        `  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: ${s.name} }`,
        '  minReplicas: 2',
        '  maxReplicas: 10',
        '  metrics:',
        '    - type: Resource',
        '      resource:',
        '        name: cpu',
        ...comment(opsOf(s).hpa!.comment ?? '', '        '),
        `        target: { type: Utilization, averageUtilization: ${opsOf(s).hpa!.averageUtilization} }`,
        '  behavior:',
        '    scaleDown:',
        '      stabilizationWindowSeconds: 300',
        '      policies: [{ type: Pods, value: 1, periodSeconds: 60 }]',
      ])
      .flat(),
  );
}

const MONITORING = [
  '        - namespaceSelector:',
  '            matchLabels: { kubernetes.io/metadata.name: monitoring }',
  '        - podSelector:',
  '            matchLabels: { app.kubernetes.io/name: prometheus }',
];

/** k8s/base/networkpolicy.yaml: default deny, DNS, and one policy per service from `calls`. */
export function networkPolicyFile(registry: ServiceRegistry): string {
  const policies = registry.services.map((service) => {
    const from = callers(registry, service);
    const to = service.calls.map((n) => registry.service(n));
    const gateway = service.kind === 'gateway';
    const stores = gateway
      ? ['        - { protocol: TCP, port: 6379 } # Redis']
      : service.database
        ? ['        - { protocol: TCP, port: 5432 } # PostgreSQL']
        : [];
    const storeNames = [gateway ? 'Redis' : service.database ? 'PostgreSQL' : ''].filter(Boolean);
    return [
      '---',
      ...comment(
        `${service.name}: from ${[...(gateway ? ['the ingress controller'] : []), ...from.map((s) => s.name), 'Prometheus'].join(', ')}; ` +
          `to ${[...to.map((s) => s.name), ...storeNames, 'the OTLP collector', 'Sentry'].join(', ')}.`,
      ),
      'apiVersion: networking.k8s.io/v1',
      'kind: NetworkPolicy',
      'metadata:',
      `  name: ${service.name}`,
      'spec:',
      '  podSelector:',
      `    matchLabels: { app.kubernetes.io/name: ${service.name} }`,
      '  policyTypes: [Ingress, Egress]',
      '  ingress:',
      '    - from:',
      ...(gateway
        ? [
            '        - namespaceSelector:',
            '            matchLabels: { kubernetes.io/metadata.name: ingress-nginx }',
          ]
        : []),
      ...from.flatMap((s) => [
        '        - podSelector:',
        `            matchLabels: { app.kubernetes.io/name: ${s.name} }`,
      ]),
      ...MONITORING,
      '      ports:',
      `        - { protocol: TCP, port: ${service.port} }`,
      '  egress:',
      ...to.flatMap((s) => [
        '    - to:',
        '        - podSelector:',
        `            matchLabels: { app.kubernetes.io/name: ${s.name} }`,
        '      ports:',
        `        - { protocol: TCP, port: ${s.port} }`,
      ]),
      '    - ports:',
      ...stores,
      '        - { protocol: TCP, port: 4318 } # OTLP/HTTP',
      '        - { protocol: TCP, port: 443 } # Sentry',
    ];
  });
  return lines(
    HEADER,
    '#',
    '# Nothing reaches a Keel pod, and a Keel pod reaches nothing, unless allowed below. Kubelet',
    '# probes come from the node and are not subject to these policies on common CNIs. Who may',
    "# call whom is services.json's `calls`.",
    '#',
    '# Egress to the data stores and telemetry is allowed by port, to any address: managed',
    '# PostgreSQL and Redis, the collector and Sentry live at addresses this repository cannot',
    '# know. Narrow `to:` with ipBlock CIDRs (or namespace selectors) for your environment in the',
    '# production overlay.',
    'apiVersion: networking.k8s.io/v1',
    'kind: NetworkPolicy',
    'metadata:',
    '  name: default-deny',
    'spec:',
    '  podSelector: {}',
    '  policyTypes: [Ingress, Egress]',
    '---',
    '# Every pod of the namespace may resolve names.',
    'apiVersion: networking.k8s.io/v1',
    'kind: NetworkPolicy',
    'metadata:',
    '  name: allow-dns',
    'spec:',
    '  podSelector: {}',
    '  policyTypes: [Egress]',
    '  egress:',
    '    - ports:',
    '        - { protocol: UDP, port: 53 }',
    '        - { protocol: TCP, port: 53 }',
    policies.flat(),
  );
}

function images(
  registry: ServiceRegistry,
  newName: (name: string) => string,
  tag: string,
): string[] {
  return registry.services.flatMap((s) => [
    `  - name: keel/${s.name}`,
    `    newName: ${newName(s.name)}`,
    `    newTag: ${tag}`,
  ]);
}

/** k8s/base/kustomization.yaml. */
export function baseKustomization(registry: ServiceRegistry): string {
  return lines(
    HEADER,
    '#',
    '# The apps, without secrets and without data stores. Not applied on its own: apply an',
    '# overlay, which provides the Secret `keel-secrets` and the stores.',
    '#   kubectl apply -k k8s/overlays/dev          # everything in the cluster, for trying Keel',
    '#   kubectl apply -k k8s/overlays/production   # managed PostgreSQL/Redis, your secrets',
    '# docs/delivery.md, "Kubernetes".',
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    'namespace: keel',
    '',
    'labels:',
    '  - pairs:',
    '      app.kubernetes.io/part-of: keel',
    '    includeSelectors: false',
    '',
    'resources:',
    '  - namespace.yaml',
    registry.services.map((s) => `  - ${s.name}.yaml`),
    '  - hpa.yaml',
    '  - ingress.yaml',
    '  - networkpolicy.yaml',
    '',
    '# Non-secret settings shared by the apps (CONTRACT §2). Generated with a content hash in its',
    "# name (keel-config-<hash>) and the Deployments' references rewritten to it, so a changed",
    '# setting rolls the pods instead of waiting for a manual restart.',
    'configMapGenerator:',
    '  - name: keel-config',
    '    envs: [config.env]',
    '',
    '# Where the images built from docker/Dockerfile live (overlays set registry and tag).',
    'images:',
    images(registry, (n) => `registry.example.com/keel/${n}`, '0.1.0'),
  );
}

/** k8s/overlays/production/kustomization.yaml. */
export function productionKustomization(registry: ServiceRegistry): string {
  return lines(
    HEADER,
    '#',
    '# Production: the apps against managed PostgreSQL and Redis and your OTLP collector.',
    '#',
    '#   cp k8s/overlays/production/secrets.env.example k8s/overlays/production/secrets.env',
    '#   $EDITOR k8s/overlays/production/secrets.env     # git-ignored; see docs/delivery.md',
    '#   kubectl apply -k k8s/overlays/production',
    '#',
    '# The Secret is generated from secrets.env with a content hash in its name',
    '# (keel-secrets-<hash>): applying never overwrites a Secret made by hand, a change of a',
    '# value rolls the pods, and without secrets.env nothing is applied at all (kustomize fails).',
    '# To keep secrets out of files entirely, delete the secretGenerator and provide',
    '# `keel-secrets` with External Secrets / Sealed Secrets instead (docs/delivery.md).',
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    'namespace: keel',
    '',
    'resources:',
    '  - ../../base',
    '',
    "# Prometheus Operator: ServiceMonitors and the repo's alert rules as a PrometheusRule.",
    '# components:',
    '#   - ../../components/prometheus-operator',
    '',
    'secretGenerator:',
    '  - name: keel-secrets',
    '    envs: [secrets.env]',
    '',
    'configMapGenerator:',
    '  - name: keel-config',
    '    behavior: merge',
    '    literals:',
    "      # Your collector's OTLP/HTTP endpoint.",
    '      - OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector.observability.svc:4318',
    '',
    'images:',
    images(registry, (n) => `registry.example.com/keel/${n}`, '0.1.0'),
  );
}

/** k8s/overlays/production/secrets.env.example: every key the Deployments read. */
export function secretsExample(registry: ServiceRegistry): string {
  const secrets = registry.services.flatMap((s) => opsOf(s).secrets);
  return lines(
    `# ${GENERATED}`,
    '#',
    '# Copy to secrets.env (git-ignored) and fill in every value; one KEY=value per line.',
    '# The apps refuse to start with a value that appears in this repository or an internal',
    '# token shorter than 32 characters (CONTRACT §6).',
    '#',
    '# openssl rand -base64 48',
    'INTERNAL_TOKEN=',
    secrets.flatMap((s) => [...s.exampleComment.map((c) => `# ${c}`), `${s.name}=`]),
    '# Managed PostgreSQL: one database per service, or one shared (each app keeps its own',
    '# migration table). Migrations run at start under an advisory lock.',
    registry.services.filter((s) => s.database).map((s) => `${databaseSecretKey(s)}=`),
    '# Managed Redis: rate-limit counts shared by the gateway replicas.',
    'REDIS_URL=',
    '# Empty: Sentry off.',
    'SENTRY_DSN=',
  );
}

/** k8s/overlays/dev/kustomization.yaml. */
export function devKustomization(registry: ServiceRegistry): string {
  const patches: string[] = [];
  for (const service of registry.services) {
    const ops = opsOf(service);
    const generated = ops.secrets.filter((s) => s.devGenerated);
    const { name } = service;
    if (generated.length && ops.hpa) {
      patches.push(
        `  # One ${name} with its own generated ${generated.map((s) => s.name).join(', ')} (development mode); no autoscaler.`,
        `  - target: { kind: HorizontalPodAutoscaler, name: ${name} }`,
        '    patch: |',
        '      $patch: delete',
        '      apiVersion: autoscaling/v2',
        '      kind: HorizontalPodAutoscaler',
        '      metadata:',
        `        name: ${name}`,
      );
    }
    patches.push(
      `  - target: { kind: Deployment, name: ${name} }`,
      '    patch: |',
      '      apiVersion: apps/v1',
      '      kind: Deployment',
      '      metadata:',
      `        name: ${name}`,
      '      spec:',
      ...(generated.length ? ['        replicas: 1'] : []),
      '        template:',
      '          spec:',
      '            containers:',
      `              - name: ${name}`,
      '                env:',
      ...[...generated.map((s) => s.name), 'INTERNAL_TOKEN'].flatMap((env) => [
        `                  - name: ${env}`,
        '                    $patch: delete',
      ]),
    );
  }
  return lines(
    HEADER,
    '#',
    '# Everything in one namespace, for trying Keel on a local cluster (kind, minikube, k3d):',
    '# the apps plus PostgreSQL, Redis, an OpenTelemetry Collector, Jaeger, Prometheus (with the',
    "# repository's alert rules), Alertmanager and Grafana (with the repository's dashboards).",
    '# Data stores keep their data in emptyDirs: a restarted pod starts empty.',
    '#',
    '#   kubectl apply -k k8s/overlays/dev',
    `#   kubectl -n keel port-forward svc/${registry.gateway().name} ${registry.gateway().port}:${registry.gateway().port}`,
    '#   kubectl -n keel port-forward svc/grafana 3300:3000      # also jaeger 16686, prometheus 9090',
    '#',
    '# The apps run with NODE_ENV=development (and CHAOS_ENABLED=true for `npm run load',
    '# -- --chaos`): the development INTERNAL_TOKEN and a per-pod signing key are accepted there,',
    '# so a service with a generated key runs one replica. Files under generated/ are copies',
    '# written by npm run sync:registry; never edit them.',
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    'namespace: keel',
    '',
    'resources:',
    '  - ../../base',
    '  - stores.yaml',
    '  - telemetry.yaml',
    '  - networkpolicy.yaml',
    '',
    'labels:',
    '  - pairs:',
    '      app.kubernetes.io/instance: keel-dev',
    '    includeSelectors: false',
    '',
    'configMapGenerator:',
    '  - name: keel-config',
    '    behavior: merge',
    '    literals:',
    '      - NODE_ENV=development',
    '      - CHAOS_ENABLED=true',
    '      - LOG_LEVEL=debug',
    '  - name: postgres-init',
    '    files: [generated/postgres-init.sql]',
    '  - name: otel-collector',
    '    files: [config.yml=generated/otel-collector.yml]',
    '  - name: prometheus',
    '    files: [prometheus.yml, alerts.yml=generated/alerts.yml]',
    '  - name: alertmanager',
    '    files: [alertmanager.yml=generated/alertmanager.yml]',
    '  - name: grafana-provisioning',
    '    files:',
    '      - datasources.yml=generated/grafana-datasources.yml',
    '      - dashboards.yml=generated/grafana-dashboards.yml',
    '  - name: grafana-dashboards',
    '    files:',
    '      - generated/dashboards/keel-overview.json',
    registry.services.map((s) => `      - generated/dashboards/keel-${s.name}.json`),
    '',
    '# Development values only: these stores exist only inside this namespace.',
    'secretGenerator:',
    '  - name: keel-secrets',
    '    literals:',
    registry.services
      .filter((s) => s.database)
      .map(
        (s) =>
          `      - ${databaseSecretKey(s)}=postgres://keel:keel@postgres:5432/${databaseName(s)}`,
      ),
    '      - REDIS_URL=redis://redis:6379',
    '      - SENTRY_DSN=',
    '',
    'patches:',
    patches,
    '',
    'images:',
    '  # Built locally and loaded into the cluster (kind load docker-image keel/<app>:local ...).',
    images(registry, (n) => `keel/${n}`, 'local'),
  );
}
