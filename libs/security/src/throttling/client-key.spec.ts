import { createHash } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { AccessTokenVerifier } from '../auth/access-token.verifier';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from '../auth/auth.constants';
import { clientTracker, ipTracker, rateLimitKey } from './client-key';
import { type RateLimitedRequest } from './throttling-options.interface';

function request(ip: string, authorization?: string): RateLimitedRequest {
  return { method: 'GET', path: '/api/v1/users/me', ip, headers: { authorization } };
}

async function token(key: KeyLike, sub: string, alg = 'ES256'): Promise<string> {
  return new SignJWT({ email: `${sub}@example.com`, roles: [] })
    .setProtectedHeader({ alg, kid: 'k1' })
    .setSubject(sub)
    .setIssuer(ACCESS_TOKEN_ISSUER)
    .setAudience(ACCESS_TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key);
}

describe(clientTracker.name, () => {
  let signing: KeyLike;
  let verifier: AccessTokenVerifier;
  let otherKey: KeyLike;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    signing = pair.privateKey;
    verifier = new AccessTokenVerifier({ getKey: () => Promise.resolve(pair.publicKey) });
    otherKey = (await generateKeyPair('ES256')).privateKey;
    await exportJWK(pair.publicKey);
  });

  it('tells authenticated callers apart by user id, whatever their IP', async () => {
    const bearer = `Bearer ${await token(signing, 'user-1')}`;
    expect(await clientTracker(request('10.0.0.1', bearer), verifier)).toBe('user:user-1');
    expect(await clientTracker(request('10.0.0.2', bearer), verifier)).toBe('user:user-1');
  });

  it('falls back to the IP for a token signed with another key', async () => {
    const forged = `Bearer ${await token(otherKey, 'victim')}`;
    expect(await clientTracker(request('10.0.0.3', forged), verifier)).toBe('ip:10.0.0.3');
  });

  it('falls back to the IP for an unsigned (alg none) token', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(
      JSON.stringify({
        sub: 'admin',
        email: 'a@b.c',
        iss: ACCESS_TOKEN_ISSUER,
        aud: ACCESS_TOKEN_AUDIENCE,
      }),
    ).toString('base64url');
    const none = `Bearer ${header}.${payload}.`;
    expect(await clientTracker(request('10.0.0.4', none), verifier)).toBe('ip:10.0.0.4');
  });

  it('uses the user a guard already identified', async () => {
    const req = { ...request('10.0.0.5'), user: { id: 'known' } };
    expect(await clientTracker(req, undefined)).toBe('user:known');
  });

  it('uses the IP when no verifier is available', async () => {
    const bearer = `Bearer ${await token(signing, 'user-1')}`;
    expect(await clientTracker(request('10.0.0.6', bearer), undefined)).toBe('ip:10.0.0.6');
  });
});

describe(ipTracker.name, () => {
  it('groups an IPv6 client by its /64', () => {
    expect(ipTracker(request('2001:db8:1:2:aaaa::1'))).toBe(
      ipTracker(request('2001:db8:1:2:bbbb::2')),
    );
    expect(ipTracker(request('2001:db8:1:2::1'))).not.toBe(ipTracker(request('2001:db8:1:3::1')));
  });

  it('keeps IPv4 addresses apart', () => {
    expect(ipTracker(request('192.0.2.1'))).not.toBe(ipTracker(request('192.0.2.2')));
  });

  it('names requests without an address', () => {
    expect(ipTracker({ method: 'GET', path: '/', headers: {} })).toBe('ip:unknown');
  });
});

describe(rateLimitKey.name, () => {
  it('is one key per limiter and client, not per route', () => {
    const key = rateLimitKey('keel:rl:', 'global', 'ip:192.0.2.1');
    expect(key).toBe(rateLimitKey('keel:rl:', 'global', 'ip:192.0.2.1'));
    expect(key).toMatch(/^keel:rl:global:[A-Za-z0-9_-]{43}$/);
    expect(key).not.toBe(rateLimitKey('keel:rl:', 'auth', 'ip:192.0.2.1'));
    expect(key).not.toBe(rateLimitKey('keel:rl:', 'global', 'ip:192.0.2.2'));
  });

  it('gives the same keys however many clients came in between', () => {
    const first = rateLimitKey('keel:rl:', 'global', 'user:first');
    const others = new Set<string>();
    for (let i = 0; i < 25_000; i += 1) {
      others.add(rateLimitKey('keel:rl:', 'global', `user:${i}`));
    }
    expect(others.size).toBe(25_000);
    expect(rateLimitKey('keel:rl:', 'global', 'user:first')).toBe(first);
    expect(rateLimitKey('keel:rl:', 'global', 'user:7')).toBe(
      `keel:rl:global:${createHash('sha256').update('user:7').digest('base64url')}`,
    );
  });

  it('never holds the tracker (e-mail addresses) in clear', () => {
    const key = rateLimitKey('p:', 'login-account', 'login-account:alice@example.com');
    expect(key).not.toContain('alice');
  });
});
