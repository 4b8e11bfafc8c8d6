import { ConfigValidationError } from '@keel/platform/config/config-validation.error';
import { readSentrySettings } from './sentry-settings';

const defaults = { serviceName: 'users-service', version: '1.2.3' };

describe(readSentrySettings.name, () => {
  it('is off without SENTRY_DSN, with environment and release defaulted', () => {
    expect(readSentrySettings({ NODE_ENV: 'test' }, defaults)).toMatchObject({
      dsn: undefined,
      environment: 'test',
      release: '1.2.3',
      serviceName: 'users-service',
      secrets: [],
    });
    expect(readSentrySettings({}, defaults).environment).toBe('development');
  });

  it('reads the standard variables', () => {
    const settings = readSentrySettings(
      {
        SENTRY_DSN: 'https://key@o1.ingest.sentry.io/5',
        SENTRY_ENVIRONMENT: 'staging',
        SENTRY_RELEASE: 'keel@abc123',
        OTEL_SERVICE_NAME: 'users-eu',
        INTERNAL_TOKEN: 'a-long-internal-secret',
      },
      defaults,
    );
    expect(settings).toMatchObject({
      dsn: 'https://key@o1.ingest.sentry.io/5',
      environment: 'staging',
      release: 'keel@abc123',
      serviceName: 'users-eu',
      secrets: ['a-long-internal-secret'],
    });
  });

  it('treats an empty SENTRY_DSN as unset', () => {
    expect(readSentrySettings({ SENTRY_DSN: '  ' }, defaults).dsn).toBeUndefined();
  });

  it.each(['not a url', 'ftp://key@host/1'])('refuses SENTRY_DSN=%j naming it', (dsn) => {
    expect(() => readSentrySettings({ SENTRY_DSN: dsn }, defaults)).toThrow(ConfigValidationError);
    expect(() => readSentrySettings({ SENTRY_DSN: dsn }, defaults)).toThrow(/SENTRY_DSN/);
  });
});
