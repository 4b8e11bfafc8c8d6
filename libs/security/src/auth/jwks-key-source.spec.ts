import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, jwtVerify, type KeyLike, SignJWT } from 'jose';
import { JwksKeySource } from './jwks-key-source';

describe(JwksKeySource.name, () => {
  let server: Server;
  let url: string;
  let fetches: number;
  let failing: boolean;
  let jwks: { keys: object[] };
  let privateKey: KeyLike;

  const sign = (kid: string, key = privateKey) =>
    new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid }).setExpirationTime('1m').sign(key);

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }] };
    server = createServer((_req, res) => {
      fetches += 1;
      if (failing) {
        res.statusCode = 429;
        res.end('{}');
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    fetches = 0;
    failing = false;
  });

  it('keeps the last good keys when a refetch fails, and backs off', async () => {
    const source = new JwksKeySource(url, { maxAgeMs: 0, backoffMs: 200, cooldownMs: 0 });
    const token = await sign('k1');
    await expect(jwtVerify(token, source.getKey)).resolves.toBeDefined();
    expect(fetches).toBe(1);
    failing = true;
    // Stale keys, refetch refused: the old keys still verify.
    for (let i = 0; i < 20; i += 1) {
      await expect(jwtVerify(token, source.getKey)).resolves.toBeDefined();
    }
    // One failed attempt, then nothing until the back-off has passed.
    expect(fetches).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 250));
    await jwtVerify(token, source.getKey);
    expect(fetches).toBe(3);
    // The second failure doubles the wait.
    await new Promise((resolve) => setTimeout(resolve, 250));
    await jwtVerify(token, source.getKey);
    expect(fetches).toBe(3);
  });

  it('refetches on an unknown kid at most once per cooldown', async () => {
    const source = new JwksKeySource(url, { cooldownMs: 60_000 });
    await jwtVerify(await sign('k1'), source.getKey);
    const { privateKey: other } = await generateKeyPair('ES256');
    const forged = await sign('unknown', other);
    for (let i = 0; i < 10; i += 1) {
      await expect(jwtVerify(forged, source.getKey)).rejects.toThrow();
    }
    expect(fetches).toBe(1);
  });

  it('shares one fetch between concurrent first verifications', async () => {
    const source = new JwksKeySource(url);
    const token = await sign('k1');
    await Promise.all(Array.from({ length: 10 }, () => jwtVerify(token, source.getKey)));
    expect(fetches).toBe(1);
  });
});
