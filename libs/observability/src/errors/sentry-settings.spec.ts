import { readBaseConfig } from '@keel/platform/config/base-config';
import { sentrySettings } from './sentry-settings';

const app = { name: 'orders-service', port: 4000 };
const load = (env: Record<string, string>) => sentrySettings(readBaseConfig(app, env, '1.2.3')[0]);

describe(sentrySettings.name, () => {
  it('is off without SENTRY_DSN, with environment and release defaulted', () => {
    expect(load({ NODE_ENV: 'test', INTERNAL_TOKEN: 'a-long-internal-secret' })).toMatchObject({
      dsn: undefined,
      environment: 'test',
      release: '1.2.3',
      serviceName: 'orders-service',
      secrets: ['a-long-internal-secret'],
    });
    expect(load({}).environment).toBe('development');
  });

  it('takes the standard variables as the app config read them', () => {
    expect(
      load({
        SENTRY_DSN: 'https://key@o1.ingest.sentry.io/5',
        SENTRY_ENVIRONMENT: 'staging',
        SENTRY_RELEASE: 'keel@abc123',
        OTEL_SERVICE_NAME: 'orders-eu',
      }),
    ).toMatchObject({
      dsn: 'https://key@o1.ingest.sentry.io/5',
      environment: 'staging',
      release: 'keel@abc123',
      serviceName: 'orders-eu',
    });
  });

  it('treats an empty SENTRY_DSN as unset', () => {
    expect(load({ SENTRY_DSN: '  ' }).dsn).toBeUndefined();
  });
});
