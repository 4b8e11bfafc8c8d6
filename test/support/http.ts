import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { calculateJwkThumbprint, exportJWK, SignJWT } from 'jose';
import request from 'supertest';
import { uniqueEmail } from './identity';

/** Shape of the contract's error body, for `toMatchObject`. */
export function errorBody(statusCode: number): Record<string, unknown> {
  return {
    statusCode,
    error: expect.any(String),
    message: expect.any(String),
    requestId: expect.any(String),
    traceId: expect.any(String),
  };
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
  displayName: string;
  accessToken: string;
  refreshToken: string;
}

export { uniqueEmail } from './identity';

/** Registers and logs in a new user through the gateway. */
export async function registerAndLogin(
  gatewayUrl: string,
  email = uniqueEmail(),
  displayName = 'Test User',
): Promise<TestUser> {
  const password = 'correct horse battery staple';
  const registered = await request(gatewayUrl)
    .post('/api/v1/auth/register')
    .send({ email, password, displayName })
    .expect(201);
  const login = await request(gatewayUrl)
    .post('/api/v1/auth/login')
    .send({ email, password })
    .expect(200);
  return {
    id: registered.body.id,
    email,
    password,
    displayName,
    accessToken: login.body.accessToken,
    refreshToken: login.body.refreshToken,
  };
}

/**
 * Signs an access token with auth-service's development key (generated into the
 * platform's data dir), with the same header and claims auth-service uses; `claims`
 * override them (an `exp` in the past makes an expired token).
 */
export async function signWithDevKey(
  dataDir: string,
  claims: Record<string, unknown> & { sub: string },
): Promise<string> {
  const key = createPrivateKey(readFileSync(join(dataDir, 'jwt-signing-key.pem'), 'utf8'));
  const { d: _private, ...publicJwk } = await exportJWK(key);
  const kid = await calculateJwkThumbprint(publicJwk);
  const now = Math.floor(Date.now() / 1000);
  const { sub, ...rest } = claims;
  return new SignJWT({ email: 'forged@example.com', roles: [], iat: now, exp: now + 300, ...rest })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setSubject(sub)
    .setIssuer('keel-auth')
    .setAudience('keel')
    .sign(key);
}

/** The same token with its payload changed and the original signature kept. */
export function tamperPayload(token: string, change: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  const forged = Buffer.from(JSON.stringify({ ...claims, ...change })).toString('base64url');
  return `${header}.${forged}.${signature}`;
}

/** An unsigned (`alg: none`) token carrying the claims of `token`. */
export function unsignedCopy(token: string): string {
  const payload = token.split('.')[1];
  const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  return `${header}.${payload}.`;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The bytes as sent on the wire. */
  raw: Buffer;
  /** The body after undoing `content-encoding` (br or gzip). */
  text: string;
}

/** A plain GET that does not decode anything, to see exactly what the server sent. */
export function rawGet(url: string, headers: Record<string, string>): Promise<RawResponse> {
  return rawRequest(url, { headers });
}

/** {@link rawGet} for any method, with an optional body. */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const encoding = res.headers['content-encoding'];
        const decoded =
          encoding === 'br'
            ? brotliDecompressSync(raw)
            : encoding === 'gzip'
              ? gunzipSync(raw)
              : raw;
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          raw,
          text: decoded.toString('utf8'),
        });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
