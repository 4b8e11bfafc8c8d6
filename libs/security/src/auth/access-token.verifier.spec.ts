import { decodeJwt, generateKeyPair, type KeyLike, SignJWT } from 'jose';
import { waitFor } from '../../../../test/support/wait';
import { RevocationList } from '../sessions/revocation-list';
import { AccessTokenVerifier } from './access-token.verifier';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from './auth.constants';

async function sign(
  key: KeyLike,
  expiresInSeconds: number,
  sub = 'user-1',
  sid?: string,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ email: `${sub}@example.com`, roles: ['user'], ...(sid ? { sid } : {}) })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setSubject(sub)
    .setIssuer(ACCESS_TOKEN_ISSUER)
    .setAudience(ACCESS_TOKEN_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + expiresInSeconds)
    .sign(key);
}

describe(AccessTokenVerifier.name, () => {
  let privateKey: KeyLike;
  let publicKey: KeyLike;
  let keyLookups: number;
  const verifier = (options?: ConstructorParameters<typeof AccessTokenVerifier>[1]) =>
    new AccessTokenVerifier(
      {
        getKey: async () => {
          keyLookups += 1;
          return publicKey;
        },
      },
      options,
    );

  beforeAll(async () => {
    ({ privateKey, publicKey } = await generateKeyPair('ES256'));
  });

  beforeEach(() => {
    keyLookups = 0;
  });

  it('verifies a token once and reuses the result', async () => {
    const v = verifier();
    const token = await sign(privateKey, 60);
    const expected = { id: 'user-1', email: 'user-1@example.com', roles: ['user'] };
    expect(await v.verify(token)).toEqual(expected);
    expect(await v.verify(token)).toEqual(expected);
    expect(keyLookups).toBe(1);
  });

  it('never serves a cached token past its expiry', async () => {
    const v = verifier();
    const token = await sign(privateKey, 1);
    expect(await v.verify(token)).toBeDefined();
    const exp = decodeJwt(token).exp!;
    await waitFor(() => Date.now() / 1000 >= exp, { what: `the token's exp ${exp} to pass` });
    expect(await v.verify(token)).toBeUndefined();
  });

  it('does not cache failures', async () => {
    const v = verifier();
    const { privateKey: otherKey } = await generateKeyPair('ES256');
    const forged = await sign(otherKey, 60);
    expect(await v.verify(forged)).toBeUndefined();
    expect(await v.verify(forged)).toBeUndefined();
    expect(keyLookups).toBe(2);
  });

  it('forgets the oldest token when full, and can be turned off', async () => {
    const v = verifier({ maxEntries: 2 });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((sub) => sign(privateKey, 60, sub)));
    await v.verify(a);
    await v.verify(b);
    await v.verify(c);
    keyLookups = 0;
    await v.verify(c);
    await v.verify(b);
    expect(keyLookups).toBe(0);
    await v.verify(a);
    expect(keyLookups).toBe(1);

    const off = verifier({ maxEntries: 0 });
    keyLookups = 0;
    await off.verify(a);
    await off.verify(a);
    expect(keyLookups).toBe(2);
  });

  it('refuses a token of a revoked session even after caching it', async () => {
    const revocations = new RevocationList(undefined);
    const v = verifier({ revocations });
    const token = await sign(privateKey, 60, 'user-1', 'session-1');
    const other = await sign(privateKey, 60, 'user-1', 'session-2');
    expect(await v.verify(token)).toMatchObject({ id: 'user-1', sessionId: 'session-1' });
    revocations.add('session-1', Date.now() + 60_000);
    expect(await v.verify(token)).toBeUndefined();
    expect(await v.verify(other)).toMatchObject({ sessionId: 'session-2' });
  });
});
