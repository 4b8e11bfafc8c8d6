import { type SentrySettings } from './sentry-settings';

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
 * The instrument entry's Sentry step: only when a DSN is configured, loads and starts the SDK
 * (so a process without Sentry never loads it). Returns the flush to run at shutdown, or
 * `undefined` when Sentry is off.
 */
export function startSentryIfConfigured(
  settings: SentrySettings,
): (() => Promise<boolean>) | undefined {
  if (!settings.dsn) {
    return undefined;
  }
  const sdk = loadSentrySdk();
  sdk.startSentry(settings);
  return () => sdk.flushSentry(settings.shutdownTimeoutMs);
}
