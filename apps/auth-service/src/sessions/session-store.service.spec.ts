import { randomUUID } from 'node:crypto';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database';
import { describeWithPostgres, postgresUrl } from '../../../../test/support/services';
import { waitFor } from '../../../../test/support/wait';
import { hashRefreshToken } from '../auth/refresh-token';
import { type AuthConfig } from '../config/auth-config';
import { Credential } from '../credentials/credential.entity';
import { InitialSchema1764230400000 } from '../migrations/1764230400000-initial-schema';
import { SessionsRevokedAtIndex1764921600000 } from '../migrations/1764921600000-sessions-revoked-at-index';
import { RevocationList } from '@keel/security';
import { Session } from './session.entity';
import { type RotationResult, SessionStore } from './session-store.service';

const entities = [Credential, Session];
const migrations = [InitialSchema1764230400000, SessionsRevokedAtIndex1764921600000];

/** A fresh database per test on SQLite (in memory); one per suite, emptied per test, on PostgreSQL. */
interface Driver {
  open(): Promise<DataSource>;
  close(dataSource: DataSource): Promise<void>;
  end(): Promise<void>;
}

const sqlite = (): Driver => ({
  open: () =>
    new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      entities,
      migrations,
      migrationsRun: true,
    }).initialize(),
  close: (dataSource) => dataSource.destroy(),
  end: async () => undefined,
});

const postgres = (): Driver => {
  let database: TestDatabase | undefined;
  let dataSource: DataSource | undefined;
  return {
    async open() {
      if (!dataSource) {
        database = await createTestDatabase(postgresUrl!);
        const options: DataSourceOptions = {
          type: 'postgres',
          url: database.url,
          entities,
          migrations,
          migrationsRun: true,
        };
        dataSource = await new DataSource(options).initialize();
      }
      await dataSource.query('DELETE FROM sessions');
      await dataSource.query('DELETE FROM credentials');
      return dataSource;
    },
    close: async () => undefined,
    async end() {
      await dataSource?.destroy();
      await database?.drop();
    },
  };
};

const drivers: Array<[string, jest.Describe, () => Driver]> = [
  ['SQLite', describe, sqlite],
  ['PostgreSQL', describeWithPostgres(), postgres],
];

describe.each(drivers)(`${SessionStore.name} on %s`, (label, describeOn, driverOf) => {
  describeOn('', () => {
    const driver = driverOf();
    let dataSource: DataSource;
    let store: SessionStore;
    let userId: string;
    let revocations: RevocationList;

    beforeEach(async () => {
      dataSource = await driver.open();
      userId = randomUUID();
      await dataSource
        .getRepository(Credential)
        .insert({ id: userId, email: 'a@b.io', passwordHash: 'x', roles: 'user' });
      const config = { refreshTokenTtlMs: 60_000, accessTokenTtlSeconds: 900 } as AuthConfig;
      revocations = new RevocationList(undefined);
      store = new SessionStore(dataSource.getRepository(Session), config, revocations);
    });

    afterEach(async () => {
      await driver.close(dataSource);
    });

    afterAll(async () => {
      await driver.end();
    });

    it('rotates a refresh token into a new one that works once', async () => {
      const { refreshToken: first } = await store.start(userId);
      const rotated = await store.rotate(first);
      expect(rotated).toMatchObject({
        outcome: 'rotated',
        userId,
        holder: { id: userId, email: 'a@b.io', roles: 'user' },
      });
      const second = (rotated as { refreshToken: string }).refreshToken;
      expect(second).not.toBe(first);
      expect(await store.rotate(second)).toMatchObject({ outcome: 'rotated' });
    });

    it('treats a rotated token as reuse and revokes the whole family', async () => {
      const { refreshToken: first } = await store.start(userId);
      const rotated = await store.rotate(first);
      const current = (rotated as { refreshToken: string }).refreshToken;

      expect(await store.rotate(first)).toEqual({ outcome: 'reuse', userId });
      // The legitimate holder's newest token is revoked too.
      expect(await store.rotate(current)).toEqual({ outcome: 'invalid' });
    });

    it('leaves other families alone when one is revoked', async () => {
      const { refreshToken: a } = await store.start(userId);
      const { refreshToken: b } = await store.start(userId);
      await store.rotate(a);
      await store.rotate(a);
      expect(await store.rotate(b)).toMatchObject({ outcome: 'rotated' });
    });

    it('refuses unknown and expired tokens', async () => {
      expect(await store.rotate('not-a-token-we-issued')).toEqual({ outcome: 'invalid' });
      const expiring = new SessionStore(
        dataSource.getRepository(Session),
        { refreshTokenTtlMs: 1, accessTokenTtlSeconds: 900 } as AuthConfig,
        revocations,
      );
      const startedAt = Date.now();
      const { refreshToken: token } = await expiring.start(userId);
      await waitFor(() => Date.now() > startedAt + 1, { what: 'the 1 ms refresh TTL to pass' });
      expect(await store.rotate(token)).toEqual({ outcome: 'invalid' });
    });

    it('lets at most one of two concurrent rotations win, and the reuse kills the winner too', async () => {
      const { refreshToken: token, sessionId } = await store.start(userId);
      const results = await Promise.all([store.rotate(token), store.rotate(token)]);
      expect(results.filter((r) => r.outcome === 'rotated').length).toBeLessThanOrEqual(1);
      expect(results.filter((r) => r.outcome === 'reuse')).toHaveLength(1);
      for (const result of results) {
        if (result.outcome === 'rotated') {
          expect(await store.rotate(result.refreshToken)).toEqual({ outcome: 'invalid' });
        }
      }
      expect(revocations.isRevoked(sessionId)).toBe(true);
      const feed = await store.revokedSince(0);
      expect(feed.revoked.map((entry) => entry.sid)).toEqual([sessionId]);
      expect(feed.revoked[0].expiresAt).toBeGreaterThan(Date.now() + 900_000);
    });

    /** A rotation that must have succeeded, narrowed for the test. */
    const rotated = (result: RotationResult) => {
      if (result.outcome !== 'rotated') {
        throw new Error(`expected a rotation, got ${JSON.stringify(result)}`);
      }
      return result;
    };

    const expectWithin = (value: number, from: number, to: number) => {
      expect(value).toBeGreaterThanOrEqual(from);
      expect(value).toBeLessThanOrEqual(to);
    };

    // The claim and the insert are raw SQL: what they store must read back through TypeORM
    // (and through the other raw reads) as the instants written, on both drivers.
    it('stores rotation timestamps that TypeORM reads back as the instants written', async () => {
      const ttl = 60_000;
      const before = Date.now();
      const { refreshToken: first, sessionId } = await store.start(userId);
      const second = rotated(await store.rotate(first)).refreshToken;
      const after = Date.now();
      const sessions = dataSource.getRepository(Session);
      const old = await sessions.findOneByOrFail({ tokenHash: hashRefreshToken(first) });
      const next = await sessions.findOneByOrFail({ tokenHash: hashRefreshToken(second) });
      expect(old.rotatedAt).toBeInstanceOf(Date);
      expectWithin(old.rotatedAt!.getTime(), before, after);
      expectWithin(old.expiresAt.getTime(), before + ttl, after + ttl);
      expectWithin(next.expiresAt.getTime(), before + ttl, after + ttl);
      expect(next).toMatchObject({ familyId: sessionId, userId, rotatedAt: null, revokedAt: null });
      expect(old).toMatchObject({ familyId: sessionId, userId, revokedAt: null });
      // The column default, as TypeORM's insert wrote it (whole seconds on SQLite).
      expectWithin(next.createdAt.getTime(), before - 1_000, after + 1_000);
      if (label === 'SQLite') {
        const stored: Array<{ expires_at: string; rotated_at: string | null }> =
          await dataSource.query('SELECT expires_at, rotated_at FROM sessions');
        const typeorm = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/;
        for (const row of stored) {
          expect(row.expires_at).toMatch(typeorm);
          expect(row.rotated_at ?? '2000-01-01 00:00:00.000').toMatch(typeorm);
        }
      }
      // A reuse revokes through TypeORM; the feed reads those rows back.
      expect(await store.rotate(first)).toEqual({ outcome: 'reuse', userId });
      const feed = await store.revokedSince(before);
      expect(feed.revoked.map((entry) => entry.sid)).toEqual([sessionId]);
    });

    // Rows written by TypeORM (every session issued before raw SQL, and any other writer)
    // are claimed and refused by the raw statements exactly as before.
    it('rotates and refuses sessions that TypeORM wrote', async () => {
      const sessions = dataSource.getRepository(Session);
      const write = async (token: string, expiresAt: Date) => {
        const id = randomUUID();
        await sessions.insert({
          id,
          familyId: id,
          userId,
          tokenHash: hashRefreshToken(token),
          expiresAt,
          rotatedAt: null,
          revokedAt: null,
        });
      };
      await write('live-token', new Date(Date.now() + 60_000));
      await write('expired-token', new Date(Date.now() - 1));
      expect(await store.rotate('live-token')).toMatchObject({ outcome: 'rotated', userId });
      expect(await store.rotate('expired-token')).toEqual({ outcome: 'invalid' });
      expect(await store.rotate('live-token')).toEqual({ outcome: 'reuse', userId });
    });

    it('lets exactly one of many concurrent rotations of one token claim it, and ends the family', async () => {
      for (let round = 0; round < 5; round += 1) {
        const { refreshToken: token, sessionId } = await store.start(userId);
        const results = await Promise.all([1, 2, 3, 4].map(() => store.rotate(token)));
        // One claim won: the family holds the presented row, rotated, and one successor.
        const rows = await dataSource.getRepository(Session).findBy({ familyId: sessionId });
        expect(rows).toHaveLength(2);
        expect(rows.filter((row) => row.rotatedAt !== null)).toHaveLength(1);
        const outcomes = results.map((result) => result.outcome);
        expect(outcomes.filter((outcome) => outcome === 'rotated').length).toBeLessThanOrEqual(1);
        expect(outcomes.filter((outcome) => outcome === 'reuse').length).toBeGreaterThanOrEqual(1);
        for (const result of results) {
          if (result.outcome === 'rotated') {
            expect(await store.rotate(result.refreshToken)).toEqual({ outcome: 'invalid' });
          }
        }
        expect(revocations.isRevoked(sessionId)).toBe(true);
      }
    });

    // The reason for rotation's last round trip: a reuse that revoked the family just before
    // the new row was inserted could not revoke that row.
    it('refuses and revokes a new token whose family was revoked while it was being inserted', async () => {
      const { refreshToken: token, sessionId } = await store.start(userId);
      const sessions = dataSource.getRepository(Session);
      const query = sessions.query.bind(sessions);
      const spy = jest.spyOn(sessions, 'query').mockImplementation(async (sql, parameters) => {
        if (sql.startsWith('INSERT INTO sessions')) {
          // The concurrent reuse's UPDATE, committed before the insert: it sees only the
          // presented row.
          await dataSource
            .getRepository(Session)
            .update({ familyId: sessionId }, { revokedAt: new Date() });
        }
        return query(sql, parameters);
      });
      try {
        expect(await store.rotate(token)).toEqual({ outcome: 'invalid' });
      } finally {
        spy.mockRestore();
      }
      const rows = await sessions.findBy({ familyId: sessionId });
      expect(rows).toHaveLength(2);
      expect(rows.filter((row) => row.revokedAt === null)).toEqual([]);
      expect(revocations.isRevoked(sessionId)).toBe(true);
    });

    it('revokes every session of a user for the operator', async () => {
      const a = await store.start(userId);
      const b = await store.start(userId);
      expect(await store.revokeAllOf(userId)).toBe(2);
      expect(await store.rotate(a.refreshToken)).toEqual({ outcome: 'invalid' });
      expect(await store.rotate(b.refreshToken)).toEqual({ outcome: 'invalid' });
      expect(revocations.isRevoked(a.sessionId) && revocations.isRevoked(b.sessionId)).toBe(true);
      const since = Date.now() + 1_000;
      expect((await store.revokedSince(since)).revoked).toEqual([]);
    });

    it('revokes on logout only for the owner', async () => {
      const { refreshToken: token } = await store.start(userId);
      expect(await store.revokeOwned(token, randomUUID())).toBe(false);
      expect(await store.revokeOwned(token, userId)).toBe(true);
      expect(await store.rotate(token)).toEqual({ outcome: 'invalid' });
    });
  });
});
