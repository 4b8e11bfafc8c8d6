import { type RegistryService } from './model';

/**
 * How a service is run, beyond what services.json says: sizes, autoscaling, extra settings
 * and secrets. A new service needs no entry here (every field has a default); an entry only
 * records where an existing service differs.
 */
export interface ServiceOps {
  /** What the service is, for the comment on its k8s manifest. */
  description: string;
  /** Compose `mem_limit` (default 256m), with a comment why when it differs. */
  composeMemLimit: string;
  composeMemComment?: string;
  /** Container resources in Kubernetes. */
  resources: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
  /** A CPU HorizontalPodAutoscaler (2 to 10) instead of a fixed `replicas: 2`. */
  hpa?: { averageUtilization: number; comment?: string };
  /** What to look at first when its p95 is high (the latency alert of a `latencySlo`). */
  latencyHint?: string;
  /**
   * V8 heap flags (`NODE_OPTIONS`), in each Deployment and compose service: the old-space
   * ceiling must leave room in `resources.limits.memory` for the young generation (2 x the
   * semi-space), the node binary (~50 MiB) and native memory (~25 MiB; argon2id's 19 MiB per
   * hash in flight for auth-service). Same default as docker/Dockerfile, scripts/start.js and
   * bench/sla.mjs (check:delivery compares them); measured in docs/performance.md ("Memory").
   */
  nodeOptions: string;
  /** Plain settings of its own, in each Deployment and compose service. */
  env: { name: string; value: string }[];
  /**
   * Secrets of its own: a compose variable the operator must set and a key of keel-secrets
   * in Kubernetes. `devGenerated`: development mode makes one per process, so the dev overlay
   * leaves it out and runs one replica without an autoscaler.
   */
  secrets: {
    name: string;
    composeComment: string[];
    exampleComment: string[];
    devGenerated?: boolean;
  }[];
}

/** The platform's V8 heap flags: see {@link ServiceOps.nodeOptions}. */
export const NODE_OPTIONS = '--max-old-space-size=128 --max-semi-space-size=32';

const DEFAULTS: Omit<ServiceOps, 'description'> = {
  composeMemLimit: '256m',
  nodeOptions: NODE_OPTIONS,
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } },
  env: [],
  secrets: [],
};

const OPS: Record<string, Partial<ServiceOps>> = {
  'api-gateway': {
    description:
      "The only public entry (ingress.yaml). Verifies JWTs against auth-service's JWKS and rate-limits in Redis, so replicas share one count.",
    hpa: { averageUtilization: 70 },
  },
  'auth-service': {
    description:
      'Credentials, sessions, token signing. argon2id (OWASP: 19 MiB, t=2) costs CPU and memory per login: size requests for the login rate you expect. Every replica reads the same JWT_PRIVATE_KEY from the Secret.',
    latencyHint: 'auth_password_hash_duration_seconds (argon2 on a starved CPU)',
    composeMemLimit: '512m',
    composeMemComment: 'argon2id takes 19 MiB per hash in flight.',
    resources: {
      requests: { cpu: '250m', memory: '192Mi' },
      limits: { cpu: '2', memory: '512Mi' },
    },
    hpa: {
      averageUtilization: 60,
      comment: 'argon2id saturates a core per login in flight: scale before latency suffers.',
    },
    secrets: [
      {
        name: 'JWT_PRIVATE_KEY',
        composeComment: [
          'PKCS#8 PEM, P-256; `\\n` escapes are accepted. Required in production; keep it in',
          'docker/.env (read by every compose command, ignored by git), see docs/delivery.md.',
        ],
        exampleComment: [
          'PKCS#8 PEM, P-256, on one line with \\n escapes:',
          '  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 | awk \'{printf "%s\\\\n", $0}\'',
          'Every auth-service replica must get the same key.',
        ],
        devGenerated: true,
      },
    ],
  },
  'users-service': {
    description:
      'User profiles. The profile cache is per replica (PROFILE_CACHE_TTL bounds how long another replica shows an old profile after a PATCH).',
    env: [{ name: 'PROFILE_CACHE_TTL', value: '30s' }],
  },
};

/** The run settings of `service`: its entry over the defaults. */
export function opsOf(service: RegistryService): ServiceOps {
  const own = OPS[service.name] ?? {};
  return {
    ...DEFAULTS,
    description: `The ${service.name} ${service.kind === 'gateway' ? 'gateway' : 'service'}.`,
    ...own,
  };
}
