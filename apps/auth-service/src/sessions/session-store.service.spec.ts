import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { waitFor } from '../../../../test/support/wait';
import { type AuthConfig } from '../config/auth-config';
import { Credential } from '../credentials/credential.entity';
import { InitialSchema1764230400000 } from '../migrations/1764230400000-initial-schema';
import { Session } from './session.entity';
import { SessionStore } from './session-store.service';

describe(SessionStore.name, () => {
  let dataSource: DataSource;
  let store: SessionStore;
  let userId: string;

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
    const config = { refreshTokenTtlMs: 60_000 } as AuthConfig;
    store = new SessionStore(dataSource.getRepository(Session), config);
  });

  afterEach(async () => {
    await dataSource.destroy();
  });

  it('rotates a refresh token into a new one that works once', async () => {
    const first = await store.start(userId);
    const rotated = await store.rotate(first);
    expect(rotated).toMatchObject({ outcome: 'rotated', userId });
    const second = (rotated as { refreshToken: string }).refreshToken;
    expect(second).not.toBe(first);
    expect(await store.rotate(second)).toMatchObject({ outcome: 'rotated' });
  });

  it('treats a rotated token as reuse and revokes the whole family', async () => {
    const first = await store.start(userId);
    const rotated = await store.rotate(first);
    const current = (rotated as { refreshToken: string }).refreshToken;

    expect(await store.rotate(first)).toEqual({ outcome: 'reuse', userId });
    // The legitimate holder's newest token is revoked too.
    expect(await store.rotate(current)).toEqual({ outcome: 'invalid' });
  });

  it('leaves other families alone when one is revoked', async () => {
    const a = await store.start(userId);
    const b = await store.start(userId);
    await store.rotate(a);
    await store.rotate(a);
    expect(await store.rotate(b)).toMatchObject({ outcome: 'rotated' });
  });

  it('refuses unknown and expired tokens', async () => {
    expect(await store.rotate('not-a-token-we-issued')).toEqual({ outcome: 'invalid' });
    const expiring = new SessionStore(dataSource.getRepository(Session), {
      refreshTokenTtlMs: 1,
    } as AuthConfig);
    const startedAt = Date.now();
    const token = await expiring.start(userId);
    await waitFor(() => Date.now() > startedAt + 1, { what: 'the 1 ms refresh TTL to pass' });
    expect(await store.rotate(token)).toEqual({ outcome: 'invalid' });
  });

  it('lets only one of two concurrent rotations of a token win', async () => {
    const token = await store.start(userId);
    const results = await Promise.all([store.rotate(token), store.rotate(token)]);
    expect(results.filter((r) => r.outcome === 'rotated')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'reuse')).toHaveLength(1);
  });

  it('revokes on logout only for the owner', async () => {
    const token = await store.start(userId);
    expect(await store.revokeOwned(token, randomUUID())).toBe(false);
    expect(await store.revokeOwned(token, userId)).toBe(true);
    expect(await store.rotate(token)).toEqual({ outcome: 'invalid' });
  });
});
