/**
 * The telemetry entry point, imported as `@keel/observability/instrument` by each app's
 * `instrument.ts`, which `main.ts` loads first. It must stay light: it may not import the
 * `@keel/observability` barrel or anything that loads http, express, pg, ioredis or TypeORM,
 * or those modules would be loaded before their instrumentation is registered. The app's
 * config loader it is given must stay as light (deep imports of `@keel/platform/config/*`).
 */
import {
  processShutdown,
  type ShutdownPhase,
  type ShutdownTask,
} from '@keel/platform/bootstrap/shutdown';
import { ConfigValidationError } from '@keel/platform/config/config-validation.error';
import { type Env } from '@keel/platform/config/env-reader';
import { sentrySettings, type TelemetryConfig } from './errors/sentry-settings';
import { startSentryIfConfigured } from './errors/sentry-start';
import { startTracing, type TracingHandle } from './tracing/tracing-sdk';
import { readTracingSettings, type TracingSettings } from './tracing/tracing-settings';

/** Telemetry of the process, once started. */
export interface Instrumentation {
  settings: TracingSettings;
  tracing: TracingHandle;
  /**
   * Adds a step to the process's one shutdown (drain, close, flush, in that order; see
   * `ShutdownOwner`). Telemetry registers its own flushes; `bootstrap` the drain and close.
   */
  onShutdown(phase: ShutdownPhase, task: ShutdownTask): void;
  /** Runs the whole shutdown (without exiting); what the signal handler runs. */
  shutdown(): Promise<boolean>;
}

/** The app's validated configuration and its started telemetry. */
export interface Instrumented<C> {
  config: C;
  instrumentation: Instrumentation;
}

let current: Instrumented<unknown> | undefined;

/**
 * Reads the app's configuration once, with the app's own loader (the one reader of
 * `NODE_ENV`, `OTEL_SERVICE_NAME`, `SENTRY_*`, …), then starts the process's telemetry from
 * it: the shutdown owner and its signal handlers (before the app exists), Sentry when a DSN
 * is set, the OpenTelemetry SDK. `main.ts` takes the returned configuration instead of
 * reading the environment again. An invalid variable stops the process naming it. One owner
 * per process: a second call returns the first result.
 */
export function startInstrumentation<C extends TelemetryConfig>(
  load: (env: Env) => C,
  env: Env = process.env,
): Instrumented<C> {
  if (current) {
    return current as Instrumented<C>;
  }
  let config: C;
  let settings: TracingSettings;
  try {
    config = load(env);
    // Only the variables nothing else reads (exporter, sampler, instrumentations).
    settings = readTracingSettings(env, {
      serviceName: config.serviceName,
      version: config.version,
      nodeEnv: config.nodeEnv,
    });
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      // Same one-line-per-problem report as runMain gives.
      process.stderr.write(`Fatal: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const shutdown = processShutdown();

  // Error reporting only (`skipOpenTelemetrySetup: true`): it hands nothing to the SDK, so
  // the platform keeps one tracer provider, context manager and propagator.
  const flushSentry = startSentryIfConfigured(sentrySettings(config));
  const tracing = startTracing(settings, {});
  // Spans and error events leave in the last phase, after the app has closed.
  shutdown.add('flush', () => tracing.shutdown());
  if (flushSentry) {
    shutdown.add('flush', flushSentry);
  }

  const instrumentation: Instrumentation = {
    settings,
    tracing,
    onShutdown: (phase, task) => shutdown.add(phase, task),
    shutdown: () => shutdown.run(),
  };
  current = { config, instrumentation };
  return { config, instrumentation };
}
