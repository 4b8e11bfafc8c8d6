import { ConfigValidationError } from '@keel/platform/config/config-validation.error';
import { type SentryDefaults, readSentrySettings, type SentrySettings } from './sentry-settings';

type SentrySdk = typeof import('./sentry-sdk');

let loaded: SentrySdk | undefined;

/**
 * Loads the Sentry SDK module (about 35 MB and 250 ms of start-up), once. Only a process
 * that reports errors pays for it.
 */
export function loadSentrySdk(): SentrySdk {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (loaded ??= require('./sentry-sdk') as SentrySdk);
}

/** The SDK module when something loaded it (Sentry may still be off), else `undefined`. */
export function loadedSentrySdk(): SentrySdk | undefined {
  return loaded;
}

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
  const sdk = loadSentrySdk();
  sdk.startSentry(settings);
  return () => sdk.flushSentry(settings.shutdownTimeoutMs);
}
