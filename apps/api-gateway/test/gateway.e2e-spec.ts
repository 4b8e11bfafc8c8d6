import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { exportJWK, generateKeyPair, type KeyLike, SignJWT } from 'jose';
import request from 'supertest';
import { DEV_INTERNAL_TOKEN } from '@keel/platform';
import { parseExposition, sampleValue } from '../../../test/support/exposition';
import { rawRequest } from '../../../test/support/http';
import { builtEntry, type Platform, startPlatform } from '../../../test/support/platform';
import { type ClosedPort, holdClosedPort } from '../../../test/support/ports';
import { waitFor } from '../../../test/support/wait';

// The built gateway in front of a recording upstream that also serves the JWKS, so what the
// gateway sends and relays can be seen byte for byte. Needs `npm run build` first.

jest.setTimeout(60_000);

interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An HTTP upstream that records every request and answers what the test asks for. */
async function startRecordingUpstream(jwks: object): Promise<{
  server: Server;
  url: string;
  recorded: Recorded[];
  /** Request ids of held requests whose connection the gateway closed. */
  closedWhileHeld: Set<string>;
}> {
  const recorded: Recorded[] = [];
  const closedWhileHeld = new Set<string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/.well-known/jwks.json') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(jwks));
        return;
      }
      recorded.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      if (req.url?.includes('hold=1')) {
        // Never answers; notes when the gateway gives up on the connection.
        res.on('close', () => closedWhileHeld.add(String(req.headers['x-request-id'])));
        return;
      }
      const status = Number(/status=(\d{3})/.exec(req.url ?? '')?.[1] ?? 200);
      const answer = JSON.stringify({ from: 'upstream', url: req.url });
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(answer),
        'x-upstream-custom': 'kept',
        'cache-control': 'no-store',
        // The gateway answers these with its own values, never the upstream's.
        'x-frame-options': 'SAMEORIGIN',
        'content-security-policy': "default-src 'self' upstream.example",
        'x-ratelimit-limit': '7',
        'x-powered-by': 'Express',
        'x-request-id': 'upstream-made-this-up',
        'keep-alive': 'timeout=77',
      });
      res.end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, url: `http://127.0.0.1:${port}`, recorded, closedWhileHeld };
}

describe('api-gateway in front of a recording upstream', () => {
  let platform: Platform;
  let upstream: Awaited<ReturnType<typeof startRecordingUpstream>>;
  let privateKey: KeyLike;
  let token: string;

  const sign = (roles: string[]): Promise<string> =>
    new SignJWT({ email: 'rec@example.com', roles })
      .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
      .setSubject(randomUUID())
      .setIssuer('keel-auth')
      .setAudience('keel')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);

  /** The one request the upstream received carrying `requestId`. */
  const received = (requestId: string): Recorded[] =>
    upstream.recorded.filter((r) => r.headers['x-request-id'] === requestId);

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'ES256', use: 'sig' };
    upstream = await startRecordingUpstream({ keys: [jwk] });
    platform = await startPlatform({
      apps: ['api-gateway'],
      appEnv: {
        'api-gateway': {
          AUTH_SERVICE_URL: upstream.url,
          // A path prefix on the upstream URL is kept in front of every forwarded path.
          USERS_SERVICE_URL: `${upstream.url}/prefix/`,
        },
      },
    });
    token = await sign([]);
  });

  afterAll(async () => {
    await platform?.stop();
    await new Promise((resolve) => upstream?.server.close(resolve));
  });

  it('forwards method, mapped path, query and JSON body, with end-to-end headers only', async () => {
    const requestId = `rid-${randomUUID()}`;
    const res = await request(platform.gatewayUrl)
      .post('/api/v1/auth/login?lang=en&x=1')
      .set('x-request-id', requestId)
      .set('x-custom', 'passes')
      .set('x-chaos', 'auth-service=latency:1')
      .set('x-internal-token', 'a client guessing the service secret')
      .set('x-forwarded-for', '6.6.6.6')
      .set('x-forwarded-host', 'evil.example')
      .set('accept-encoding', 'gzip')
      .set('connection', 'keep-alive, x-hop-only')
      .set('x-hop-only', 'dropped')
      .set('te', 'trailers')
      .send({ email: 'rec@example.com', password: 'whatever you like' })
      .expect(200);
    expect(res.body).toEqual({ from: 'upstream', url: '/auth/login?lang=en&x=1' });

    const [seen] = received(requestId);
    expect(seen).toMatchObject({ method: 'POST', url: '/auth/login?lang=en&x=1' });
    expect(JSON.parse(seen.body)).toEqual({
      email: 'rec@example.com',
      password: 'whatever you like',
    });
    expect(seen.headers).toMatchObject({
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(seen.body)),
      'x-custom': 'passes',
      'x-chaos': 'auth-service=latency:1',
      'x-request-id': requestId,
      // TRUST_PROXY is unset: the client's own X-Forwarded-* are not believed.
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': `127.0.0.1:${platform.apps['api-gateway'].port}`,
      host: upstream.url.replace('http://', ''),
    });
    for (const name of ['x-hop-only', 'te', 'accept-encoding']) {
      expect(seen.headers[name]).toBeUndefined();
    }
    // The client's guess never passes; the gateway vouches for the client's address itself.
    expect(seen.headers['x-internal-token']).not.toBe('a client guessing the service secret');
    expect(seen.headers['x-internal-token']).toHaveLength(DEV_INTERNAL_TOKEN.length);
    expect(seen.headers['x-keel-client-ip']).toBe('127.0.0.1');
  });

  it("relays the upstream's status, body and own headers, never its security or framing headers", async () => {
    const requestId = `rid-${randomUUID()}`;
    const res = await request(platform.gatewayUrl)
      .get(`/api/v1/users/${randomUUID()}?status=404`)
      .set('authorization', `Bearer ${token}`)
      .set('x-request-id', requestId)
      .expect(404);
    expect(res.body.from).toBe('upstream');
    expect(res.headers['x-upstream-custom']).toBe('kept');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-request-id']).toBe(requestId);
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['content-security-policy']).not.toContain('upstream.example');
    expect(res.headers['x-ratelimit-limit']).not.toBe('7');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['keep-alive']).not.toBe('timeout=77');
  });

  it('keeps the upstream URL prefix and refuses ids that are not UUIDs at the edge', async () => {
    const requestId = `rid-${randomUUID()}`;
    const id = randomUUID().toUpperCase();
    await request(platform.gatewayUrl)
      .get(`/api/v1/users/${id}`)
      .set('authorization', `Bearer ${token}`)
      .set('x-request-id', requestId)
      .expect(200);
    expect(received(requestId)[0].url).toBe(`/prefix/users/${id}`);
    // `m%65` would otherwise become `/users/me` upstream, `a%2Fb..c` a path.
    for (const bad of ['a%2Fb..c', 'm%65']) {
      const refused = `rid-${randomUUID()}`;
      await request(platform.gatewayUrl)
        .get(`/api/v1/users/${bad}`)
        .set('authorization', `Bearer ${token}`)
        .set('x-request-id', refused)
        .expect(400);
      expect(received(refused)).toEqual([]);
    }
  });

  it('passes the bearer token on after checking it at the edge', async () => {
    const requestId = `rid-${randomUUID()}`;
    await request(platform.gatewayUrl)
      .get('/api/v1/users/me')
      .set('authorization', `Bearer ${token}`)
      .set('x-request-id', requestId)
      .expect(200);
    expect(received(requestId)[0]).toMatchObject({
      url: '/prefix/users/me',
      headers: { authorization: `Bearer ${token}` },
    });
  });

  it('answers HEAD with the headers and length of the GET, and no body', async () => {
    const get = await request(platform.gatewayUrl)
      .get('/api/v1/users/me')
      .set('authorization', `Bearer ${token}`)
      .expect(200);
    const head = await request(platform.gatewayUrl)
      .head('/api/v1/users/me')
      .set('authorization', `Bearer ${token}`)
      .expect(200);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(get.text)));
    expect(head.headers['x-upstream-custom']).toBe('kept');
    expect(head.text).toBeUndefined();
  });

  it('cancels the upstream call when the client hangs up', async () => {
    const requestId = `rid-${randomUUID()}`;
    await expect(
      request(platform.gatewayUrl)
        .get('/api/v1/users?hold=1')
        .set('authorization', `Bearer ${await sign(['admin'])}`)
        .set('x-request-id', requestId)
        .timeout(300),
    ).rejects.toThrow(/timeout/i);
    // Well before the gateway's own 10 s UPSTREAM_TIMEOUT: the hang-up itself closed it.
    await waitFor(() => upstream.closedWhileHeld.has(requestId), {
      what: `the upstream to see request ${requestId} closed while held`,
      timeout: 3000,
    });
    expect(received(requestId)).toHaveLength(1);
  });

  it('answers 401 and 403 at the edge, without calling the upstream', async () => {
    const noToken = `rid-${randomUUID()}`;
    await request(platform.gatewayUrl)
      .get('/api/v1/users/me')
      .set('x-request-id', noToken)
      .expect(401);
    const notAdmin = `rid-${randomUUID()}`;
    await request(platform.gatewayUrl)
      .get('/api/v1/users')
      .set('authorization', `Bearer ${token}`)
      .set('x-request-id', notAdmin)
      .expect(403);
    const admin = `rid-${randomUUID()}`;
    await request(platform.gatewayUrl)
      .get('/api/v1/users?limit=5')
      .set('authorization', `Bearer ${await sign(['admin'])}`)
      .set('x-request-id', admin)
      .expect(200);
    expect(received(noToken)).toEqual([]);
    expect(received(notAdmin)).toEqual([]);
    expect(received(admin)[0].url).toBe('/prefix/users?limit=5');
  });

  it('forwards a request without a body as one without a body', async () => {
    const requestId = `rid-${randomUUID()}`;
    await request(platform.gatewayUrl)
      .post('/api/v1/auth/logout')
      .set('authorization', `Bearer ${token}`)
      .set('x-request-id', requestId)
      .expect(200);
    const [seen] = received(requestId);
    expect(seen.body).toBe('');
    expect(seen.headers['content-type']).toBeUndefined();
  });
});

describe('api-gateway with an upstream that refuses connections', () => {
  let platform: Platform;
  let closed: ClosedPort;

  beforeAll(async () => {
    closed = await holdClosedPort();
    platform = await startPlatform({
      apps: ['api-gateway'],
      appEnv: {
        'api-gateway': { AUTH_SERVICE_URL: closed.url(), USERS_SERVICE_URL: closed.url() },
      },
    });
  });

  afterAll(async () => {
    await platform?.stop();
    await closed?.release();
  });

  it('answers 502 with the error body, and the gateway keeps running', async () => {
    for (let i = 0; i < 2; i += 1) {
      const res = await request(platform.gatewayUrl)
        .post('/api/v1/auth/register')
        .send({ email: 'x@example.com', password: 'long enough pw', displayName: 'X' })
        .expect(502);
      expect(res.body).toEqual({
        statusCode: 502,
        error: 'Bad Gateway',
        message: expect.any(String),
        requestId: res.headers['x-request-id'],
        traceId: expect.any(String),
      });
      expect(res.body.message).not.toContain('127.0.0.1');
    }
  });
});

describe('api-gateway in front of an upstream that answers slowly, in pieces or not at all', () => {
  let platform: Platform;
  let server: Server;
  const large = JSON.stringify({ items: Array.from({ length: 400 }, (_, i) => `item ${i}`) });

  beforeAll(async () => {
    server = createServer((req, res) => {
      const mode = /mode=([\w-]+)/.exec(req.url ?? '')?.[1];
      req.resume();
      req.on('end', () => {
        if (req.url === '/.well-known/jwks.json') {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ keys: [] }));
        } else if (mode === 'no-answer') {
          // Neither headers nor body.
        } else if (mode === 'stalled-body') {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
          res.write('{"partial":');
        } else {
          // The whole answer, in three writes some milliseconds apart.
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
          const third = Math.ceil(large.length / 3);
          res.write(large.slice(0, third));
          setTimeout(() => res.write(large.slice(third, 2 * third)), 20);
          setTimeout(() => res.end(large.slice(2 * third)), 40);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    platform = await startPlatform({
      apps: ['api-gateway'],
      appEnv: {
        'api-gateway': { AUTH_SERVICE_URL: url, USERS_SERVICE_URL: url, UPSTREAM_TIMEOUT: '400ms' },
      },
    });
  });

  afterAll(async () => {
    await platform?.stop();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  const login = (mode: string): request.Test =>
    request(platform.gatewayUrl)
      .post(`/api/v1/auth/login?mode=${mode}`)
      .send({ email: 'slow@example.com', password: 'whatever you like' });

  it.each(['no-answer', 'stalled-body'])(
    'answers 504 with the error body when the upstream gives %s within its timeout',
    async (mode) => {
      const started = Date.now();
      const res = await login(mode).expect(504);
      expect(Date.now() - started).toBeGreaterThanOrEqual(350);
      expect(res.body).toEqual({
        statusCode: 504,
        error: 'Gateway Timeout',
        message: expect.any(String),
        requestId: res.headers['x-request-id'],
        traceId: expect.any(String),
      });
    },
  );

  it('relays an answer that arrives in pieces whole, with its exact length', async () => {
    // supertest asks for gzip by default.
    const res = await login('pieces').set('accept-encoding', 'identity').expect(200);
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(large)));
    expect(res.text).toBe(large);
  });

  it('compresses it as a whole when asked, with the length of what is sent', async () => {
    // A raw client: supertest would inflate the body before the test saw its length.
    const res = await rawRequest(`${platform.gatewayUrl}/api/v1/auth/login?mode=pieces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip' },
      body: JSON.stringify({ email: 'slow@example.com', password: 'whatever you like' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers.vary).toMatch(/accept-encoding/i);
    const sent = res.raw;
    expect(res.headers['content-length']).toBe(String(sent.length));
    expect(gunzipSync(sent).toString('utf8')).toBe(large);
  });

  it('shows what it compressed and its upstream connections in its metrics', async () => {
    const text = (await request(platform.gatewayUrl).get('/metrics').expect(200)).text;
    const families = parseExposition(text, 'prometheus');
    // The test above is the only compressed answer of this gateway.
    expect(sampleValue(families, 'gateway_response_compression_total', { encoding: 'gzip' })).toBe(
      1,
    );
    const bytes = (stage: string): number =>
      sampleValue(families, 'gateway_response_compression_bytes_total', { stage });
    expect(bytes('uncompressed')).toBe(Buffer.byteLength(large));
    expect(bytes('compressed')).toBeGreaterThan(0);
    expect(bytes('compressed')).toBeLessThan(bytes('uncompressed'));
    // Keep-alive: the connections of the answered calls stay open and idle; the two calls
    // left without an answer closed theirs.
    const connections = (state: string): number =>
      sampleValue(families, 'gateway_upstream_connections', { upstream: 'auth-service', state });
    expect(connections('idle')).toBeGreaterThanOrEqual(1);
    expect(connections('busy')).toBe(0);
    expect(connections('waiting')).toBe(0);
  });
});

/** `services.json` plus `extra` services, written to a temporary file for `KEEL_SERVICES_FILE`. */
function writeRegistry(dir: string, extra: object[]): string {
  const registry = JSON.parse(readFileSync(join(__dirname, '../../../services.json'), 'utf8')) as {
    services: object[];
  };
  registry.services.push(...extra);
  const file = join(dir, `services-${randomUUID()}.json`);
  writeFileSync(file, JSON.stringify(registry));
  return file;
}

describe('api-gateway routing from a registry file (KEEL_SERVICES_FILE)', () => {
  let platform: Platform;
  let upstream: Awaited<ReturnType<typeof startRecordingUpstream>>;
  let privateKey: KeyLike;
  let dir: string;

  const received = (requestId: string): Recorded[] =>
    upstream.recorded.filter((r) => r.headers['x-request-id'] === requestId);

  const orders = {
    name: 'orders-service',
    kind: 'service',
    port: 3999,
    database: false,
    calls: [],
    routes: [
      { method: 'GET', path: '/orders/:id', auth: 'bearer', params: { id: 'int' } },
      { method: 'POST', path: '/orders/:id/items/*', auth: 'bearer', roles: ['buyer'] },
      { method: 'GET', path: '/catalog', auth: 'public', limits: ['auth'] },
    ],
  };

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'ES256', use: 'sig' };
    upstream = await startRecordingUpstream({ keys: [jwk] });
    dir = mkdtempSync(join(tmpdir(), 'keel-registry-'));
    platform = await startPlatform({
      apps: ['api-gateway'],
      appEnv: {
        'api-gateway': {
          KEEL_SERVICES_FILE: writeRegistry(dir, [orders]),
          AUTH_SERVICE_URL: upstream.url,
          USERS_SERVICE_URL: upstream.url,
          ORDERS_SERVICE_URL: `${upstream.url}/orders-api`,
          RATE_LIMIT_AUTH: '2/60s',
        },
      },
    });
  });

  afterAll(async () => {
    await platform?.stop();
    await new Promise((resolve) => upstream?.server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const sign = (roles: string[]): Promise<string> =>
    new SignJWT({ email: 'orders@example.com', roles })
      .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
      .setSubject(randomUUID())
      .setIssuer('keel-auth')
      .setAudience('keel')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);

  it('forwards a route that exists only in the registry, after the bearer check', async () => {
    const token = await sign([]);
    const ok = `rid-${randomUUID()}`;
    await request(platform.gatewayUrl)
      .get('/api/v1/orders/42?expand=1')
      .set('authorization', `Bearer ${token}`)
      .set('x-request-id', ok)
      .expect(200);
    expect(received(ok).map((r) => r.url)).toEqual(['/orders-api/orders/42?expand=1']);

    const anonymous = `rid-${randomUUID()}`;
    const refused = await request(platform.gatewayUrl)
      .get('/api/v1/orders/42')
      .set('x-request-id', anonymous)
      .expect(401);
    expect(refused.body).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'Missing or invalid bearer token',
      requestId: anonymous,
      traceId: expect.any(String),
    });
    const badId = `rid-${randomUUID()}`;
    const bad = await request(platform.gatewayUrl)
      .get('/api/v1/orders/4x')
      .set('authorization', `Bearer ${token}`)
      .set('x-request-id', badId)
      .expect(400);
    expect(bad.body).toMatchObject({ statusCode: 400, requestId: badId });
    expect([...received(anonymous), ...received(badId)]).toEqual([]);

    const text = (await request(platform.gatewayUrl).get('/metrics').expect(200)).text;
    const families = parseExposition(text, 'prometheus');
    const count = (route: string, status: string): number =>
      sampleValue(families, 'http_server_request_duration_seconds_count', {
        method: 'GET',
        route,
        status_code: status,
      });
    expect(count('/api/v1/orders/:id', '200')).toBe(1);
    expect(count('/api/v1/orders/:id', '401')).toBe(1);
  });

  it('forwards every path below a prefix route, with its roles checked at the edge', async () => {
    const buyer = `rid-${randomUUID()}`;
    await request(platform.gatewayUrl)
      .post('/api/v1/orders/7/items/a/b')
      .set('authorization', `Bearer ${await sign(['buyer'])}`)
      .set('x-request-id', buyer)
      .send({ qty: 1 })
      .expect(200);
    expect(received(buyer)[0]).toMatchObject({
      method: 'POST',
      url: '/orders-api/orders/7/items/a/b',
      body: '{"qty":1}',
    });
    const other = `rid-${randomUUID()}`;
    await request(platform.gatewayUrl)
      .post('/api/v1/orders/7/items/a')
      .set('authorization', `Bearer ${await sign([])}`)
      .set('x-request-id', other)
      .expect(403);
    for (const path of ['/api/v1/orders/7/items', '/api/v1/orders/7/items/%2e%2e']) {
      const res = await request(platform.gatewayUrl)
        .post(path)
        .set('authorization', `Bearer ${await sign(['buyer'])}`)
        .expect(404);
      expect(res.body).toMatchObject({ statusCode: 404, requestId: expect.any(String) });
    }
    expect(received(other)).toEqual([]);
  });

  it("applies a public route's named limiter without asking for a token", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      statuses.push((await request(platform.gatewayUrl).get('/api/v1/catalog')).status);
    }
    expect(statuses).toEqual([200, 200, 429]);
  });
});

describe('api-gateway start with a registry naming an unknown limiter', () => {
  it('stops with a message naming the route and the limiter', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-registry-'));
    try {
      const file = writeRegistry(dir, [
        {
          name: 'orders-service',
          kind: 'service',
          port: 3999,
          database: false,
          calls: [],
          routes: [{ method: 'GET', path: '/orders', auth: 'bearer', limits: ['bursty'] }],
        },
      ]);
      const child = spawn(process.execPath, [builtEntry('api-gateway')], {
        env: { ...process.env, KEEL_SERVICES_FILE: file, PORT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code).not.toBe(0);
      expect(output).toMatch(/orders-service GET \/orders: "bursty"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
