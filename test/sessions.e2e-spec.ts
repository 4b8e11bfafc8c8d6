import { performance } from 'node:perf_hooks';
import request from 'supertest';
import { registerAdmin, runAdmin } from './support/admin-command';
import { registerAndLogin, type TestUser, uniqueEmail } from './support/http';
import { type Platform, startPlatform } from './support/platform';
import { describeWithPostgres } from './support/services';

// Issue 11 (CONTRACT §6): logout, refresh-token reuse and the operator's revocation end that
// session's access tokens at the gateway and at every service within 1 s; refresh rotation is
// atomic; roles come only from the operator's command. Real processes. Needs `npm run build`.

jest.setTimeout(60_000);

/** The contract's bound for a revocation to reach every app. */
const WITHIN_MS = 1_000;

const databases: Array<[string, jest.Describe, 'sqlite' | 'postgres']> = [
  ['SQLite', describe, 'sqlite'],
  ['PostgreSQL', describeWithPostgres(), 'postgres'],
];

for (const [label, describeOn, database] of databases) {
  describeOn(`sessions and revocation (${label})`, () => {
    let platform: Platform;

    beforeAll(async () => {
      platform = await startPlatform({ database });
    }, 120_000);

    afterAll(async () => {
      await platform?.stop();
    });

    /** Status of one bearer call at each app that checks tokens itself. */
    const probes = (token: string): Array<[string, () => Promise<number>]> => {
      const bearer = `Bearer ${token}`;
      return [
        [
          'gateway /api/v1/users/me',
          async () =>
            (
              await request(platform.gatewayUrl)
                .get('/api/v1/users/me')
                .set('authorization', bearer)
            ).status,
        ],
        [
          'users-service /users/me',
          async () =>
            (
              await request(platform.apps['users-service'].url)
                .get('/users/me')
                .set('authorization', bearer)
            ).status,
        ],
        [
          'auth-service /auth/me',
          async () =>
            (
              await request(platform.apps['auth-service'].url)
                .get('/auth/me')
                .set('authorization', bearer)
            ).status,
        ],
      ];
    };

    async function expectAccepted(token: string): Promise<void> {
      for (const [where, probe] of probes(token)) {
        expect([where, await probe()]).toEqual([where, 200]);
      }
    }

    /** Waits until every app refuses `token`; returns the slowest time since `since`, ms. */
    async function expectRefusedWithin(token: string, since: number): Promise<number> {
      let slowest = 0;
      for (const [where, probe] of probes(token)) {
        for (;;) {
          const status = await probe();
          const elapsed = performance.now() - since;
          if (status === 401) {
            slowest = Math.max(slowest, elapsed);
            break;
          }
          expect([where, status]).toEqual([where, 200]);
          if (elapsed > WITHIN_MS) {
            throw new Error(`${where} still accepts the token ${Math.round(elapsed)} ms later`);
          }
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      }
      expect(slowest).toBeLessThanOrEqual(WITHIN_MS);
      return slowest;
    }

    async function login(user: TestUser): Promise<{ accessToken: string; refreshToken: string }> {
      const res = await request(platform.gatewayUrl)
        .post('/api/v1/auth/login')
        .send({ email: user.email, password: user.password })
        .expect(200);
      return res.body;
    }

    it('ends the access tokens of a logged-out session everywhere within 1 s, and only those', async () => {
      const user = await registerAndLogin(platform.gatewayUrl, uniqueEmail('logout'));
      const other = await login(user);
      // Warm every cache first: the gateway's verified-token cache must not hide the logout.
      await expectAccepted(user.accessToken);
      await expectAccepted(other.accessToken);
      const started = performance.now();
      await request(platform.gatewayUrl)
        .post('/api/v1/auth/logout')
        .set('authorization', `Bearer ${user.accessToken}`)
        .send({ refreshToken: user.refreshToken })
        .expect(204);
      await expectRefusedWithin(user.accessToken, started);
      await expectAccepted(other.accessToken);
      await request(platform.gatewayUrl)
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: user.refreshToken })
        .expect(401);
    });

    it('lets at most one of two concurrent refreshes win, and the reuse ends even the winner', async () => {
      const user = await registerAndLogin(platform.gatewayUrl, uniqueEmail('race'));
      for (let round = 0; round < 5; round += 1) {
        const pair = await login(user);
        await expectAccepted(pair.accessToken);
        const started = performance.now();
        const replies = await Promise.all(
          [0, 1].map(() =>
            request(platform.gatewayUrl)
              .post('/api/v1/auth/refresh')
              .send({ refreshToken: pair.refreshToken }),
          ),
        );
        const statuses = replies.map((reply) => reply.status).sort();
        expect([
          [200, 401],
          [401, 401],
        ]).toContainEqual(statuses);
        // Reuse was detected: the session is gone, the pair just issued included.
        await expectRefusedWithin(pair.accessToken, started);
        for (const winner of replies.filter((reply) => reply.status === 200)) {
          await expectRefusedWithin(winner.body.accessToken, started);
          await request(platform.gatewayUrl)
            .post('/api/v1/auth/refresh')
            .send({ refreshToken: winner.body.refreshToken })
            .expect(401);
        }
      }
    });

    it('ends the session of a reused refresh token, access tokens included', async () => {
      const user = await registerAndLogin(platform.gatewayUrl, uniqueEmail('reuse'));
      const rotated = await request(platform.gatewayUrl)
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: user.refreshToken })
        .expect(200);
      await expectAccepted(rotated.body.accessToken);
      const started = performance.now();
      await request(platform.gatewayUrl)
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: user.refreshToken })
        .expect(401);
      await expectRefusedWithin(rotated.body.accessToken, started);
      await expectRefusedWithin(user.accessToken, started);
    });

    it("ends every session of a user with the operator's revoke-sessions", async () => {
      const user = await registerAndLogin(platform.gatewayUrl, uniqueEmail('operator'));
      const second = await login(user);
      const bystander = await registerAndLogin(platform.gatewayUrl, uniqueEmail('bystander'));
      await expectAccepted(user.accessToken);
      await expectAccepted(second.accessToken);
      const started = performance.now();
      const result = runAdmin(['revoke-sessions', user.email], platform);
      expect(result.code).toBe(0);
      expect(result.audit).toEqual([
        expect.objectContaining({ audit: true, action: 'revoke-sessions', userId: user.id }),
      ]);
      await expectRefusedWithin(user.accessToken, started);
      await expectRefusedWithin(second.accessToken, started);
      await expectAccepted(bystander.accessToken);
      for (const refreshToken of [user.refreshToken, second.refreshToken]) {
        await request(platform.gatewayUrl)
          .post('/api/v1/auth/refresh')
          .send({ refreshToken })
          .expect(401);
      }
      // The user can log in again: revocation ends sessions, not the account.
      await expectAccepted((await login(user)).accessToken);
    });

    it('grants admin only through the command, and revoking it ends tokens carrying it', async () => {
      const email = uniqueEmail('boss');
      const plain = await registerAndLogin(platform.gatewayUrl, email, 'Boss');
      const list = (token: string) =>
        request(platform.gatewayUrl).get('/api/v1/users').set('authorization', `Bearer ${token}`);
      expect((await list(plain.accessToken)).status).toBe(403);
      const admin = await registerAdmin(platform, uniqueEmail('admin'));
      expect((await list(admin.accessToken)).status).toBe(200);
      const me = await request(platform.gatewayUrl)
        .get('/api/v1/auth/me')
        .set('authorization', `Bearer ${admin.accessToken}`)
        .expect(200);
      expect(me.body.roles).toEqual(['admin', 'user']);

      const started = performance.now();
      const revoked = runAdmin(['revoke', admin.email], platform);
      expect(revoked.code).toBe(0);
      expect(revoked.audit[0]).toMatchObject({
        action: 'revoke',
        role: 'admin',
        result: 'changed',
      });
      await expectRefusedWithin(admin.accessToken, started);
      const again = await login(admin);
      expect((await list(again.accessToken)).status).toBe(403);
      expect(runAdmin(['grant', 'nobody@example.com'], platform).code).toBe(1);
    });
  });
}
