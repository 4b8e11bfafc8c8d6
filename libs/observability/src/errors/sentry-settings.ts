// Deep import on purpose: the platform barrel loads http, express and TypeORM, which must
// not be required before the tracing SDK has hooked them. env-reader has no such imports.
import { type Env, EnvReader } from '@keel/platform/config/env-reader';

/** What error reporting needs from the environment, read before the app's config loader. */
export interface SentrySettings {
  /** `SENTRY_DSN`; unset turns Sentry off entirely. */
  dsn: string | undefined;
  /** `SENTRY_ENVIRONMENT`, default `NODE_ENV`. */
  environment: string;
  /** `SENTRY_RELEASE`, default the package version. */
  release: string;
  /** The `service` tag (`OTEL_SERVICE_NAME`, default the app name). */
  serviceName: string;
  /** Values scrubbed from every event wherever they appear (the internal token). */
  secrets: string[];
  /** How long shutdown and a crash wait for pending events, ms. */
  shutdownTimeoutMs: number;
}

export interface SentryDefaults {
  /** The app name, used when `OTEL_SERVICE_NAME` is unset. */
  serviceName: string;
  version: string;
}

/** Pending events get this long on SIGTERM or a crash before the process exits anyway. */
export const SENTRY_SHUTDOWN_TIMEOUT_MS = 2000;

/**
 * Reads the standard Sentry variables with the same defaults as the app's config loader
 * (CONTRACT §2), which validates them again once the app starts.
 *
 * @throws ConfigValidationError naming every bad variable.
 */
export function readSentrySettings(env: Env, defaults: SentryDefaults): SentrySettings {
  const r = new EnvReader(env);
  const nodeEnv = r.string('NODE_ENV', 'development');
  const settings: SentrySettings = {
    dsn: r.url('SENTRY_DSN', undefined, ['http', 'https']),
    environment: r.string('SENTRY_ENVIRONMENT', nodeEnv),
    release: r.string('SENTRY_RELEASE', defaults.version),
    serviceName: r.string('OTEL_SERVICE_NAME', defaults.serviceName),
    secrets: [r.raw('INTERNAL_TOKEN')].filter((value): value is string => value !== undefined),
    shutdownTimeoutMs: SENTRY_SHUTDOWN_TIMEOUT_MS,
  };
  r.done();
  return settings;
}
