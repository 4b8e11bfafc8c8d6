import { ConfigValidationError } from '@keel/platform';
import { loadUsersConfig } from './users-config';

describe('loadUsersConfig', () => {
  it('runs on port 3002 with a 30 s, 10 000-entry profile cache by default', () => {
    const config = loadUsersConfig({});

    expect(config.app).toBe('users-service');
    expect(config.port).toBe(3002);
    expect(config.profileCache).toEqual({ ttlMs: 30_000, maxEntries: 10_000 });
  });

  it('reads where auth-service answers, by default on its registry port', () => {
    expect(loadUsersConfig({}).authServiceUrl).toBe('http://127.0.0.1:3001');
    expect(loadUsersConfig({ AUTH_SERVICE_URL: 'http://auth:8080' }).authServiceUrl).toBe(
      'http://auth:8080',
    );
    expect(() => loadUsersConfig({ AUTH_SERVICE_URL: 'ftp://auth' })).toThrow(/AUTH_SERVICE_URL/);
  });

  it('reads the profile cache settings', () => {
    const config = loadUsersConfig({ PROFILE_CACHE_TTL: '5m', PROFILE_CACHE_MAX_ENTRIES: '500' });

    expect(config.profileCache).toEqual({ ttlMs: 300_000, maxEntries: 500 });
  });

  it('names every bad variable at once', () => {
    const load = () =>
      loadUsersConfig({ PROFILE_CACHE_TTL: 'soon', PROFILE_CACHE_MAX_ENTRIES: '0' });

    expect(load).toThrow(ConfigValidationError);
    expect(load).toThrow(/PROFILE_CACHE_TTL[\s\S]*PROFILE_CACHE_MAX_ENTRIES/);
  });
});
