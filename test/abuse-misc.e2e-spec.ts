import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import request from 'supertest';
import { type Platform, startPlatform } from './support/platform';
import { SentryReceiver } from './support/sentry-receiver';

// Issue 11 with the real built apps: per-service limits count real clients and never cover
// the JWKS; no header ends a process; a long path on a failing request does not stall the
// gateway; published secrets are refused in production. Needs `npm run build` first.

jest.setTimeout(60_000);

const SERVICE_LIMIT = 3;

describe('service limits, chaos and scrubbing against the running platform', () => {
  let platform: Platform;
  let sentry: SentryReceiver;

  beforeAll(async () => {
    sentry = await SentryReceiver.start('11');
    platform = await startPlatform({
      env: {
        RATE_LIMIT_SERVICE: `${SERVICE_LIMIT}/60s`,
        CHAOS_ENABLED: 'true',
      },
      appEnv: {
        'api-gateway': { TRUST_PROXY: 'loopback', SENTRY_DSN: sentry.dsn },
      },
    });
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
    await sentry?.stop();
  });

  const refreshFrom = (ip: string, headers: Record<string, string> = {}) =>
    request(platform.gatewayUrl)
      .post('/api/v1/auth/refresh')
      .set('x-forwarded-for', ip)
      .set(headers)
      .send({ refreshToken: 'x'.repeat(43) });

  it("counts each client against auth-service's own limit, not the gateway's address", async () => {
    const a = '198.51.100.21';
    for (let i = 0; i < SERVICE_LIMIT; i += 1) {
      await refreshFrom(a).expect(401);
    }
    // The fourth call of the same client is refused by auth-service itself…
    const limited = await refreshFrom(a);
    expect(limited.status).toBe(429);
    // …while other clients behind the same gateway are not.
    await refreshFrom('198.51.100.22').expect(401);
    await refreshFrom('198.51.100.23').expect(401);
  });

  it('trusts the client address only from a caller holding the internal token', async () => {
    const auth = platform.apps['auth-service'].url;
    // A direct caller naming other addresses is still counted as itself.
    const statuses: number[] = [];
    for (let i = 0; i < SERVICE_LIMIT + 1; i += 1) {
      const res = await request(auth)
        .get('/auth/me')
        .set('x-keel-client-ip', `203.0.113.${i + 1}`)
        .set('x-internal-token', 'not-the-internal-token-at-all');
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it('never limits the JWKS, so the gateway can always fetch keys', async () => {
    const auth = platform.apps['auth-service'].url;
    for (let i = 0; i < SERVICE_LIMIT * 4; i += 1) {
      await request(auth).get('/.well-known/jwks.json').expect(200);
    }
    // The loopback address has spent its service limit (above); a gateway started now still
    // gets the keys and verifies tokens.
    const ip = '198.51.100.98';
    const email = `jwks-${randomUUID().slice(0, 8)}@example.com`;
    const password = 'correct horse battery staple';
    await request(platform.gatewayUrl)
      .post('/api/v1/auth/register')
      .set('x-forwarded-for', ip)
      .send({ email, password, displayName: 'J' })
      .expect(201);
    const login = await request(platform.gatewayUrl)
      .post('/api/v1/auth/login')
      .set('x-forwarded-for', ip)
      .send({ email, password })
      .expect(200);
    await platform.restart('api-gateway');
    await request(platform.gatewayUrl)
      .get('/api/v1/users/me')
      .set('authorization', `Bearer ${login.body.accessToken}`)
      .set('x-forwarded-for', '198.51.100.99')
      .expect(200);
  });

  it('ignores x-chaos modes that would end a process, and logs them', async () => {
    for (const app of ['api-gateway', 'auth-service'] as const) {
      const requestId = `chaos-${randomUUID()}`;
      await refreshFrom(`198.51.100.${app === 'api-gateway' ? 31 : 32}`, {
        'x-chaos': `${app}=crash, ${app}=reject, ${app}=exit:1`,
        'x-request-id': requestId,
      }).expect(401);
      const deadline = Date.now() + 3_000;
      let line: Record<string, unknown> | undefined;
      while (!line && Date.now() < deadline) {
        line = platform.apps[app]
          .jsonLogs()
          .find((l) => l.requestId === requestId && l.msg === 'x-chaos entries ignored');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(line).toMatchObject({
        ignored: [`${app}=crash`, `${app}=reject`, `${app}=exit:1`],
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const app of ['api-gateway', 'auth-service'] as const) {
      await request(platform.apps[app].url).get('/health/live').expect(200);
    }
  });

  it('reports a failing request with a long path without stalling the gateway', async () => {
    const before = sentry.events().length;
    const long = `/api/v1/auth/refresh?${'a'.repeat(15_000)}=1&token=${'b'.repeat(200)}`;
    let slowest = 0;
    let running = true;
    const probe = (async () => {
      while (running) {
        const started = performance.now();
        await request(platform.gatewayUrl).get('/health/live').expect(200);
        slowest = Math.max(slowest, performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    for (let i = 0; i < 5; i += 1) {
      await request(platform.gatewayUrl)
        .post(long)
        .set('x-chaos', 'api-gateway=error')
        .set('x-forwarded-for', `198.51.100.${40 + i}`)
        .send({ refreshToken: 'x'.repeat(43) })
        .expect(500);
    }
    const deadline = Date.now() + 5_000;
    while (sentry.events().length < before + 5 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    running = false;
    await probe;
    expect(sentry.events().length).toBeGreaterThanOrEqual(before + 5);
    expect(JSON.stringify(sentry.events())).not.toContain('b'.repeat(200));
    // The old scrubber stalled ~400 ms per event on this path; the bound leaves room for load.
    expect(slowest).toBeLessThan(250);
  });
});

describe('secrets published in the repository', () => {
  it.each([
    ['the compose default', 'compose-internal-token-change-me', /published in the repository/],
    ['the Kubernetes placeholder', 'CHANGE-ME', /published in the repository/],
    ['the development default', 'keel-dev-internal-token-not-for-production', /published/],
    ['a short token', 'a-private-but-short-token-1234', /at least 32 characters/],
  ])('are refused in production: %s', async (_label, token, message) => {
    const started = startPlatform({
      apps: ['users-service'],
      env: { NODE_ENV: 'production', INTERNAL_TOKEN: token },
    });
    await expect(started).rejects.toThrow(/INTERNAL_TOKEN/);
    await expect(started).rejects.toThrow(message);
  });

  it('are accepted with a warning outside production', async () => {
    const platform = await startPlatform({ apps: ['users-service'], env: { NODE_ENV: undefined } });
    try {
      const warning = platform.apps['users-service']
        .jsonLogs()
        .find((line) => /INTERNAL_TOKEN is a value published/.test(String(line.msg)));
      expect(warning).toMatchObject({ level: expect.stringMatching(/warn/) });
    } finally {
      await platform.stop();
    }
  });
});
