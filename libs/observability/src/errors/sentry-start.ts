import { ConfigValidationError } from '@keel/platform/config/config-validation.error';
import { type SentryDefaults, readSentrySettings, type SentrySettings } from './sentry-settings';

/**
 * The instrument entry's Sentry step: reads the settings and, only when `SENTRY_DSN` is set,
 * loads and starts the SDK (so a process without Sentry never loads it). Returns the flush to
 * run at shutdown, or `undefined` when Sentry is off. A bad variable stops the process with
 * the same one-line report as the app's config loader.
 */
export function startSentryFromEnv(
  env: NodeJS.ProcessEnv,
  defaults: SentryDefaults,
): (() => Promise<boolean>) | undefined {
  let settings: SentrySettings;
  try {
    settings = readSentrySettings(env, defaults);
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      process.stderr.write(`Fatal: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  if (!settings.dsn) {
    return undefined;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require('./sentry-sdk') as typeof import('./sentry-sdk');
  sdk.startSentry(settings);
  return () => sdk.flushSentry(settings.shutdownTimeoutMs);
}
