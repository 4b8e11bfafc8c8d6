import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { waitFor } from '../../../../test/support/wait';
import { type AuthConfig } from '../config/auth-config';
import { Credential } from '../credentials/credential.entity';
import { InitialSchema1764230400000 } from '../migrations/1764230400000-initial-schema';
import { RevocationList } from '@keel/security';
import { Session } from './session.entity';
import { SessionStore } from './session-store.service';

describe(SessionStore.name, () => {
  let dataSource: DataSource;
  let store: SessionStore;
  let userId: string;
  let revocations: RevocationList;

  beforeEach(async () => {
    dataSource = new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      entities: [Credential, Session],
      migrations: [InitialSchema1764230400000],
      migrationsRun: true,
    });
    await dataSource.initialize();
    userId = randomUUID();
    await dataSource
      .getRepository(Credential)
      .insert({ id: userId, email: 'a@b.io', passwordHash: 'x', roles: 'user' });
    const config = { refreshTokenTtlMs: 60_000, accessTokenTtlSeconds: 900 } as AuthConfig;
    revocations = new RevocationList(undefined);
    store = new SessionStore(dataSource.getRepository(Session), config, revocations);
  });

  afterEach(async () => {
    await dataSource.destroy();
  });

  it('rotates a refresh token into a new one that works once', async () => {
    const { refreshToken: first } = await store.start(userId);
    const rotated = await store.rotate(first);
    expect(rotated).toMatchObject({ outcome: 'rotated', userId });
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
