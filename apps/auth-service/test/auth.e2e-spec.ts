import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { type INestApplication } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { configureApp, RequestContext } from '@keel/platform';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import request from 'supertest';
import { type BeforeQueryEvent, type DataSource, type EntitySubscriberInterface } from 'typeorm';
import { runAdmin } from '../../../test/support/admin-command';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database';
import { describeWithPostgres, postgresUrl } from '../../../test/support/services';
import { AppModule } from '../src/app.module';
import { loadAuthConfig } from '../src/config/auth-config';

/** A stand-in for users-service's internal API, over real HTTP, whose answer a test sets. */
class UsersStub {
  readonly calls: {
    method?: string;
    url?: string;
    headers: IncomingMessage['headers'];
    body: Record<string, unknown>;
  }[] = [];
  mode: 'ok' | 'fail' = 'ok';
  private server!: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let data = '';
      req.on('data', (chunk: Buffer) => (data += chunk.toString()));
      req.on('end', () => {
        const body = JSON.parse(data || '{}') as Record<string, unknown>;
        this.calls.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.setHeader('content-type', 'application/json');
        if (this.mode === 'fail') {
          res.statusCode = 503;
          res.end(JSON.stringify({ statusCode: 503 }));
          return;
        }
        res.statusCode = 201;
        res.end(JSON.stringify({ ...body, bio: null }));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }
}

async function startAuthService(env: Record<string, string>): Promise<INestApplication> {
  const config = loadAuthConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env });
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.forRoot(config)],
  }).compile();
  const app = moduleRef.createNestApplication({ bodyParser: false, bufferLogs: true });
  configureApp(app, config);
  await app.init();
  return app;
}

/**
 * The statements each request sent to the database, by request id: its round trips (one
 * statement, one round trip, on both drivers). Queries outside a request are not counted.
 */
class RoundTrips implements EntitySubscriberInterface {
  private readonly byRequest = new Map<string, string[]>();

  beforeQuery(event: BeforeQueryEvent<unknown>): void {
    const requestId = RequestContext.requestId();
    if (requestId) {
      this.byRequest.set(requestId, [...(this.byRequest.get(requestId) ?? []), event.query]);
    }
  }

  of(requestId: string): string[] {
    return this.byRequest.get(requestId) ?? [];
  }
}

const drivers: [string, () => typeof describe][] = [
  ['SQLite', () => describe],
  ['PostgreSQL', describeWithPostgres],
];

describe.each(drivers)('auth-service on %s', (driver, pick) => {
  pick()('', () => {
    const users = new UsersStub();
    let app: INestApplication;
    let dataDir: string;
    let database: TestDatabase | undefined;
    const password = 'correct horse battery';

    beforeAll(async () => {
      const usersUrl = await users.start();
      dataDir = mkdtempSync(join(tmpdir(), 'keel-auth-'));
      const env: Record<string, string> = {
        KEEL_DATA_DIR: dataDir,
        USERS_SERVICE_URL: usersUrl,
      };
      if (driver === 'PostgreSQL') {
        database = await createTestDatabase(postgresUrl!);
        env.DATABASE_URL = database.url;
      }
      app = await startAuthService(env);
    });

    afterAll(async () => {
      await app?.close();
      await users.stop();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const http = () => request(app.getHttpServer());
    const credentialCount = async (email: string) =>
      app
        .get<DataSource>(getDataSourceToken())
        .query<{ n: number }[]>(
          driver === 'PostgreSQL'
            ? 'SELECT count(*)::int AS n FROM credentials WHERE email = $1'
            : 'SELECT count(*) AS n FROM credentials WHERE email = ?',
          [email],
        );

    it('runs register → login → me → refresh → reuse detected → logout', async () => {
      const registered = await http()
        .post('/auth/register')
        .send({ email: ' Ada@Example.com ', password, displayName: 'Ada' })
        .expect(201);
      expect(registered.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        email: 'ada@example.com',
        displayName: 'Ada',
        createdAt: expect.any(String),
      });
      // The instant of registration, as an ISO timestamp.
      const createdAt = Date.parse(registered.body.createdAt);
      expect(Math.abs(Date.now() - createdAt)).toBeLessThan(60_000);
      expect(registered.body.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      // The profile was created through the internal API, with the internal token.
      const call = users.calls.at(-1)!;
      expect(call.body).toEqual({
        id: registered.body.id,
        email: 'ada@example.com',
        displayName: 'Ada',
      });
      expect(call.headers['x-internal-token']).toBeDefined();

      const login = await http()
        .post('/auth/login')
        .send({ email: 'ADA@example.com', password })
        .expect(200);
      expect(login.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
      });
      expect(Buffer.from(login.body.refreshToken, 'base64url').length).toBeGreaterThanOrEqual(32);

      const me = await http()
        .get('/auth/me')
        .set('authorization', `Bearer ${login.body.accessToken}`)
        .expect(200);
      expect(me.body).toEqual({
        id: registered.body.id,
        email: 'ada@example.com',
        roles: ['user'],
      });

      const refreshed = await http()
        .post('/auth/refresh')
        .send({ refreshToken: login.body.refreshToken })
        .expect(200);
      expect(refreshed.body.refreshToken).not.toBe(login.body.refreshToken);

      // The rotated token is reused: refused, and the whole session is revoked.
      const reuse = await http()
        .post('/auth/refresh')
        .send({ refreshToken: login.body.refreshToken })
        .expect(401);
      expect(reuse.body).toMatchObject({
        statusCode: 401,
        error: 'Unauthorized',
        requestId: expect.any(String),
      });
      await http()
        .post('/auth/refresh')
        .send({ refreshToken: refreshed.body.refreshToken })
        .expect(401);

      // A fresh session can be logged out, after which its refresh token is dead.
      const second = await http()
        .post('/auth/login')
        .send({ email: 'ada@example.com', password })
        .expect(200);
      await http()
        .post('/auth/logout')
        .set('authorization', `Bearer ${second.body.accessToken}`)
        .send({ refreshToken: second.body.refreshToken })
        .expect(204);
      await http()
        .post('/auth/refresh')
        .send({ refreshToken: second.body.refreshToken })
        .expect(401);
      await http()
        .post('/auth/logout')
        .send({ refreshToken: second.body.refreshToken })
        .expect(401);
    });

    it('reports createdAt to the millisecond, not rounded to whole seconds', async () => {
      const stamps: string[] = [];
      for (const name of ['ms1', 'ms2', 'ms3']) {
        const res = await http()
          .post('/auth/register')
          .send({ email: `${name}@example.com`, password, displayName: name })
          .expect(201);
        stamps.push(res.body.createdAt as string);
      }
      // A database default would round every stamp to .000 on SQLite; three in a row by
      // chance is a one-in-a-billion event.
      expect(stamps.every((stamp) => stamp.endsWith('.000Z'))).toBe(false);
    });

    it('answers 409 for an email taken in any case', async () => {
      await http()
        .post('/auth/register')
        .send({ email: 'dup@example.com', password, displayName: 'One' })
        .expect(201);
      const conflict = await http()
        .post('/auth/register')
        .send({ email: 'DUP@example.com ', password, displayName: 'Two' })
        .expect(409);
      expect(conflict.body).toMatchObject({
        statusCode: 409,
        error: 'Conflict',
        message: 'Email is already registered',
      });
    });

    it.each([
      ['a short password', { email: 'x@example.com', password: 'short', displayName: 'X' }],
      ['a bad email', { email: 'nope', password, displayName: 'X' }],
      [
        'an unknown property',
        { email: 'x@example.com', password, displayName: 'X', roles: ['admin'] },
      ],
      ['a missing field', { email: 'x@example.com', password }],
    ])('answers 400 for %s and stores nothing', async (_label, body) => {
      const res = await http().post('/auth/register').send(body).expect(400);
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: expect.any(String),
        requestId: expect.any(String),
        traceId: expect.any(String),
      });
      expect((await credentialCount('x@example.com'))[0].n).toBe(0);
    });

    it('answers 400 for malformed JSON, not 500', async () => {
      const res = await http()
        .post('/auth/login')
        .set('content-type', 'application/json')
        .send('{"email":')
        .expect(400);
      expect(res.body.statusCode).toBe(400);
    });

    it('gives one 401 message for an unknown email and a wrong password', async () => {
      await http()
        .post('/auth/register')
        .send({ email: 'bob@example.com', password, displayName: 'Bob' })
        .expect(201);
      const wrong = await http()
        .post('/auth/login')
        .send({ email: 'bob@example.com', password: 'wrong password!' })
        .expect(401);
      const unknown = await http()
        .post('/auth/login')
        .send({ email: 'nobody@example.com', password })
        .expect(401);
      expect(wrong.body.message).toBe('Invalid email or password');
      expect(unknown.body.message).toBe(wrong.body.message);
    });

    it('answers 503 and keeps no credential when users-service fails, then registers later', async () => {
      users.mode = 'fail';
      const res = await http()
        .post('/auth/register')
        .send({ email: 'late@example.com', password, displayName: 'Late' })
        .expect(503);
      expect(res.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
      expect((await credentialCount('late@example.com'))[0].n).toBe(0);
      // A profile that users-service may have made anyway is removed (compensation).
      const create = users.calls.findLast((c) => c.method === 'POST')!;
      expect(users.calls.at(-1)).toMatchObject({
        method: 'DELETE',
        url: `/internal/users/${String(create.body.id)}`,
      });
      users.mode = 'ok';
      await http()
        .post('/auth/register')
        .send({ email: 'late@example.com', password, displayName: 'Late' })
        .expect(201);
    });

    it('serves a JWKS that verifies issued tokens, and gives admins their role', async () => {
      const registered = await http()
        .post('/auth/register')
        .send({ email: 'boss@example.com', password, displayName: 'Boss' })
        .expect(201);
      const before = await http()
        .post('/auth/login')
        .send({ email: 'boss@example.com', password })
        .expect(200);
      // Registering grants no role beyond `user`; the operator's command grants `admin`.
      expect(decodeJwt(before.body.accessToken).roles).toEqual(['user']);
      const granted = runAdmin(['grant', ' BOSS@example.com'], {
        dataDir,
        databaseUrl: database?.url,
      });
      expect(granted.code).toBe(0);
      expect(granted.audit).toEqual([
        expect.objectContaining({
          audit: true,
          action: 'grant',
          role: 'admin',
          email: 'boss@example.com',
          userId: registered.body.id,
          result: 'changed',
        }),
      ]);
      const login = await http()
        .post('/auth/login')
        .send({ email: 'boss@example.com', password })
        .expect(200);
      const jwks = await http().get('/.well-known/jwks.json').expect(200);
      expect(jwks.body.keys[0]).not.toHaveProperty('d');
      const header = decodeProtectedHeader(login.body.accessToken);
      expect(header).toMatchObject({ alg: 'ES256', kid: jwks.body.keys[0].kid });
      const { payload } = await jwtVerify(login.body.accessToken, createLocalJWKSet(jwks.body), {
        issuer: 'keel-auth',
        audience: 'keel',
      });
      expect(payload.roles).toEqual(['admin', 'user']);
    });

    // Issue 10: the hot paths' database round trips, counted so that a regression fails.
    // Before: login 2 (PostgreSQL) / 3 (SQLite: TypeORM's insert re-read `created_at`), me 1,
    // refresh 5 / 6.
    it('serves login in 2 round trips, me in 1 and a refresh in 3, with the same claims', async () => {
      await http()
        .post('/auth/register')
        .send({ email: 'trips@example.com', password, displayName: 'Trips' })
        .expect(201);
      const trips = new RoundTrips();
      const dataSource = app.get<DataSource>(getDataSourceToken());
      dataSource.subscribers.push(trips);
      try {
        const login = await http()
          .post('/auth/login')
          .set('x-request-id', 'trips-login')
          .send({ email: 'trips@example.com', password })
          .expect(200);
        await http()
          .get('/auth/me')
          .set('x-request-id', 'trips-me')
          .set('authorization', `Bearer ${login.body.accessToken}`)
          .expect(200);
        const refreshed = await http()
          .post('/auth/refresh')
          .set('x-request-id', 'trips-refresh')
          .send({ refreshToken: login.body.refreshToken })
          .expect(200);
        expect(trips.of('trips-login')).toHaveLength(2);
        expect(trips.of('trips-me')).toHaveLength(1);
        expect(trips.of('trips-refresh')).toHaveLength(3);
        // The refreshed access token says what login's said: the credential fields came with
        // rotation's last round trip, the session id is the family's.
        const claims = (token: string) => {
          const { sub, email, roles, sid } = decodeJwt(token);
          return { sub, email, roles, sid };
        };
        expect(claims(refreshed.body.accessToken)).toEqual(claims(login.body.accessToken));
        expect(claims(login.body.accessToken)).toMatchObject({
          email: 'trips@example.com',
          roles: ['user'],
        });
        // And the new refresh token is good for exactly one more rotation.
        await http()
          .post('/auth/refresh')
          .send({ refreshToken: refreshed.body.refreshToken })
          .expect(200);
      } finally {
        dataSource.subscribers.splice(dataSource.subscribers.indexOf(trips), 1);
      }
    });

    it('refuses missing, tampered and unsigned bearer tokens', async () => {
      await http().get('/auth/me').expect(401);
      await http()
        .post('/auth/register')
        .send({ email: 'eve@example.com', password, displayName: 'Eve' })
        .expect(201);
      const login = await http()
        .post('/auth/login')
        .send({ email: 'eve@example.com', password })
        .expect(200);
      const [h, p, s] = (login.body.accessToken as string).split('.');
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
      const forged = Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString(
        'base64url',
      );
      await http().get('/auth/me').set('authorization', `Bearer ${h}.${forged}.${s}`).expect(401);
      const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      await http().get('/auth/me').set('authorization', `Bearer ${none}.${p}.`).expect(401);
    });
  });
});
