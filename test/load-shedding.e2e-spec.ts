import request from 'supertest';
import { errorBody, registerAndLogin, type TestUser } from './support/http';
import { type Platform, type StartedApp, startPlatform } from './support/platform';

// Load shedding with real processes: past a service's capacity it answers 503 with
// `Retry-After` and the contract's error body at once, counts it, and never sheds its
// operational routes. Capacity is made tiny through the SHED_* and PASSWORD_HASH_* variables;
// requests are held in flight with the chaos latency header. Needs `npm run build` first.

/** Sum of `http_server_requests_shed_total` samples with this reason. */
async function shedTotal(app: StartedApp, reason: string): Promise<number> {
  const res = await request(app.url).get('/metrics').expect(200);
  let total = 0;
  for (const line of res.text.split('\n')) {
    const match = /^http_server_requests_shed_total\{([^}]*)\} ([0-9.e+-]+)/.exec(line);
    if (match && match[1].includes(`reason="${reason}"`)) {
      total += Number(match[2]);
    }
  }
  return total;
}

function expectShed(res: request.Response): void {
  expect(res.status).toBe(503);
  expect(res.headers['retry-after']).toBe('1');
  expect(res.body).toMatchObject({
    ...errorBody(503),
    message: expect.stringMatching(/overloaded/),
  });
  expect(res.headers['x-request-id']).toBe(res.body.requestId);
  // Helmet's headers hold on refusals too (CONTRACT §6).
  expect(res.headers['x-content-type-options']).toBe('nosniff');
}

describe('load shedding (e2e)', () => {
  let platform: Platform;
  let user: TestUser;

  beforeAll(async () => {
    platform = await startPlatform({
      // The event-loop criterion is off: on a busy test machine it would refuse at random.
      env: { CHAOS_ENABLED: 'true', SHED_MAX_EVENT_LOOP_DELAY: '0' },
      appEnv: {
        'users-service': { SHED_MAX_IN_FLIGHT: '2' },
        'auth-service': { PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '1' },
      },
    });
    user = await registerAndLogin(platform.gatewayUrl);
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it('admits SHED_MAX_IN_FLIGHT requests, answers the rest 503 at once, and never sheds probes', async () => {
    const users = platform.apps['users-service'];
    const before = await shedTotal(users, 'in_flight');
    const slow = () =>
      request(users.url)
        .get('/users/me')
        .set('authorization', `Bearer ${user.accessToken}`)
        .set('x-chaos', 'users-service=latency:1500');
    const held = [slow(), slow()].map((req) => req.then((res) => res));
    // Wait until both are being served (the two slots are taken), then knock.
    const deadline = Date.now() + 5_000;
    let refused: request.Response | undefined;
    while (Date.now() < deadline) {
      const res = await request(users.url)
        .get('/users/me')
        .set('authorization', `Bearer ${user.accessToken}`);
      if (res.status === 503) {
        refused = res;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(refused).toBeDefined();
    expectShed(refused!);
    // Operational routes answer while the business routes are full.
    await request(users.url).get('/health/live').expect(200);
    await request(users.url).get('/health/ready').expect(200);
    expect(await shedTotal(users, 'in_flight')).toBeGreaterThan(before);
    // The admitted requests are served, and the slots free again afterwards.
    for (const res of await Promise.all(held)) {
      expect(res.status).toBe(200);
    }
    await request(users.url)
      .get('/users/me')
      .set('authorization', `Bearer ${user.accessToken}`)
      .expect(200);
  });

  it('bounds password hashing: beyond concurrency + queue, logins get 503 through the gateway', async () => {
    const auth = platform.apps['auth-service'];
    const before = await shedTotal(auth, 'password_hash_queue');
    const logins = await Promise.all(
      Array.from({ length: 8 }, () =>
        request(platform.gatewayUrl)
          .post('/api/v1/auth/login')
          .send({ email: user.email, password: user.password }),
      ),
    );
    const statuses = logins.map((res) => res.status);
    const refused = logins.filter((res) => res.status === 503);
    // One hashing, one waiting: at least those two succeed; of 8 at once, some are refused.
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(2);
    expect(refused.length).toBeGreaterThan(0);
    expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
    for (const res of refused) {
      expectShed(res);
    }
    expect(await shedTotal(auth, 'password_hash_queue')).toBe(before + refused.length);
  });
});
