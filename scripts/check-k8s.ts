/**
 * The Kubernetes part of scripts/check-delivery.ts: every rendered overlay is validated
 * against Kubernetes' schemas (kubernetes-models, the OpenAPI schemas compiled to
 * validators; @kubernetes-models/prometheus-operator for the optional component), against
 * Pod Security "restricted", and against what the apps (from services.json) read and serve.
 */
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-explicit-any -- rendered objects are read by their known shape */
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadRegistry, type ServiceRegistry } from './registry/model';
import { opsOf } from './registry/ops';

type Json = any;
const PROBE_PATHS = new Set(['/health/live', '/health/ready']);
const HASHED = /-[a-z0-9]{10}$/;

/** Validates one object with its kubernetes-models class; returns problems. */
async function schemaProblems(doc: Json): Promise<string[]> {
  const [group, version] = doc.apiVersion.includes('/')
    ? doc.apiVersion.split('/')
    : ['', doc.apiVersion];
  const pkg = group.endsWith('coreos.com')
    ? '@kubernetes-models/prometheus-operator'
    : 'kubernetes-models';
  const sub = group.endsWith('coreos.com')
    ? `${group}/${version}`
    : group
      ? `${group}/${version}`
      : version;
  let file: string;
  try {
    file = require
      .resolve(`${pkg}/package.json`, { paths: [__dirname] })
      .replace(/package\.json$/, `${sub}/${doc.kind}.js`);
  } catch {
    return [`${pkg} is not installed (npm ci)`];
  }
  if (!fs.existsSync(file)) {
    return [`${doc.apiVersion} ${doc.kind} is not a known Kubernetes type`];
  }
  const model = (await import(file))[doc.kind];
  try {
    new model(doc).validate();
    return [];
  } catch (error) {
    return [
      String((error as Error).message)
        .split('\n')
        .slice(0, 5)
        .join('; '),
    ];
  }
}

/** Pod Security Standards, "restricted" profile (v1.30), for one pod spec. */
function restrictedProblems(spec: Json): string[] {
  const problems: string[] = [];
  const pod = spec.securityContext ?? {};
  const containers: Json[] = [
    ...(spec.containers ?? []),
    ...(spec.initContainers ?? []),
    ...(spec.ephemeralContainers ?? []),
  ];
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) {
    problems.push('host namespaces');
  }
  const allowedVolumes = [
    'configMap',
    'csi',
    'downwardAPI',
    'emptyDir',
    'ephemeral',
    'persistentVolumeClaim',
    'projected',
    'secret',
  ];
  for (const v of spec.volumes ?? []) {
    const type = Object.keys(v).find((k: Json) => k !== 'name');
    if (!allowedVolumes.includes(type ?? '')) {
      problems.push(`volume ${v.name} of type ${type}`);
    }
  }
  if (pod.runAsUser === 0) {
    problems.push('pod runAsUser 0');
  }
  if (pod.sysctls?.length) {
    problems.push('sysctls');
  }
  for (const c of containers) {
    const sc = c.securityContext ?? {};
    if (sc.privileged) {
      problems.push(`${c.name}: privileged`);
    }
    if (sc.allowPrivilegeEscalation !== false) {
      problems.push(`${c.name}: allowPrivilegeEscalation must be false`);
    }
    if (!(sc.runAsNonRoot ?? pod.runAsNonRoot)) {
      problems.push(`${c.name}: runAsNonRoot must be true`);
    }
    if (sc.runAsUser === 0) {
      problems.push(`${c.name}: runAsUser 0`);
    }
    const seccomp = (sc.seccompProfile ?? pod.seccompProfile)?.type;
    if (!['RuntimeDefault', 'Localhost'].includes(seccomp)) {
      problems.push(`${c.name}: seccompProfile RuntimeDefault or Localhost required`);
    }
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) {
      problems.push(`${c.name}: capabilities must drop ALL`);
    }
    for (const cap of sc.capabilities?.add ?? []) {
      if (cap !== 'NET_BIND_SERVICE') {
        problems.push(`${c.name}: adds capability ${cap}`);
      }
    }
    for (const p of c.ports ?? []) {
      if (p.hostPort) {
        problems.push(`${c.name}: hostPort ${p.hostPort}`);
      }
    }
  }
  return problems;
}

export interface KubernetesCheckInput {
  root: string;
  registry: ServiceRegistry;
  /** Where check-delivery's renderKustomize wrote <overlay>.yaml; '' when nothing was rendered. */
  renderedDir: string;
  loadAllYaml: (text: string) => Json[];
  envNames: Set<string>;
  ok: (msg: string) => void;
  fail: (msg: string, details?: string[]) => void;
  skip: (msg: string) => void;
}

export async function checkKubernetes({
  root,
  registry,
  renderedDir,
  loadAllYaml,
  envNames,
  ok,
  fail,
  skip,
}: KubernetesCheckInput): Promise<void> {
  const APPS = registry.services.map((s) => s.name);
  const PORTS: Record<string, number> = Object.fromEntries(
    registry.services.map((s) => [s.name, s.port]),
  );
  const GATEWAY = registry.gateway().name;
  const rendered: Record<string, Json[]> = {};
  for (const name of ['base', 'dev', 'production', 'check-components', 'root']) {
    const file = renderedDir ? path.join(renderedDir, `${name}.yaml`) : '';
    if (file && fs.existsSync(file)) {
      rendered[name] = loadAllYaml(fs.readFileSync(file, 'utf8')).filter(Boolean);
    }
  }
  if (!renderedDir) {
    skip('k8s objects: nothing rendered (kubectl missing), schemas and rules not checked');
    return;
  }
  const check = (msg: string, problems: string[]): void =>
    problems.length ? fail(msg, problems) : ok(msg);

  // Schemas, Pod Security, namespace: every object of every overlay.
  for (const [overlay, docs] of Object.entries(rendered)) {
    const schema: string[] = [];
    const pss: string[] = [];
    for (const doc of docs) {
      const where = `${overlay}: ${doc.kind} ${doc.metadata?.name}`;
      for (const p of await schemaProblems(doc)) {
        schema.push(`${where}: ${p}`);
      }
      const spec =
        doc.kind === 'Pod'
          ? doc.spec
          : (doc.spec?.template?.spec ?? doc.spec?.jobTemplate?.spec?.template?.spec);
      if (spec?.containers) {
        for (const p of restrictedProblems(spec)) {
          pss.push(`${where}: ${p}`);
        }
      }
      if (doc.kind !== 'Namespace' && doc.metadata?.namespace !== 'keel') {
        schema.push(`${where}: not in namespace keel`);
      }
    }
    const ns = docs.find((d: Json) => d.kind === 'Namespace');
    if (ns?.metadata?.labels?.['pod-security.kubernetes.io/enforce'] !== 'restricted') {
      pss.push(`${overlay}: namespace keel must enforce Pod Security restricted`);
    }
    check(`k8s ${overlay}: ${docs.length} objects valid against the Kubernetes schemas`, schema);
    check(`k8s ${overlay}: every pod passes Pod Security "restricted"`, pss);
  }

  // `kubectl apply -k k8s/` (CONTRACT §8) is the production overlay, object for object.
  if (rendered.root && rendered.production) {
    const same = JSON.stringify(rendered.root) === JSON.stringify(rendered.production);
    check(
      'kubectl apply -k k8s/ applies the production overlay',
      same ? [] : ['k8s/kustomization.yaml renders something else than overlays/production'],
    );
  }

  // The base is not applied alone and holds no secret.
  check(
    'k8s base: no Secret (overlays provide keel-secrets)',
    (rendered.base ?? [])
      .filter((d: Json) => d.kind === 'Secret')
      .map((d: Json) => `Secret ${d.metadata.name} in the base`),
  );

  for (const overlay of ['dev', 'production']) {
    const docs = rendered[overlay];
    if (!docs) {
      continue;
    }
    const problems: string[] = [];
    const of = (kind: string): Json[] => docs.filter((d: Json) => d.kind === kind);
    const byName = (kind: string, name: string): Json =>
      of(kind).find((d: Json) => d.metadata?.name === name);
    const configMaps = new Map<string, Json>(
      of('ConfigMap').map((c: Json) => [c.metadata.name, c]),
    );
    const secrets = new Map<string, Json>(of('Secret').map((s: Json) => [s.metadata.name, s]));
    for (const name of [...configMaps.keys(), ...secrets.keys()]) {
      if (!HASHED.test(name)) {
        problems.push(
          `${name}: not a generated (content-hashed) name, so a change would not roll the pods`,
        );
      }
    }
    const keelConfig = [...configMaps.values()].find((c: Json) =>
      c.metadata.name.startsWith('keel-config-'),
    );
    if (!keelConfig) {
      problems.push('keel-config missing');
    }
    problems.push(
      ...[...Object.keys(keelConfig?.data ?? {})]
        .filter((n: Json) => !envNames.has(n))
        .map((n: Json) => `keel-config: ${n} is read by no app`),
    );
    if (overlay === 'production') {
      if (keelConfig?.data?.NODE_ENV !== 'production') {
        problems.push('keel-config: NODE_ENV must be production');
      }
      if (keelConfig?.data?.CHAOS_ENABLED !== undefined) {
        problems.push('keel-config: CHAOS_ENABLED is refused in production');
      }
    }
    const hpas = of('HorizontalPodAutoscaler');
    for (const app of APPS) {
      const d = byName('Deployment', app);
      const where = `${overlay} Deployment ${app}`;
      if (!d) {
        problems.push(`${where} missing`);
        continue;
      }
      const pod = d.spec.template.spec;
      const c = pod.containers.find((x: Json) => x.name === app) ?? pod.containers[0];
      const env = new Map<string, Json>((c.env ?? []).map((e: Json) => [e.name, e]));
      for (const name of env.keys()) {
        if (!envNames.has(name)) {
          problems.push(`${where}: env ${name} is read by no app`);
        }
      }
      if (String(env.get('PORT')?.value) !== String(PORTS[app])) {
        problems.push(`${where}: PORT must be ${PORTS[app]}`);
      }
      const ports = new Map<string, number>(
        (c.ports ?? []).map((p: Json) => [p.name, p.containerPort]),
      );
      if (ports.get('http') !== PORTS[app]) {
        problems.push(`${where}: containerPort http must be ${PORTS[app]} (PORT)`);
      }
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        const get = c[probe]?.httpGet;
        if (!get) {
          problems.push(`${where}: no ${probe}`);
          continue;
        }
        if (!PROBE_PATHS.has(get.path)) {
          problems.push(`${where}: ${probe} on ${get.path}, not a route the apps serve`);
        }
        if (typeof get.port === 'string' ? !ports.has(get.port) : get.port !== PORTS[app]) {
          problems.push(`${where}: ${probe} port ${get.port} is not the app's port`);
        }
      }
      if (c.readinessProbe?.httpGet?.path !== '/health/ready') {
        problems.push(`${where}: readiness must probe /health/ready`);
      }
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (!ref) {
          continue;
        }
        const secret = secrets.get(ref.name);
        const keys = new Set<string>(
          Object.keys({ ...(secret?.data ?? {}), ...(secret?.stringData ?? {}) }),
        );
        if (!secret || (!keys.has(ref.key) && !ref.optional)) {
          problems.push(
            `${where}: ${e.name} refers to ${ref.name}/${ref.key}, not in any Secret of the overlay`,
          );
        }
      }
      for (const from of c.envFrom ?? []) {
        if (from.configMapRef && !configMaps.has(from.configMapRef.name)) {
          problems.push(`${where}: envFrom ${from.configMapRef.name} does not exist`);
        }
      }
      const service = registry.service(app);
      if (overlay === 'production') {
        for (const secret of opsOf(service).secrets) {
          if (!env.has(secret.name)) {
            problems.push(`${where}: ${secret.name} not set`);
          }
        }
      }
      if (app === GATEWAY && !env.has('REDIS_URL')) {
        problems.push(`${where}: REDIS_URL not set (replicas must share rate-limit counts)`);
      }
      if (service.database && !env.has('DATABASE_URL')) {
        problems.push(`${where}: DATABASE_URL not set`);
      }
      const hpa = hpas.find((h: Json) => h.spec.scaleTargetRef.name === app);
      if (overlay === 'production') {
        if (opsOf(service).hpa) {
          if (!hpa || hpa.spec.minReplicas < 2) {
            problems.push(`${where}: needs a HorizontalPodAutoscaler with minReplicas >= 2`);
          }
          if (d.spec.replicas !== undefined) {
            problems.push(
              `${where}: sets replicas, which every apply would reset under the autoscaler`,
            );
          }
        } else if ((d.spec.replicas ?? 1) < 2) {
          problems.push(`${where}: fewer than 2 replicas`);
        }
      }
      const keys: string[] = (pod.topologySpreadConstraints ?? []).map((t: Json) => t.topologyKey);
      for (const k of ['topology.kubernetes.io/zone', 'kubernetes.io/hostname']) {
        if (!keys.includes(k)) {
          problems.push(`${where}: no topology spread over ${k}`);
        }
      }
      if (!c.lifecycle?.preStop) {
        problems.push(`${where}: no preStop`);
      }
      if (!((pod.terminationGracePeriodSeconds ?? 30) > 15)) {
        problems.push(`${where}: terminationGracePeriodSeconds must exceed 15`);
      }
      if (!c.securityContext?.readOnlyRootFilesystem) {
        problems.push(`${where}: readOnlyRootFilesystem`);
      }
      const dataDir: string = keelConfig?.data?.KEEL_DATA_DIR ?? '';
      if (!(c.volumeMounts ?? []).some((m: Json) => dataDir.startsWith(m.mountPath))) {
        problems.push(`${where}: KEEL_DATA_DIR ${dataDir} is not on a writable volume`);
      }
      if (!c.resources?.requests || !c.resources?.limits?.memory) {
        problems.push(`${where}: resources`);
      }
      const svc = byName('Service', app);
      if (!svc || svc.spec.ports[0].port !== PORTS[app]) {
        problems.push(`Service ${app} missing or not on ${PORTS[app]}`);
      }
      if (svc && svc.spec.type && svc.spec.type !== 'ClusterIP') {
        problems.push(`Service ${app}: ${svc.spec.type}; only the Ingress is public`);
      }
      const labels = d.spec.template.metadata.labels;
      if (svc && !Object.entries(svc.spec.selector).every(([k, v]) => labels[k] === v)) {
        problems.push(`Service ${app} does not select the pods`);
      }
      const sel = d.spec.selector.matchLabels;
      if (
        !of('PodDisruptionBudget').some((p: Json) =>
          Object.entries(p.spec.selector.matchLabels).every(([k, v]) => sel[k] === v),
        )
      ) {
        problems.push(`${where}: no PodDisruptionBudget`);
      }
      const policies = of('NetworkPolicy').filter(
        (p: Json) => p.spec.podSelector?.matchLabels?.['app.kubernetes.io/name'] === app,
      );
      if (
        !policies.some(
          (p: Json) =>
            (p.spec.policyTypes ?? []).includes('Egress') && (p.spec.egress ?? []).length,
        )
      ) {
        problems.push(`${where}: no egress NetworkPolicy`);
      }
    }
    for (const h of hpas) {
      if (!byName('Deployment', h.spec.scaleTargetRef.name)) {
        problems.push(`HPA ${h.metadata.name} targets a missing Deployment`);
      }
    }
    const deny = of('NetworkPolicy').find(
      (p: Json) =>
        Object.keys(p.spec.podSelector ?? {}).length === 0 &&
        !(p.spec.ingress ?? []).length &&
        !(p.spec.egress ?? []).length,
    );
    if (!deny || !['Ingress', 'Egress'].every((t: Json) => deny.spec.policyTypes.includes(t))) {
      problems.push('no default-deny NetworkPolicy for Ingress and Egress');
    }
    const backends: string[] = of('Ingress').flatMap((i: Json) =>
      i.spec.rules.flatMap((r: Json) => r.http.paths.map((p: Json) => p.backend.service.name)),
    );
    if (!backends.length || backends.some((b: Json) => b !== GATEWAY)) {
      problems.push(`Ingress must route only to ${GATEWAY} (routes to ${backends.join(', ')})`);
    }
    check(
      `k8s ${overlay}: hashed ConfigMaps/Secrets, env names, Secret keys, probes on /health/*, ports, HPAs, zone+host spread, PDBs, egress policies, Ingress`,
      problems,
    );
  }

  // The dev overlay brings its stores and telemetry, wired to the repository's files.
  if (rendered.dev) {
    const docs = rendered.dev;
    const problems = [];
    for (const name of [
      'postgres',
      'redis',
      'otel-collector',
      'jaeger',
      'prometheus',
      'alertmanager',
      'grafana',
    ]) {
      if (!docs.some((d: Json) => d.kind === 'Deployment' && d.metadata.name === name)) {
        problems.push(`Deployment ${name} missing`);
      }
      if (!docs.some((d: Json) => d.kind === 'Service' && d.metadata.name === name)) {
        problems.push(`Service ${name} missing`);
      }
    }
    const cm = (prefix: string): Json =>
      docs.find(
        (d: Json) =>
          d.kind === 'ConfigMap' &&
          d.metadata.name.startsWith(`${prefix}-`) &&
          HASHED.test(d.metadata.name),
      );
    const same = (data: Json, key: string, file: string): boolean =>
      data?.[key] !== undefined &&
      data[key].endsWith(fs.readFileSync(path.join(root, file), 'utf8'));
    if (!same(cm('prometheus')?.data, 'alerts.yml', 'prometheus/alerts.yml')) {
      problems.push('the dev Prometheus does not load prometheus/alerts.yml');
    }
    for (const f of fs.readdirSync(path.join(root, 'grafana/dashboards'))) {
      if (!same(cm('grafana-dashboards')?.data, f, `grafana/dashboards/${f}`)) {
        problems.push(`the dev Grafana does not get grafana/dashboards/${f}`);
      }
    }
    if (!same(cm('otel-collector')?.data, 'config.yml', 'docker/otel-collector.yml')) {
      problems.push('the dev collector does not use docker/otel-collector.yml');
    }
    const config = docs.find(
      (d: Json) => d.kind === 'ConfigMap' && d.metadata.name.startsWith('keel-config-'),
    );
    if (!/^http:\/\/otel-collector:4318$/.test(config?.data?.OTEL_EXPORTER_OTLP_ENDPOINT ?? '')) {
      problems.push('dev apps must export to the in-cluster collector');
    }
    check(
      'k8s dev: PostgreSQL, Redis, Collector, Jaeger, Prometheus with the repo rules, Alertmanager, Grafana with the repo dashboards',
      problems,
    );
  }
  if (rendered['check-components']) {
    const kinds = rendered['check-components'].map((d: Json) => d.kind);
    check(
      'k8s component prometheus-operator: a ServiceMonitor and the PrometheusRule',
      ['ServiceMonitor', 'PrometheusRule']
        .filter((k: Json) => !kinds.includes(k))
        .map((k: Json) => `${k} missing`),
    );
  }
}

/**
 * The environment variables the apps read: quoted or back-quoted names in the config
 * readers, `<STEM>_URL` of every registry service (readServiceUrl), and CONTRACT §2's table.
 */
export function appEnvNames(root: string, registry: ServiceRegistry): Set<string> {
  const rel = (...p: string[]): string => path.join(root, ...p);
  const configDirs = registry.services
    .map((s) => `apps/${s.name}/src/config`)
    .filter((dir) => fs.existsSync(rel(dir)));
  const configReaders = [
    'libs/platform/src/config/base-config.ts',
    ...configDirs.flatMap((dir) =>
      fs
        .readdirSync(rel(dir))
        .filter((f) => !f.includes('spec'))
        .map((f) => `${dir}/${f}`),
    ),
    'libs/observability/src/tracing/tracing-settings.ts',
    'libs/observability/src/errors/sentry-settings.ts',
  ].filter((file) => fs.existsSync(rel(file)));
  const envNames = new Set<string>(registry.services.map((s) => `${s.envStem}_URL`));
  // Read by Node.js itself, not by an app's config: the V8 heap flags (scripts/registry/ops.ts).
  envNames.add('NODE_OPTIONS');
  for (const file of configReaders) {
    for (const m of fs
      .readFileSync(rel(file), 'utf8')
      .matchAll(/[`'"]([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|PORT|HOST)[`'"]/g)) {
      envNames.add(m[1]);
    }
  }
  const contractFile = rel('..', 'shared', 'CONTRACT.md');
  const contract = fs.existsSync(contractFile) ? fs.readFileSync(contractFile, 'utf8') : '';
  const section2 = contract.split(/^## /m).find((s) => s.startsWith('2.')) ?? '';
  for (const m of section2.matchAll(/^\| (.*?) \|/gm)) {
    for (const n of m[1].matchAll(/`([A-Z][A-Z0-9_]+)`/g)) {
      envNames.add(n[1]);
    }
  }
  return envNames;
}

/**
 * Renders base, dev, production (secrets.env from the example with dummy values), production
 * with the prometheus-operator component, and the root kustomization of a copy of `k8sDir`
 * into `outDir` as <name>.yaml (base, dev, production, check-components, root).
 */
export function renderKustomize(
  k8sDir: string,
  outDir: string,
  report: (target: string, ok: boolean, stderr: string) => void,
): void {
  const copy = path.join(outDir, 'k8s');
  fs.cpSync(k8sDir, copy, { recursive: true });
  const example = fs.readFileSync(
    path.join(copy, 'overlays/production/secrets.env.example'),
    'utf8',
  );
  fs.writeFileSync(
    path.join(copy, 'overlays/production/secrets.env'),
    example.replace(/^([A-Z_]+)=$/gm, '$1=check-delivery-$1'),
  );
  fs.mkdirSync(path.join(copy, 'overlays/check-components'));
  fs.writeFileSync(
    path.join(copy, 'overlays/check-components/kustomization.yaml'),
    'namespace: keel\nresources: [../production]\ncomponents: [../../components/prometheus-operator]\n',
  );
  for (const target of [
    'base',
    'overlays/dev',
    'overlays/production',
    'overlays/check-components',
    '',
  ]) {
    const out = path.join(outDir, `${target ? path.basename(target) : 'root'}.yaml`);
    const result = spawnSync('kubectl', ['kustomize', path.join(copy, target)], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (result.status === 0) {
      fs.writeFileSync(out, result.stdout);
      report(target, true, '');
    } else {
      report(target, false, result.stderr ?? String(result.error));
    }
  }
}

/**
 * On its own: renders `<root>/k8s` and runs the checks above against the registry at
 * `--registry` (default `<root>/services.json`), the env names read from this repository's
 * apps. check-delivery does the same for the repository; the registry test runs this on a
 * generated copy (Jest cannot load kubernetes-models' ES modules in-process).
 *
 *   node -r ./scripts/ts-register.js scripts/check-k8s.ts --root <dir> [--registry <file>]
 */
async function cli(args: string[]): Promise<number> {
  const option = (name: string): string | undefined => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const repo = path.join(__dirname, '..');
  const root = path.resolve(option('--root') ?? repo);
  const registry = loadRegistry(
    path.resolve(option('--registry') ?? path.join(root, 'services.json')),
  );
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const jsYaml = require('js-yaml') as { loadAll(text: string): unknown[] };
  let failed = 0;
  const fail = (msg: string, details: string[] = []): void => {
    failed += 1;
    console.log([`FAIL  ${msg}`, ...details.map((d) => `      ${d}`)].join('\n'));
  };
  const renderedDir = fs.mkdtempSync(path.join(tmpdir(), 'keel-check-k8s-'));
  try {
    renderKustomize(path.join(root, 'k8s'), renderedDir, (target, ok, stderr) =>
      ok
        ? console.log(`ok    kubectl kustomize k8s/${target} renders`)
        : fail(`kubectl kustomize k8s/${target} renders`, stderr.split('\n')),
    );
    await checkKubernetes({
      root,
      registry,
      renderedDir,
      loadAllYaml: (text) => jsYaml.loadAll(text),
      envNames: appEnvNames(repo, registry),
      ok: (msg) => console.log(`ok    ${msg}`),
      fail,
      skip: (msg) => fail(`${msg} (could not run)`),
    });
  } finally {
    fs.rmSync(renderedDir, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

if (require.main === module) {
  cli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: Error) => {
      console.log(`FAIL  check-k8s crashed: ${error.stack}`);
      process.exitCode = 1;
    },
  );
}
