/**
 * The telemetry entry point, imported as `@keel/observability/instrument` by each app's
 * `instrument.ts`, which `main.ts` loads first. It must stay light: it may not import the
 * `@keel/observability` barrel or anything that loads http, express, pg, ioredis or TypeORM,
 * or those modules would be loaded before their instrumentation is registered.
 */
import { ConfigValidationError } from '@keel/platform/config/config-validation.error';
import { startSentryFromEnv } from './errors/sentry-start';
import { installShutdownSignals, type ShutdownTask } from './tracing/shutdown-signals';
import { startTracing, type TracingExtensions, type TracingHandle } from './tracing/tracing-sdk';
import { readTracingSettings, type TracingSettings } from './tracing/tracing-settings';

export interface InstrumentationOptions {
  /** The app name: `service.name` unless `OTEL_SERVICE_NAME` says otherwise. */
  serviceName: string;
  /** The package version: `service.version`. */
  version: string;
  /** Defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** Telemetry of the process, once started. */
export interface Instrumentation {
  settings: TracingSettings;
  tracing: TracingHandle;
  /** Adds work to run (bounded in time) before the process exits on SIGTERM/SIGINT. */
  onShutdown(task: ShutdownTask): void;
  /** Flushes and stops everything; what the signal handler runs. */
  shutdown(): Promise<void>;
}

let current: Instrumentation | undefined;

/**
 * Starts the process's telemetry once: the OpenTelemetry SDK (one owner per process; a second
 * call returns the first result) and the flush on SIGTERM/SIGINT. Reads only standard
 * variables (`OTEL_*`, `NODE_ENV`); an invalid one stops the process naming the variable.
 */
export function startInstrumentation(options: InstrumentationOptions): Instrumentation {
  if (current) {
    return current;
  }
  const env = options.env ?? process.env;
  let settings: TracingSettings;
  try {
    settings = readTracingSettings(env, {
      serviceName: options.serviceName,
      version: options.version,
    });
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      // Same one-line-per-problem report as runMain gives for the app's own variables.
      process.stderr.write(`Fatal: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const extensions: TracingExtensions = {};
  const tasks: ShutdownTask[] = [];

  // ── Sentry (issue 6) ──────────────────────────────────────────────────────────────────
  // Error reporting only (`skipOpenTelemetrySetup: true`): it hands nothing to the SDK, so
  // the platform keeps one tracer provider, context manager and propagator. Its flush joins
  // the shutdown tasks so pending events leave before the process exits.
  const sentry = startSentryFromEnv(env, options);
  if (sentry) {
    tasks.push(sentry);
  }
  // ──────────────────────────────────────────────────────────────────────────────────────

  const tracing = startTracing(settings, extensions);
  // Spans first: they are what the operator looks for next to an error event.
  tasks.unshift(() => tracing.shutdown());

  let stopping: Promise<void> | undefined;
  const instrumentation: Instrumentation = {
    settings,
    tracing,
    onShutdown: (task) => tasks.push(task),
    shutdown: () =>
      (stopping ??= Promise.allSettled(tasks.map((task) => task())).then(() => undefined)),
  };
  installShutdownSignals({ tasks: [() => instrumentation.shutdown()] });
  current = instrumentation;
  return instrumentation;
}
