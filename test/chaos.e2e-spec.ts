import { performance } from 'node:perf_hooks';
import request from 'supertest';
import { errorBody, registerAndLogin, type TestUser } from './support/http';
import { type Platform, startPlatform } from './support/platform';

jest.setTimeout(60_000);

/** CONTRACT §7: `x-chaos` across the three apps as built processes. */
describe('x-chaos (e2e)', () => {
  describe('with CHAOS_ENABLED=true', () => {
    let platform: Platform;
    let user: TestUser;

    beforeAll(async () => {
      platform = await startPlatform({ env: { CHAOS_ENABLED: 'true' } });
      user = await registerAndLogin(platform.gatewayUrl);
    });

    afterAll(async () => {
      await platform?.stop();
    });

    const me = (chaos?: string) => {
      const req = request(platform.gatewayUrl)
        .get('/api/v1/users/me')
        .set('authorization', `Bearer ${user.accessToken}`);
      return chaos === undefined ? req : req.set('x-chaos', chaos);
    };

    type Line = Record<string, unknown>;
    /**
     * The first log line of `app` that matches, waiting up to `waitMs`: an app's stdout can
     * reach the harness after the HTTP answer has reached the test.
     */
    const logLine = async (
      app: 'users-service' | 'api-gateway',
      match: (line: Line) => boolean,
      waitMs = 3000,
    ): Promise<Line | undefined> => {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const line = platform.apps[app].jsonLogs().find(match);
        if (line || Date.now() > deadline) {
          return line;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    /** Whether `app` logged a request with this id (its access log line). */
    const served = async (
      app: 'users-service' | 'api-gateway',
      requestId: string,
      waitMs?: number,
    ): Promise<boolean> =>
      (await logLine(app, (line) => line.requestId === requestId, waitMs)) !== undefined;

    it('makes the named service answer 500 from inside its handler, relayed by the gateway', async () => {
      const res = await me('users-service=error').expect(500);
      expect(res.body).toMatchObject({
        ...errorBody(500),
        error: 'Internal Server Error',
        message: 'Internal server error',
      });
      expect(JSON.stringify(res.body)).not.toContain('Chaos');
      expect(res.headers['x-request-id']).toBe(res.body.requestId);
      expect(await served('users-service', res.body.requestId)).toBe(true);
      const applied = await logLine(
        'users-service',
        (line) => line.msg === 'x-chaos applied' && line.requestId === res.body.requestId,
      );
      expect(applied).toMatchObject({ level: 'warn', chaos: { fault: 'error', latencyMs: 0 } });
    });

    it('fails the gateway itself without calling the upstream', async () => {
      const res = await me('api-gateway=error').expect(500);
      expect(res.body).toMatchObject(errorBody(500));
      // Absence, after a positive marker: users-service's log line of a later request is
      // in, so a line of a stray upstream call (earlier) would be too.
      await platform.apps['users-service'].logBarrier();
      expect(await served('users-service', res.body.requestId, 0)).toBe(false);
    });

    it('fails auth-service on a public route', async () => {
      await request(platform.gatewayUrl)
        .post('/api/v1/auth/login')
        .set('x-chaos', 'auth-service=error')
        .send({ email: user.email, password: user.password })
        .expect(500);
    });

    it('reaches users-service through auth-service, so registration fails cleanly with 503', async () => {
      const account = {
        email: `chaos-${Date.now()}@example.com`,
        password: 'correct horse battery',
        displayName: 'Chaos',
      };
      const failed = await request(platform.gatewayUrl)
        .post('/api/v1/auth/register')
        .set('x-chaos', 'users-service=error')
        .send(account)
        .expect(503);
      expect(failed.body).toMatchObject(errorBody(503));
      // users-service saw the header on the internal call, and nothing was left behind:
      // the same email registers once the fault is gone.
      const applied = await logLine(
        'users-service',
        (line) => line.msg === 'x-chaos applied' && line.requestId === failed.body.requestId,
      );
      expect(applied).toBeDefined();
      await request(platform.gatewayUrl).post('/api/v1/auth/register').send(account).expect(201);
    });

    it('delays the named service by the requested time', async () => {
      const started = performance.now();
      const res = await me('users-service=latency:400').expect(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(400);
      expect(res.body).toMatchObject({ id: user.id });
    });

    it('applies to several apps in one header', async () => {
      const started = performance.now();
      await me('api-gateway=latency:300, users-service=error').expect(500);
      expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    });

    it('ignores entries for other apps and malformed headers, never failing on them', async () => {
      await me('auth-service=error').expect(200);
      await me('users-service=explode,users-service=latency:-1,=,,').expect(200);
      await me('x'.repeat(4000)).expect(200);
    });

    it('leaves operational routes alone', async () => {
      await request(platform.apps['users-service'].url)
        .get('/health/live')
        .set('x-chaos', 'users-service=error')
        .expect(200);
    });
  });

  describe('with chaos off (the default)', () => {
    let platform: Platform;
    let user: TestUser;

    beforeAll(async () => {
      platform = await startPlatform({ apps: ['users-service', 'auth-service', 'api-gateway'] });
      user = await registerAndLogin(platform.gatewayUrl);
    });

    afterAll(async () => {
      await platform?.stop();
    });

    it('ignores the header', async () => {
      await request(platform.gatewayUrl)
        .get('/api/v1/users/me')
        .set('authorization', `Bearer ${user.accessToken}`)
        .set('x-chaos', 'users-service=error,api-gateway=error,users-service=latency:5000')
        .expect(200);
      for (const app of ['api-gateway', 'users-service'] as const) {
        await platform.apps[app].logBarrier();
        expect(platform.apps[app].jsonLogs().filter((l) => l.msg === 'x-chaos applied')).toEqual(
          [],
        );
      }
    });
  });

  it('is refused at start in production', async () => {
    await expect(
      startPlatform({
        apps: ['users-service'],
        env: { NODE_ENV: 'production', CHAOS_ENABLED: 'true' },
      }),
    ).rejects.toThrow(/CHAOS_ENABLED is refused when NODE_ENV=production/);
  });
});
