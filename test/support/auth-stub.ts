import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from '@keel/security';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';

/**
 * What a service needs of auth-service, over real HTTP: its JWKS
 * (`/.well-known/jwks.json`) and an empty revocation feed (`/internal/revocations`). For
 * suites that run one service in-process (point its `AUTH_SERVICE_URL` at `url`) and sign
 * their own access tokens with `token()`.
 */
export interface AuthStub {
  url: string;
  /** An ES256 access token for `userId`, as auth-service issues it (15 min). */
  token(userId: string, options?: { roles?: string[]; email?: string }): Promise<string>;
  stop(): Promise<void>;
}

export async function startAuthStub(): Promise<AuthStub> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  const server: Server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/jwks.json') {
      res.end(JSON.stringify({ keys: [{ ...jwk, kid, alg: 'ES256', use: 'sig' }] }));
    } else if (req.url?.startsWith('/internal/revocations')) {
      res.end(JSON.stringify({ now: Date.now(), revoked: [] }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token(userId, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        email: options.email ?? `${userId}@example.com`,
        roles: options.roles ?? ['user'],
      })
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
        .setSubject(userId)
        .setIssuer(ACCESS_TOKEN_ISSUER)
        .setAudience(ACCESS_TOKEN_AUDIENCE)
        .setIssuedAt(now - 5)
        .setExpirationTime(now + 900)
        .setJti(randomUUID())
        .sign(privateKey);
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
