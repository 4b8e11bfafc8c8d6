import * as Sentry from '@sentry/nestjs';
import { type SentrySettings } from './sentry-settings';
import { SentryScrubber } from './sentry-scrubber';

/**
 * Starts Sentry for error reporting only, beside the platform's one OpenTelemetry SDK.
 * Does nothing (and returns `false`) when `settings.dsn` is unset.
 *
 * - `skipOpenTelemetrySetup`: Sentry registers no tracer provider, context manager or
 *   propagator, and no tracing sample rate is set, so it records no spans.
 * - Default integrations are replaced by an explicit list. Dropped: `Http` and `NodeFetch`
 *   (they add Sentry trace headers to outgoing calls and keep per-request data on scopes
 *   that only Sentry's own context manager isolates), `Nest` (OpenTelemetry instrumentation
 *   that would duplicate the platform's Nest spans), `Console`/`ChildProcess` breadcrumbs
 *   (process-wide without that isolation, so they would mix requests), `LocalVariables`
 *   (could capture passwords from stack frames), `ProcessSession` and `Modules` (noise).
 * - Uncaught exceptions and unhandled rejections are captured, flushed within
 *   `shutdownTimeoutMs`, then the process exits with code 1, as Node would without Sentry.
 * - Every event and breadcrumb goes through {@link SentryScrubber}.
 * - Request-specific tags (request id, trace id, route, user) are attached per event by
 *   `AllExceptionsFilter`, never to a shared scope.
 */
export function startSentry(settings: SentrySettings): boolean {
  if (!settings.dsn) {
    return false;
  }
  const scrubber = new SentryScrubber(settings.secrets);
  Sentry.init({
    dsn: settings.dsn,
    environment: settings.environment,
    release: settings.release,
    skipOpenTelemetrySetup: true,
    registerEsmLoaderHooks: false,
    defaultIntegrations: false,
    integrations: [
      Sentry.eventFiltersIntegration(),
      Sentry.functionToStringIntegration(),
      Sentry.linkedErrorsIntegration(),
      Sentry.contextLinesIntegration(),
      Sentry.nodeContextIntegration(),
      Sentry.onUncaughtExceptionIntegration({ exitEvenIfOtherHandlersAreRegistered: true }),
      Sentry.onUnhandledRejectionIntegration({ mode: 'strict' }),
    ],
    // Nothing Sentry sends may carry its own trace headers: W3C context is the platform's.
    tracePropagationTargets: [],
    sendDefaultPii: false,
    sendClientReports: false,
    shutdownTimeout: settings.shutdownTimeoutMs,
    initialScope: {
      tags: {
        service: settings.serviceName,
        environment: settings.environment,
        release: settings.release,
      },
    },
    beforeSend: (event) => scrubber.scrubEvent(event),
    beforeBreadcrumb: (breadcrumb) => scrubber.scrubBreadcrumb(breadcrumb),
  });
  return true;
}

/** Sentry's `captureException`, for callers that load this module lazily. */
export const captureException = Sentry.captureException;

/** Whether Sentry was started in this process. */
export function sentryEnabled(): boolean {
  return Sentry.getClient()?.getOptions().dsn !== undefined;
}

/** Sends pending events, waiting at most `timeoutMs`; `true` when everything was sent. */
export async function flushSentry(timeoutMs: number): Promise<boolean> {
  return sentryEnabled() ? Sentry.flush(timeoutMs) : true;
}
