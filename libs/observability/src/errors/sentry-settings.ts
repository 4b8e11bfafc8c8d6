import { type BaseConfig } from '@keel/platform/config/base-config';

/** What error reporting needs, taken from the app's validated configuration. */
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

/** The part of the app's configuration telemetry reads. */
export type TelemetryConfig = Pick<
  BaseConfig,
  'app' | 'serviceName' | 'version' | 'nodeEnv' | 'sentry' | 'internalToken'
>;

/** Pending events get this long on SIGTERM or a crash before the process exits anyway. */
export const SENTRY_SHUTDOWN_TIMEOUT_MS = 2000;

/**
 * Sentry's settings from the app's configuration (read once, by the app's loader, CONTRACT
 * §2): nothing here reads the environment again.
 */
export function sentrySettings(config: TelemetryConfig): SentrySettings {
  return {
    dsn: config.sentry.dsn,
    environment: config.sentry.environment,
    release: config.sentry.release,
    serviceName: config.serviceName,
    secrets: [config.internalToken],
    shutdownTimeoutMs: SENTRY_SHUTDOWN_TIMEOUT_MS,
  };
}
