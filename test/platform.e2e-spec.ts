import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import request from 'supertest';
import {
  errorBody,
  rawGet,
  registerAndLogin,
  signWithDevKey,
  tamperPayload,
  type TestUser,
  uniqueEmail,
  unsignedCopy,
} from './support/http';
import { registerAdmin } from './support/admin-command';
import { type AppName, type Platform, startPlatform } from './support/platform';
import { describeWithPostgres } from './support/services';

// The three built apps as real processes, driven through the gateway only (CONTRACT §3).
// Needs `npm run build` first.

// Starting three processes takes a few seconds, more on a busy machine.
jest.setTimeout(60_000);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Waits (bounded) for a log line of `app` carrying `requestId`; pipes deliver lines late. */
async function logLinesWithRequestId(
  platform: Platform,
  app: AppName,
  requestId: string,
  waitMs = 2000,
): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const lines = platform.apps[app].jsonLogs().filter((line) => line.requestId === requestId);
    if (lines.length > 0 || Date.now() > deadline) {
      return lines;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const databases: Array<[string, jest.Describe, 'sqlite' | 'postgres']> = [
  ['SQLite', describe, 'sqlite'],
  ['PostgreSQL', describeWithPostgres(), 'postgres'],
];

for (const [label, describeOn, database] of databases) {
  describeOn(`platform through the gateway (${label})`, () => {
    const adminEmail = uniqueEmail('admin');
    let platform: Platform;
    let gateway: ReturnType<typeof request>;
    let alice: TestUser;
    let admin: TestUser;

    beforeAll(async () => {
      platform = await startPlatform({ database });
      gateway = request(platform.gatewayUrl);
      alice = await registerAndLogin(platform.gatewayUrl, uniqueEmail('alice'), 'Alice');
      admin = await registerAdmin(platform, adminEmail);
    });

    afterAll(async () => {
      await platform?.stop();
    });

    describe('POST /api/v1/auth/register', () => {
      it('answers 201 with the new user, and the profile exists in users-service', async () => {
        const email = uniqueEmail('Reg');
        const res = await gateway
          .post('/api/v1/auth/register')
          .send({ email, password: 'a long enough password', displayName: 'Reg Istered' })
          .expect(201);
        expect(res.body).toEqual({
          id: expect.stringMatching(UUID),
          email: email.toLowerCase(),
          displayName: 'Reg Istered',
          createdAt: expect.any(String),
        });
        // Straight to users-service, with the token of another user: the profile is there.
        const profile = await request(platform.apps['users-service'].url)
          .get(`/users/${res.body.id}`)
          .set('authorization', `Bearer ${alice.accessToken}`)
          .expect(200);
        expect(profile.body).toMatchObject({ id: res.body.id, displayName: 'Reg Istered' });
      });

      it('answers 409 for an email already taken, whatever its case', async () => {
        const res = await gateway
          .post('/api/v1/auth/register')
          .send({
            email: alice.email.toUpperCase(),
            password: 'another password!',
            displayName: 'X',
          })
          .expect(409);
        expect(res.body).toMatchObject(errorBody(409));
      });

      it.each([
        ['a short password', { email: uniqueEmail(), password: 'short', displayName: 'A' }],
        ['a bad email', { email: 'not-an-email', password: 'long enough pw', displayName: 'A' }],
        [
          'an unknown property',
          { email: uniqueEmail(), password: 'long enough pw', displayName: 'A', admin: true },
        ],
        ['a missing display name', { email: uniqueEmail(), password: 'long enough pw' }],
      ])('answers 400 with the error body for %s', async (_case, body) => {
        const res = await gateway.post('/api/v1/auth/register').send(body).expect(400);
        expect(res.body).toMatchObject(errorBody(400));
      });

      it('answers 400 for malformed JSON and 415 for a body that is not JSON, never a 5xx', async () => {
        const malformed = await gateway
          .post('/api/v1/auth/register')
          .set('content-type', 'application/json')
          .send('{"email":')
          .expect(400);
        expect(malformed.body).toMatchObject(errorBody(400));
        const text = await gateway
          .post('/api/v1/auth/register')
          .set('content-type', 'text/plain')
          .send('email=a@b.io')
          .expect(415);
        expect(text.body).toMatchObject(errorBody(415));
      });
    });

    describe('POST /api/v1/auth/login', () => {
      it('answers 200 with a token pair', async () => {
        const res = await gateway
          .post('/api/v1/auth/login')
          .send({ email: alice.email, password: alice.password })
          .expect(200);
        expect(res.body).toEqual({
          accessToken: expect.any(String),
          refreshToken: expect.any(String),
          tokenType: 'Bearer',
          expiresIn: expect.any(Number),
        });
      });

      it('answers 401 with one message for a wrong password and an unknown email', async () => {
        const wrong = await gateway
          .post('/api/v1/auth/login')
          .send({ email: alice.email, password: 'not the password' })
          .expect(401);
        const unknown = await gateway
          .post('/api/v1/auth/login')
          .send({ email: uniqueEmail('nobody'), password: 'not the password' })
          .expect(401);
        expect(wrong.body).toMatchObject(errorBody(401));
        expect(unknown.body.message).toBe(wrong.body.message);
      });

      it('answers 400 for a missing password', async () => {
        const res = await gateway
          .post('/api/v1/auth/login')
          .send({ email: alice.email })
          .expect(400);
        expect(res.body).toMatchObject(errorBody(400));
      });
    });

    describe('GET /api/v1/auth/me', () => {
      it('answers the caller with a valid token', async () => {
        const res = await gateway
          .get('/api/v1/auth/me')
          .set('authorization', `Bearer ${alice.accessToken}`)
          .expect(200);
        expect(res.body).toEqual({ id: alice.id, email: alice.email, roles: expect.any(Array) });
      });

      it('answers 401 without a token', async () => {
        const res = await gateway.get('/api/v1/auth/me').expect(401);
        expect(res.body).toMatchObject(errorBody(401));
      });
    });

    describe('POST /api/v1/auth/refresh and /logout', () => {
      it('rotates the pair; the old refresh token stops working', async () => {
        const user = await registerAndLogin(platform.gatewayUrl);
        const rotated = await gateway
          .post('/api/v1/auth/refresh')
          .send({ refreshToken: user.refreshToken })
          .expect(200);
        expect(rotated.body.refreshToken).not.toBe(user.refreshToken);
        expect(rotated.body.tokenType).toBe('Bearer');
        await gateway
          .get('/api/v1/users/me')
          .set('authorization', `Bearer ${rotated.body.accessToken}`)
          .expect(200);
        // A rotated token presented again is reuse: the whole session is revoked.
        const reuse = await gateway
          .post('/api/v1/auth/refresh')
          .send({ refreshToken: user.refreshToken })
          .expect(401);
        expect(reuse.body).toMatchObject(errorBody(401));
        await gateway
          .post('/api/v1/auth/refresh')
          .send({ refreshToken: rotated.body.refreshToken })
          .expect(401);
      });

      it('answers 401 for an unknown refresh token and 400 for a missing one', async () => {
        await gateway
          .post('/api/v1/auth/refresh')
          .send({ refreshToken: 'x'.repeat(43) })
          .expect(401);
        await gateway.post('/api/v1/auth/refresh').send({}).expect(400);
      });

      it('logs out with 204; the refresh token is then dead', async () => {
        const user = await registerAndLogin(platform.gatewayUrl);
        await gateway
          .post('/api/v1/auth/logout')
          .send({ refreshToken: user.refreshToken })
          .expect(401);
        const res = await gateway
          .post('/api/v1/auth/logout')
          .set('authorization', `Bearer ${user.accessToken}`)
          .send({ refreshToken: user.refreshToken })
          .expect(204);
        expect(res.text).toBe('');
        await gateway
          .post('/api/v1/auth/refresh')
          .send({ refreshToken: user.refreshToken })
          .expect(401);
      });
    });

    describe('/api/v1/users', () => {
      it('GET /users/me answers the full profile', async () => {
        const res = await gateway
          .get('/api/v1/users/me')
          .set('authorization', `Bearer ${alice.accessToken}`)
          .expect(200);
        expect(res.body).toEqual({
          id: alice.id,
          email: alice.email,
          displayName: 'Alice',
          bio: null,
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
        });
      });

      it('PATCH /users/me updates the profile; bad input is 400', async () => {
        const user = await registerAndLogin(platform.gatewayUrl, uniqueEmail(), 'Before');
        const res = await gateway
          .patch('/api/v1/users/me')
          .set('authorization', `Bearer ${user.accessToken}`)
          .send({ displayName: 'After', bio: 'Sails small boats.' })
          .expect(200);
        expect(res.body).toMatchObject({
          id: user.id,
          displayName: 'After',
          bio: 'Sails small boats.',
        });
        const again = await gateway
          .get('/api/v1/users/me')
          .set('authorization', `Bearer ${user.accessToken}`)
          .expect(200);
        expect(again.body.displayName).toBe('After');
        const bad = await gateway
          .patch('/api/v1/users/me')
          .set('authorization', `Bearer ${user.accessToken}`)
          .send({ displayName: 42 })
          .expect(400);
        expect(bad.body).toMatchObject(errorBody(400));
        const unknown = await gateway
          .patch('/api/v1/users/me')
          .set('authorization', `Bearer ${user.accessToken}`)
          .send({ email: 'other@example.com' })
          .expect(400);
        expect(unknown.body).toMatchObject(errorBody(400));
        await gateway.patch('/api/v1/users/me').send({ displayName: 'Anon' }).expect(401);
      });

      it('GET /users/:id answers the public profile only; 400 for a non-UUID, 404 for nobody', async () => {
        const res = await gateway
          .get(`/api/v1/users/${alice.id}`)
          .set('authorization', `Bearer ${alice.accessToken}`)
          .expect(200);
        expect(res.body).toEqual({ id: alice.id, displayName: 'Alice', bio: null });
        for (const id of ['not-a-uuid', '..', '%2E%2E']) {
          const bad = await gateway
            .get(`/api/v1/users/${id}`)
            .set('authorization', `Bearer ${alice.accessToken}`)
            .expect(400);
          expect(bad.body).toMatchObject(errorBody(400));
        }
        const missing = await gateway
          .get(`/api/v1/users/${randomUUID()}`)
          .set('authorization', `Bearer ${alice.accessToken}`)
          .expect(404);
        expect(missing.body).toMatchObject(errorBody(404));
        await gateway.get(`/api/v1/users/${alice.id}`).expect(401);
      });

      it('GET /users is 403 for a normal user and pages for an admin', async () => {
        const forbidden = await gateway
          .get('/api/v1/users')
          .set('authorization', `Bearer ${alice.accessToken}`)
          .expect(403);
        expect(forbidden.body).toMatchObject(errorBody(403));

        const first = await gateway
          .get('/api/v1/users?limit=2')
          .set('authorization', `Bearer ${admin.accessToken}`)
          .expect(200);
        expect(first.body.items).toHaveLength(2);
        expect(typeof first.body.nextCursor).toBe('string');
        const second = await gateway
          .get('/api/v1/users')
          .query({ limit: 2, cursor: first.body.nextCursor })
          .set('authorization', `Bearer ${admin.accessToken}`)
          .expect(200);
        const firstIds = first.body.items.map((item: { id: string }) => item.id);
        for (const item of second.body.items) {
          expect(firstIds).not.toContain(item.id);
        }
        const tooMany = await gateway
          .get('/api/v1/users?limit=101')
          .set('authorization', `Bearer ${admin.accessToken}`)
          .expect(400);
        expect(tooMany.body).toMatchObject(errorBody(400));
      });
    });

    describe('bearer tokens at the edge', () => {
      async function expectRefusedAtEdge(token: string): Promise<void> {
        const requestId = `edge-${randomUUID()}`;
        const res = await gateway
          .get('/api/v1/users/me')
          .set('authorization', `Bearer ${token}`)
          .set('x-request-id', requestId)
          .expect(401);
        expect(res.body).toMatchObject({ ...errorBody(401), requestId });
        // Refused by the gateway itself: users-service never saw the request (looked at once a
        // later request's line of users-service is in).
        await platform.apps['users-service'].logBarrier();
        expect(await logLinesWithRequestId(platform, 'users-service', requestId, 0)).toEqual([]);
      }

      it('refuses an expired token', async () => {
        const past = Math.floor(Date.now() / 1000) - 600;
        const expired = await signWithDevKey(platform.dataDir, {
          sub: alice.id,
          email: alice.email,
          iat: past - 900,
          exp: past,
        });
        // The same key and claims, but current, are accepted: only the expiry differs.
        const current = await signWithDevKey(platform.dataDir, {
          sub: alice.id,
          email: alice.email,
        });
        await gateway.get('/api/v1/users/me').set('authorization', `Bearer ${current}`).expect(200);
        await expectRefusedAtEdge(expired);
      });

      it('refuses a tampered token', async () => {
        await expectRefusedAtEdge(tamperPayload(alice.accessToken, { roles: ['admin'] }));
      });

      it('refuses an unsigned (alg: none) token', async () => {
        await expectRefusedAtEdge(unsignedCopy(alice.accessToken));
      });
    });

    describe('x-request-id', () => {
      it('is echoed on successes and on errors of the gateway and of upstreams', async () => {
        const responses = [
          await gateway.get('/api/v1/users/me').set('authorization', `Bearer ${alice.accessToken}`),
          await gateway.get('/api/v1/users/me'),
          await gateway.get('/api/v1/nowhere'),
          await gateway
            .post('/api/v1/auth/login')
            .send({ email: alice.email, password: 'wrong password' }),
          await gateway.post('/api/v1/auth/register').send({}),
        ];
        expect(responses.map((res) => res.status)).toEqual([200, 401, 404, 401, 400]);
        for (const res of responses) {
          expect(res.headers['x-request-id']).toEqual(expect.any(String));
          if (res.status >= 400) {
            expect(res.body.requestId).toBe(res.headers['x-request-id']);
          }
        }
      });

      it('keeps a valid incoming id and passes it to every service on the way', async () => {
        const requestId = `e2e-${randomUUID()}`;
        const res = await gateway
          .post('/api/v1/auth/register')
          .set('x-request-id', requestId)
          .send({ email: uniqueEmail(), password: 'a long enough password', displayName: 'Traced' })
          .expect(201);
        expect(res.headers['x-request-id']).toBe(requestId);
        for (const app of ['api-gateway', 'auth-service', 'users-service'] as const) {
          const lines = await logLinesWithRequestId(platform, app, requestId);
          expect(lines.length).toBeGreaterThan(0);
        }
      });

      it('replaces a malformed incoming id', async () => {
        const res = await gateway
          .get('/api/v1/auth/me')
          .set('x-request-id', 'has spaces and ! marks')
          .expect(401);
        expect(res.headers['x-request-id']).toMatch(UUID);
        expect(res.body.requestId).toBe(res.headers['x-request-id']);
      });
    });

    describe('compression', () => {
      it('compresses a large response with br or gzip, as the client asks, and leaves small ones', async () => {
        const token = admin.accessToken;
        for (let i = 0; i < 12; i += 1) {
          await registerAndLogin(
            platform.gatewayUrl,
            uniqueEmail('bulk'),
            `Bulk user number ${i} ${'x'.repeat(40)}`,
          );
        }
        const url = `${platform.gatewayUrl}/api/v1/users?limit=100`;
        const plain = await rawGet(url, { authorization: `Bearer ${token}` });
        expect(plain.status).toBe(200);
        expect(plain.headers['content-encoding']).toBeUndefined();
        expect(plain.raw.length).toBeGreaterThan(1024);

        for (const encoding of ['br', 'gzip'] as const) {
          const res = await rawGet(url, {
            authorization: `Bearer ${token}`,
            'accept-encoding': encoding,
          });
          expect(res.status).toBe(200);
          expect(res.headers['content-encoding']).toBe(encoding);
          expect(res.raw.length).toBeLessThan(plain.raw.length);
          expect(JSON.parse(res.text)).toEqual(JSON.parse(plain.raw.toString('utf8')));
        }

        const small = await rawGet(`${platform.gatewayUrl}/api/v1/auth/me`, {
          authorization: `Bearer ${token}`,
          'accept-encoding': 'br, gzip',
        });
        expect(small.status).toBe(200);
        expect(small.raw.length).toBeLessThan(1024);
        expect(small.headers['content-encoding']).toBeUndefined();
      });
    });

    describe('routes that do not exist at the edge', () => {
      it.each([
        ['GET', '/api/v1/nowhere'],
        ['GET', '/nowhere'],
        ['GET', '/api/v2/users/me'],
        ['POST', '/api/v1/internal/users'],
        ['GET', '/api/v1/internal/users'],
        ['GET', '/api/v1/health/live'],
        ['GET', '/api/v1/metrics'],
        ['DELETE', '/api/v1/users/me'],
        ['GET', '/api/v1/auth/register'],
      ])('%s %s is a 404 with the error body, never forwarded', async (method, path) => {
        const requestId = `nf-${randomUUID()}`;
        const res = await request(platform.gatewayUrl)
          [method.toLowerCase() as 'get' | 'post' | 'delete'](path)
          .set('authorization', `Bearer ${alice.accessToken}`)
          .set('x-internal-token', 'keel-dev-internal-token-not-for-production')
          .set('x-request-id', requestId)
          .send(
            method === 'POST'
              ? { id: randomUUID(), email: uniqueEmail(), displayName: 'X' }
              : undefined,
          )
          .expect(404);
        expect(res.body).toMatchObject({ ...errorBody(404), requestId });
        await platform.apps['users-service'].logBarrier();
        await platform.apps['auth-service'].logBarrier();
        expect(await logLinesWithRequestId(platform, 'users-service', requestId, 0)).toEqual([]);
        expect(await logLinesWithRequestId(platform, 'auth-service', requestId, 0)).toEqual([]);
      });
    });

    // Last: it stops and restarts users-service.
    describe('users-service down', () => {
      it('register answers 503, leaves no credential, and works once users-service is back', async () => {
        const email = uniqueEmail('outage');
        const password = 'a long enough password';
        await platform.apps['users-service'].stop();

        const res = await gateway
          .post('/api/v1/auth/register')
          .send({ email, password, displayName: 'Outage' })
          .expect(503);
        expect(res.body).toMatchObject(errorBody(503));
        // No half-registered account: the credential was not kept.
        await gateway.post('/api/v1/auth/login').send({ email, password }).expect(401);
        // And the gateway's own call to the stopped upstream is refused: 502.
        const refused = await gateway
          .get('/api/v1/users/me')
          .set('authorization', `Bearer ${alice.accessToken}`)
          .expect(502);
        expect(refused.body).toMatchObject(errorBody(502));

        await platform.restart('users-service');
        await gateway
          .post('/api/v1/auth/register')
          .send({ email, password, displayName: 'Outage' })
          .expect(201);
        await gateway.post('/api/v1/auth/login').send({ email, password }).expect(200);
      });
    });
  });
}

describe('an upstream that hangs', () => {
  let platform: Platform;
  let hanging: Server;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    // Accepts connections and never answers a byte.
    hanging = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const address = hanging.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    platform = await startPlatform({
      appEnv: {
        'api-gateway': { USERS_SERVICE_URL: `http://127.0.0.1:${port}`, UPSTREAM_TIMEOUT: '500ms' },
      },
    });
  });

  afterAll(async () => {
    await platform?.stop();
    for (const socket of sockets) {
      socket.destroy();
    }
    await new Promise((resolve) => hanging?.close(resolve));
  });

  it('gets a 504 with the error body once UPSTREAM_TIMEOUT has passed', async () => {
    const user = await registerAndLogin(platform.gatewayUrl);
    const started = Date.now();
    const res = await request(platform.gatewayUrl)
      .get('/api/v1/users/me')
      .set('authorization', `Bearer ${user.accessToken}`)
      .expect(504);
    const elapsed = Date.now() - started;
    expect(res.body).toMatchObject(errorBody(504));
    expect(res.headers['x-request-id']).toBe(res.body.requestId);
    // Bounded by the configured 500 ms (plus timer granularity), not the 10 s default.
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(5000);
  });
});
