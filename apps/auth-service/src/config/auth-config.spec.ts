import { generateKeyPairSync } from 'node:crypto';
import { ConfigValidationError } from '@keel/platform';
import { loadAuthConfig } from './auth-config';

describe('loadAuthConfig', () => {
  it('reads token lifetimes', () => {
    const config = loadAuthConfig({ ACCESS_TOKEN_TTL: '5m', REFRESH_TOKEN_TTL: '7d' });
    expect(config.accessTokenTtlSeconds).toBe(300);
    expect(config.refreshTokenTtlMs).toBe(7 * 86_400_000);
    expect(config.port).toBe(3001);
  });

  it('reads where users-service answers, by default on its registry port', () => {
    expect(loadAuthConfig({}).usersServiceUrl).toBe('http://127.0.0.1:3002');
    expect(loadAuthConfig({ USERS_SERVICE_URL: 'http://users:8080' }).usersServiceUrl).toBe(
      'http://users:8080',
    );
  });

  it('accepts a P-256 PEM key and refuses other keys', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect(loadAuthConfig({ JWT_PRIVATE_KEY: ec }).jwtPrivateKeyPem).toBe(ec.trim());
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect(() => loadAuthConfig({ JWT_PRIVATE_KEY: rsa })).toThrow(/JWT_PRIVATE_KEY/);
    expect(() => loadAuthConfig({ JWT_PRIVATE_KEY: 'garbage' })).toThrow(ConfigValidationError);
  });

  it('requires a signing key in production', () => {
    expect(() =>
      loadAuthConfig({ NODE_ENV: 'production', INTERNAL_TOKEN: 'a-long-production-secret' }),
    ).toThrow(/JWT_PRIVATE_KEY must be set/);
  });
});
