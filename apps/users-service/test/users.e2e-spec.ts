import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getDataSourceToken, getRepositoryToken } from '@nestjs/typeorm';
import { configureApp } from '@keel/platform';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from '@keel/security';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JWK,
  type KeyLike,
  SignJWT,
} from 'jose';
import request from 'supertest';
import { type DataSource, type Repository } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database';
import { describeWithPostgres, postgresUrl } from '../../../test/support/services';
import { waitFor } from '../../../test/support/wait';
import { AppModule } from '../src/app.module';
import { loadUsersConfig } from '../src/config/users-config';
import { Profile } from '../src/profiles/profile.entity';

const INTERNAL_TOKEN = 'users-e2e-internal-token-0123456789';

interface SigningKey {
  privateKey: KeyLike;
  kid: string;
}

/** A real JWKS over HTTP, as auth-service serves it, with the key the tests sign with. */
class JwksServer {
  key!: SigningKey;
  private server!: Server;

  async start(): Promise<string> {
    this.key = await newSigningKey();
    const jwk = await publicJwk(this.key);
    this.server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [{ ...jwk, kid: this.key.kid, alg: 'ES256', use: 'sig' }] }));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }
}

async function newSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
  return { privateKey, kid };
}

async function publicJwk(key: SigningKey): Promise<JWK> {
  const { d: _d, ...jwk } = await exportJWK(key.privateKey);
  return jwk;
}

interface TokenOptions {
  roles?: string[];
  key?: SigningKey;
  kid?: string;
  expiresInSeconds?: number;
  audience?: string;
}

async function sign(jwks: JwksServer, sub: string, email: string, options: TokenOptions = {}) {
  const key = options.key ?? jwks.key;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ email, roles: options.roles ?? ['user'] })
    .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? key.kid, typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(ACCESS_TOKEN_ISSUER)
    .setAudience(options.audience ?? ACCESS_TOKEN_AUDIENCE)
    .setIssuedAt(now - 5)
    .setExpirationTime(now + (options.expiresInSeconds ?? 900))
    .setJti(randomUUID())
    .sign(key.privateKey);
}

const errorBody = (statusCode: number, error: string) => ({
  statusCode,
  error,
  message: expect.any(String),
  requestId: expect.any(String),
  traceId: expect.any(String),
});

const drivers: [string, () => typeof describe][] = [
  ['SQLite', () => describe],
  ['PostgreSQL', describeWithPostgres],
];

describe.each(drivers)('users-service on %s', (driver, pick) => {
  pick()('', () => {
    const jwks = new JwksServer();
    let app: INestApplication;
    let dataDir: string;
    let database: TestDatabase | undefined;

    beforeAll(async () => {
      const authUrl = await jwks.start();
      dataDir = mkdtempSync(join(tmpdir(), 'keel-users-'));
      const env: Record<string, string> = {
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        KEEL_DATA_DIR: dataDir,
        AUTH_SERVICE_URL: authUrl,
        INTERNAL_TOKEN,
      };
      if (driver === 'PostgreSQL') {
        database = await createTestDatabase(postgresUrl!);
        env.DATABASE_URL = database.url;
      }
      const config = loadUsersConfig(env);
      const moduleRef = await Test.createTestingModule({
        imports: [AppModule.forRoot(config)],
      }).compile();
      app = moduleRef.createNestApplication({ bodyParser: false, bufferLogs: true });
      configureApp(app, config);
      await app.init();
    });

    afterAll(async () => {
      await app?.close();
      await jwks.stop();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const http = () => request(app.getHttpServer());
    const profiles = () => app.get<DataSource>(getDataSourceToken()).getRepository(Profile);
    const createProfile = (body: object, token: string | null = INTERNAL_TOKEN) => {
      const req = http().post('/internal/users');
      return token === null ? req.send(body) : req.set('x-internal-token', token).send(body);
    };
    /** A user with a profile, and a bearer token for it. */
    const newUser = async (displayName = 'Someone', roles = ['user']) => {
      const id = randomUUID();
      const email = `${id.slice(0, 8)}@example.com`;
      await createProfile({ id, email, displayName }).expect(201);
      return { id, email, token: await sign(jwks, id, email, { roles }) };
    };

    describe('POST /internal/users', () => {
      it('refuses a call without the internal token (401) or with a wrong one (403)', async () => {
        const body = { id: randomUUID(), email: 'nobody@example.com', displayName: 'Nobody' };

        const missing = await createProfile(body, null).expect(401);
        expect(missing.body).toEqual(errorBody(401, 'Unauthorized'));
        const wrong = await createProfile(body, 'not-the-internal-token-000000').expect(403);
        expect(wrong.body).toEqual(errorBody(403, 'Forbidden'));
        // A user's bearer token is no substitute for the internal token.
        const user = await newUser();
        await http()
          .post('/internal/users')
          .set('authorization', `Bearer ${user.token}`)
          .send(body)
          .expect(401);
        expect(await profiles().countBy({ id: body.id })).toBe(0);
      });

      it('creates a profile with a normalised email, then answers a retry with it unchanged', async () => {
        const id = randomUUID();
        const created = await createProfile({
          id,
          email: '  Grace.Hopper@Example.COM ',
          displayName: ' Grace ',
        }).expect(201);
        expect(created.body).toEqual({
          id,
          email: 'grace.hopper@example.com',
          displayName: 'Grace',
          bio: null,
          createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
          updatedAt: created.body.createdAt,
        });

        const retry = await createProfile({
          id,
          email: 'grace.hopper@example.com',
          displayName: 'Grace',
        }).expect(200);
        expect(retry.body).toEqual(created.body);
        // Concurrent retries race on the insert; all of them succeed and one row remains.
        const racing = await Promise.all(
          [1, 2, 3].map(() =>
            createProfile({ id, email: 'grace.hopper@example.com', displayName: 'Grace' }),
          ),
        );
        expect(racing.map((res) => res.status)).toEqual([200, 200, 200]);
        expect(await profiles().countBy({ id })).toBe(1);
      });

      it('makes concurrent first calls for one id into one profile', async () => {
        const body = { id: randomUUID(), email: 'race@example.com', displayName: 'Race' };
        const results = await Promise.all([1, 2, 3, 4].map(() => createProfile(body)));

        expect(results.map((res) => res.status).sort()).toEqual([200, 200, 200, 201]);
        expect(new Set(results.map((res) => res.body.createdAt)).size).toBe(1);
        expect(await profiles().countBy({ id: body.id })).toBe(1);
      });

      it('answers a retry that lost the race to the insert with the stored profile', async () => {
        const body = { id: randomUUID(), email: 'late-retry@example.com', displayName: 'Late' };
        const stored = (await createProfile(body).expect(201)).body;
        // The retry's existence check ran before the first call's insert committed: it saw
        // nothing, so its own insert hits the primary key and must recover from that.
        const repository = app.get<Repository<Profile>>(getRepositoryToken(Profile));
        const staleRead = jest.spyOn(repository, 'findOneBy').mockResolvedValueOnce(null);
        try {
          const retry = await createProfile(body).expect(200);
          expect(retry.body).toEqual(stored);
        } finally {
          staleRead.mockRestore();
        }
        expect(await profiles().countBy({ id: body.id })).toBe(1);
      });

      it('answers 409 for an email that another id holds, in any case', async () => {
        const first = await newUser();
        const res = await createProfile({
          id: randomUUID(),
          email: first.email.toUpperCase(),
          displayName: 'Impostor',
        }).expect(409);
        expect(res.body).toEqual(errorBody(409, 'Conflict'));
        expect(await profiles().countBy({ email: first.email })).toBe(1);
      });

      it('answers 409 when an existing id is sent with another email', async () => {
        const first = await newUser();
        await createProfile({
          id: first.id,
          email: 'other@example.com',
          displayName: 'Other',
        }).expect(409);
        expect((await profiles().findOneByOrFail({ id: first.id })).email).toBe(first.email);
      });

      it.each([
        ['a non-UUID id', { id: 'abc', email: 'x@example.com', displayName: 'X' }],
        ['a bad email', { id: randomUUID(), email: 'nope', displayName: 'X' }],
        ['an empty displayName', { id: randomUUID(), email: 'x@example.com', displayName: '  ' }],
        [
          'an unknown property',
          { id: randomUUID(), email: 'x@example.com', displayName: 'X', roles: ['admin'] },
        ],
        ['a missing field', { id: randomUUID(), email: 'x@example.com' }],
      ])('answers 400 for %s and stores nothing', async (_label, body) => {
        const res = await createProfile(body).expect(400);
        expect(res.body).toEqual(errorBody(400, 'Bad Request'));
        expect(await profiles().countBy({ email: 'x@example.com' })).toBe(0);
      });
    });

    describe('DELETE /internal/users/:id', () => {
      it('removes a profile (compensation for a failed registration), idempotently', async () => {
        const user = await newUser();
        await http().delete(`/internal/users/${user.id}`).expect(401);
        await http()
          .delete(`/internal/users/${user.id}`)
          .set('x-internal-token', INTERNAL_TOKEN)
          .expect(204);
        expect(await profiles().countBy({ id: user.id })).toBe(0);
        await http()
          .delete(`/internal/users/${user.id}`)
          .set('x-internal-token', INTERNAL_TOKEN)
          .expect(204);
        // The email is free again for a new registration.
        await createProfile({ id: randomUUID(), email: user.email, displayName: 'Again' }).expect(
          201,
        );
      });
    });

    describe('GET and PATCH /users/me', () => {
      it('answers the caller own profile', async () => {
        const user = await newUser('Ada');
        const res = await http()
          .get('/users/me')
          .set('authorization', `Bearer ${user.token}`)
          .expect(200);
        expect(res.body).toEqual({
          id: user.id,
          email: user.email,
          displayName: 'Ada',
          bio: null,
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
        });
      });

      it('answers 404 for a valid token whose profile does not exist yet', async () => {
        const token = await sign(jwks, randomUUID(), 'ghost@example.com');
        const res = await http()
          .get('/users/me')
          .set('authorization', `Bearer ${token}`)
          .expect(404);
        expect(res.body).toEqual(errorBody(404, 'Not Found'));
        await http()
          .patch('/users/me')
          .set('authorization', `Bearer ${token}`)
          .send({ bio: 'hello' })
          .expect(404);
      });

      it('updates displayName and bio, keeps what was not sent, and moves updatedAt', async () => {
        const user = await newUser('Before');
        const auth = `Bearer ${user.token}`;
        const before = (await http().get('/users/me').set('authorization', auth).expect(200)).body;
        // The update must happen on a later millisecond than the creation, or it cannot move.
        await waitFor(() => Date.now() > Date.parse(before.updatedAt), {
          what: `the clock to pass updatedAt ${before.updatedAt}`,
        });

        const patched = await http()
          .patch('/users/me')
          .set('authorization', auth)
          .send({ displayName: '  After  ', bio: 'Line one\nLine two 👩‍💻' })
          .expect(200);
        expect(patched.body).toEqual({
          ...before,
          displayName: 'After',
          bio: 'Line one\nLine two 👩‍💻',
          updatedAt: expect.any(String),
        });
        expect(Date.parse(patched.body.updatedAt)).toBeGreaterThan(Date.parse(before.updatedAt));

        const bioOnly = await http()
          .patch('/users/me')
          .set('authorization', auth)
          .send({ bio: 'New bio' })
          .expect(200);
        expect(bioOnly.body).toMatchObject({ displayName: 'After', bio: 'New bio' });

        const cleared = await http()
          .patch('/users/me')
          .set('authorization', auth)
          .send({ bio: null })
          .expect(200);
        expect(cleared.body).toMatchObject({ displayName: 'After', bio: null });
        await http()
          .patch('/users/me')
          .set('authorization', auth)
          .send({ bio: 'again' })
          .expect(200);
        const blank = await http()
          .patch('/users/me')
          .set('authorization', auth)
          .send({ bio: '   ' })
          .expect(200);
        expect(blank.body.bio).toBeNull();

        const me = await http().get('/users/me').set('authorization', auth).expect(200);
        expect(me.body).toEqual(blank.body);
      });

      it('answers an empty PATCH with the profile unchanged', async () => {
        const user = await newUser('Same');
        const auth = `Bearer ${user.token}`;
        const before = (await http().get('/users/me').set('authorization', auth).expect(200)).body;
        const res = await http().patch('/users/me').set('authorization', auth).send({}).expect(200);
        expect(res.body).toEqual(before);
      });

      it.each([
        ['an unknown property', { displayName: 'X', email: 'takeover@example.com' }],
        ['a too long displayName', { displayName: 'x'.repeat(101) }],
        ['a too long bio', { bio: 'x'.repeat(501) }],
        ['an empty displayName', { displayName: '   ' }],
        ['a null displayName', { displayName: null }],
        ['a control character in displayName', { displayName: 'Evil\u0007Name' }],
        ['a line break in displayName', { displayName: 'Two\nLines' }],
        ['a bidi override in bio', { bio: 'abc\u202Edef' }],
        ['a number as bio', { bio: 42 }],
        ['an array body', [{ displayName: 'X' }]],
      ])('answers 400 for %s and changes nothing', async (_label, body) => {
        const user = await newUser('Unchanged');
        const auth = `Bearer ${user.token}`;
        const before = (await http().get('/users/me').set('authorization', auth).expect(200)).body;
        const res = await http()
          .patch('/users/me')
          .set('authorization', auth)
          .send(body)
          .expect(400);
        expect(res.body).toEqual(errorBody(400, 'Bad Request'));
        expect((await http().get('/users/me').set('authorization', auth).expect(200)).body).toEqual(
          before,
        );
      });

      it('accepts the longest allowed values', async () => {
        const user = await newUser();
        const body = { displayName: 'n'.repeat(100), bio: 'b'.repeat(500) };
        const res = await http()
          .patch('/users/me')
          .set('authorization', `Bearer ${user.token}`)
          .send(body)
          .expect(200);
        expect(res.body).toMatchObject(body);
      });
    });

    describe('GET /users/:id', () => {
      it('answers the public profile only, and shows a PATCH at once', async () => {
        const owner = await newUser('Public Name');
        const reader = await newUser('Reader');
        const read = () =>
          http()
            .get(`/users/${owner.id}`)
            .set('authorization', `Bearer ${reader.token}`)
            .expect(200);

        expect((await read()).body).toEqual({
          id: owner.id,
          displayName: 'Public Name',
          bio: null,
        });
        // Read twice so the second answer comes from the cache, which the PATCH must clear.
        expect((await read()).body.displayName).toBe('Public Name');
        await http()
          .patch('/users/me')
          .set('authorization', `Bearer ${owner.token}`)
          .send({ displayName: 'Renamed', bio: 'Hi' })
          .expect(200);
        expect((await read()).body).toEqual({ id: owner.id, displayName: 'Renamed', bio: 'Hi' });
      });

      it('finds a profile by its id in upper case', async () => {
        const owner = await newUser('Shouty');
        const res = await http()
          .get(`/users/${owner.id.toUpperCase()}`)
          .set('authorization', `Bearer ${owner.token}`)
          .expect(200);
        expect(res.body.id).toBe(owner.id);
      });

      it('answers 400 for a non-UUID and 404 for an unknown id', async () => {
        const reader = await newUser();
        const auth = `Bearer ${reader.token}`;
        const bad = await http().get('/users/not-a-uuid').set('authorization', auth).expect(400);
        expect(bad.body).toEqual(errorBody(400, 'Bad Request'));
        const missing = await http()
          .get(`/users/${randomUUID()}`)
          .set('authorization', auth)
          .expect(404);
        expect(missing.body).toEqual(errorBody(404, 'Not Found'));
      });

      it('answers 401 without a token', async () => {
        const res = await http().get(`/users/${randomUUID()}`).expect(401);
        expect(res.body).toEqual(errorBody(401, 'Unauthorized'));
      });
    });

    describe('GET /users (admin listing)', () => {
      it('answers 403 for a non-admin and 401 without a token', async () => {
        const user = await newUser();
        const res = await http()
          .get('/users')
          .set('authorization', `Bearer ${user.token}`)
          .expect(403);
        expect(res.body).toEqual(errorBody(403, 'Forbidden'));
        await http().get('/users').expect(401);
      });

      it('pages through every profile once, in (createdAt, id) order', async () => {
        const admin = await newUser('Admin', ['admin', 'user']);
        // Rows sharing a creation time make the id the deciding key at page edges.
        const sameInstant = new Date(Date.now() + 60_000);
        await profiles().insert(
          Array.from({ length: 9 }, (_, i) => ({
            id: randomUUID(),
            email: `tie-${i}-${randomUUID().slice(0, 8)}@example.com`,
            displayName: `Tie ${i}`,
            bio: null,
            createdAt: sameInstant,
            updatedAt: sameInstant,
          })),
        );
        for (let i = 0; i < 8; i += 1) {
          await newUser(`Listed ${i}`);
        }
        const expected = (await profiles().find()).sort(
          (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1),
        );
        expect(expected.length).toBeGreaterThan(21);

        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const res: request.Response = await http()
            .get('/users')
            .query(cursor ? { limit: 4, cursor } : { limit: 4 })
            .set('authorization', `Bearer ${admin.token}`)
            .expect(200);
          expect(res.body.items.length).toBeLessThanOrEqual(4);
          seen.push(...res.body.items.map((item: { id: string }) => item.id));
          cursor = res.body.nextCursor;
          pages += 1;
        } while (cursor !== null && pages < 100);

        expect(seen).toEqual(expected.map((profile) => profile.id));
        expect(pages).toBe(Math.ceil(expected.length / 4));
      });

      it('answers full profiles, 20 by default', async () => {
        const admin = await newUser('Admin', ['admin']);
        for (let i = 0; i < 21; i += 1) {
          await newUser(`Filler ${i}`);
        }
        const res = await http()
          .get('/users')
          .set('authorization', `Bearer ${admin.token}`)
          .expect(200);
        expect(res.body.items).toHaveLength(20);
        expect(res.body.nextCursor).toEqual(expect.any(String));
        expect(Object.keys(res.body.items[0]).sort()).toEqual(
          ['bio', 'createdAt', 'displayName', 'email', 'id', 'updatedAt'].sort(),
        );
      });

      it.each([
        ['garbage', { cursor: 'not!a!cursor' }],
        ['base64url of garbage', { cursor: Buffer.from('{"a":1}').toString('base64url') }],
        [
          'a cursor with a bad id',
          { cursor: Buffer.from('["2025-01-01T00:00:00.000Z","x"]').toString('base64url') },
        ],
        ['limit 0', { limit: 0 }],
        ['limit 101', { limit: 101 }],
        ['limit abc', { limit: 'abc' }],
        ['limit 2.5', { limit: 2.5 }],
        ['an unknown parameter', { sort: 'email' }],
      ])('answers 400 for %s', async (_label, query) => {
        const admin = await newUser('Admin', ['admin']);
        const res = await http()
          .get('/users')
          .query(query)
          .set('authorization', `Bearer ${admin.token}`)
          .expect(400);
        expect(res.body).toEqual(errorBody(400, 'Bad Request'));
      });

      it('accepts limit 100', async () => {
        const admin = await newUser('Admin', ['admin']);
        const res = await http()
          .get('/users')
          .query({ limit: 100 })
          .set('authorization', `Bearer ${admin.token}`)
          .expect(200);
        expect(res.body.items.length).toBeGreaterThan(0);
      });
    });

    describe('bearer tokens', () => {
      it('refuses expired, tampered, unsigned, foreign and mis-addressed tokens with 401', async () => {
        const user = await newUser();
        const expired = await sign(jwks, user.id, user.email, { expiresInSeconds: -60 });
        const [h, p, s] = user.token.split('.');
        const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
        const escalated = Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString(
          'base64url',
        );
        const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
        const stranger = await newSigningKey();
        const forged = await sign(jwks, user.id, user.email, { key: stranger, kid: jwks.key.kid });
        const unknownKid = await sign(jwks, user.id, user.email, { key: stranger });
        const wrongAudience = await sign(jwks, user.id, user.email, { audience: 'someone-else' });

        for (const token of [
          expired,
          `${h}.${escalated}.${s}`,
          `${none}.${p}.`,
          forged,
          unknownKid,
          wrongAudience,
          'not.a.jwt',
        ]) {
          const res = await http().get('/users/me').set('authorization', `Bearer ${token}`);
          expect(res.status).toBe(401);
          expect(res.body).toEqual(errorBody(401, 'Unauthorized'));
        }
        // The genuine token still works: the refusals were about the tokens, not the key set.
        await http().get('/users/me').set('authorization', `Bearer ${user.token}`).expect(200);
      });
    });
  });
});
