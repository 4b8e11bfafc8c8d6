import { execFile, execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { parseExposition, sampleValue } from './support/exposition';
import { errorBody, registerAndLogin, type TestUser } from './support/http';
import { type OtlpReceiver, SpanKind, startOtlpReceiver } from './support/otlp-receiver';
import { GATEWAY, loadRegistry, type Platform, REGISTRY, startPlatform } from './support/platform';

/**
 * `npm run new-service` end to end: scaffold a service into a throw-away copy of this
 * repository, build it, run it with the others and call it through the gateway. Proves the
 * scaffold is wired into everything the platform promises (routing with the JWT check,
 * tracing across the gateway, metrics, log ids, limits, the error body) and that it touches
 * nothing but its folder, services.json and the files generated from services.json.
 */

const run = promisify(execFile);
const ROOT = join(__dirname, '..');
const NAME = 'orders-service';
const PREFIX = '/api/v1/orders';
/** orders-service's own limit: a few requests per user, so the test can exceed it. */
const SERVICE_LIMIT = 5;
/** Where `npm run sync:registry` writes what it generates from services.json. */
const GENERATED = [/^nest-cli\.json$/, /^docker\//, /^k8s\//, /^prometheus\//, /^grafana\//];

// A copy, a scaffold, two builds and a type check come before the first request.
jest.setTimeout(240_000);

/** Copies the files git would (tracked and untracked, not ignored) into `target`. */
function copyRepository(target: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '-co', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    // Regular files only: a node_modules symlink is not matched by `node_modules/` in .gitignore.
    .filter((file) => file !== '' && existsSync(join(ROOT, file)))
    .filter((file) => lstatSync(join(ROOT, file)).isFile());
  for (const file of files) {
    mkdirSync(dirname(join(target, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(target, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(target, 'node_modules'), 'dir');
}

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=keel', '-c', 'user.email=keel@example.com', ...args], {
    cwd,
    encoding: 'utf8',
  });

describe('npm run new-service', () => {
  let copy: string;
  let scaffoldOutput: string;
  let changed: string[];
  let platform: Platform;
  let receiver: OtlpReceiver;
  let user: TestUser;
  let ownSuite: Promise<{ ok: boolean; output: string }>;

  beforeAll(async () => {
    copy = mkdtempSync(join(tmpdir(), 'keel-new-service-'));
    copyRepository(copy);
    git(copy, 'init', '-q');
    git(copy, 'add', '-A');
    git(copy, 'commit', '-q', '-m', 'baseline');

    scaffoldOutput = (await run('npm', ['run', 'new-service', '--', NAME], { cwd: copy })).stdout;
    changed = git(copy, 'status', '--porcelain', '--untracked-files=all')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.slice(3));

    // The apps already in the registry run as this checkout built them (the gateway reads
    // the copy's services.json through KEEL_SERVICES_FILE); only the new one builds in the
    // copy, without its type check, which runs beside it.
    mkdirSync(join(copy, 'dist', 'apps'), { recursive: true });
    for (const service of REGISTRY.services) {
      symlinkSync(
        join(ROOT, 'dist', 'apps', service.name),
        join(copy, 'dist', 'apps', service.name),
      );
    }
    writeFileSync(
      join(copy, 'tsconfig.new-service.json'),
      JSON.stringify({ extends: './tsconfig.json', include: [`apps/${NAME}/**/*.ts`] }),
    );
    const bin = (tool: string): string => join(copy, 'node_modules', '.bin', tool);
    const typeCheck = run(bin('tsc'), ['--noEmit', '-p', 'tsconfig.new-service.json'], {
      cwd: copy,
    }).catch((error: { stdout?: string; message: string }) => {
      // tsc reports on stdout.
      throw new Error(
        `the generated service does not type-check:\n${error.stdout ?? error.message}`,
      );
    });
    // The generated e2e suite, as a developer runs it right after the command.
    ownSuite = run(
      bin('jest'),
      ['--ci', '--selectProjects', 'e2e', '--runInBand', '--testPathPatterns', `apps/${NAME}/`],
      { cwd: copy },
    ).then(
      (done) => ({ ok: true, output: done.stderr }),
      (error: { stderr?: string; message: string }) => ({
        ok: false,
        output: error.stderr ?? error.message,
      }),
    );
    await Promise.all([
      run('node', ['scripts/build.js', '--transpile-only', NAME], { cwd: copy }),
      typeCheck,
    ]);

    receiver = await startOtlpReceiver();
    platform = await startPlatform({
      root: copy,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '200' },
      appEnv: { [NAME]: { RATE_LIMIT_SERVICE: `${SERVICE_LIMIT}/60s` } },
      // Four apps start at once on a machine that may be busy with the rest of the suite.
      startTimeoutMs: 60_000,
    });
    user = await registerAndLogin(platform.gatewayUrl);
  });

  afterAll(async () => {
    await platform?.stop();
    await receiver?.close();
    await ownSuite;
    if (copy) {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('adds its folder and registry entry, and changes nothing else by hand', () => {
    expect(scaffoldOutput).toContain(`Created ${NAME}`);
    expect(changed).toContain('services.json');
    for (const file of [
      'src/main.ts',
      'src/instrument.ts',
      'src/app.module.ts',
      'src/orders/orders.controller.ts',
      'src/orders/order.entity.ts',
      'tsconfig.app.json',
      `test/${NAME}.e2e-spec.ts`,
    ]) {
      expect(changed).toContain(`apps/${NAME}/${file}`);
    }
    expect(
      changed.some((file) =>
        /^apps\/orders-service\/src\/migrations\/\d+-create-orders\.ts$/.test(file),
      ),
    ).toBe(true);
    const elsewhere = changed.filter(
      (file) =>
        file !== 'services.json' &&
        !file.startsWith(`apps/${NAME}/`) &&
        !GENERATED.some((pattern) => pattern.test(file)),
    );
    expect(elsewhere).toEqual([]);

    const registry = loadRegistry(copy);
    const entry = registry.service(NAME);
    expect(entry).toMatchObject({ kind: 'service', database: true, calls: ['auth-service'] });
    expect(entry.port).toBe(Math.max(...REGISTRY.services.map((s) => s.port)) + 1);
    expect(entry.routes.map((route) => `${route.method} ${route.path} ${route.auth}`)).toEqual([
      'GET /orders bearer',
      'POST /orders bearer',
      'GET /orders/:id bearer',
    ]);
  });

  it('brings along what npm run sync:registry generates from services.json', async () => {
    for (const file of [
      'nest-cli.json',
      'docker/docker-compose.yml',
      'docker/postgres-init.sql',
      'prometheus/prometheus.yml',
      `grafana/dashboards/keel-${NAME}.json`,
      `k8s/base/${NAME}.yaml`,
    ]) {
      expect(changed).toContain(file);
    }
    const check = await run('npm', ['run', '--silent', 'check:registry'], { cwd: copy });
    expect(check.stdout).toContain('generated files match');
  });

  it.each([
    [[NAME], 'orders-service is already in services.json'],
    [['Orders'], 'is not a service name'],
    [['orders'], 'is not a service name'],
    [['billing-service', '--port', '3001'], "port 3001 is already auth-service's"],
    [
      ['billing-service', '--prefix', 'users'],
      'the prefix /users is already routed to users-service',
    ],
    [['billing-service', '--prefix', 'Bad/Path'], 'one path segment'],
  ])('refuses %j, changing nothing', async (args, message) => {
    const before = git(copy, 'status', '--porcelain', '--untracked-files=all');
    const refused = await run('node', ['scripts/new-service.js', ...args], { cwd: copy }).then(
      () => ({ stderr: 'it succeeded' }),
      (error: { stderr: string }) => error,
    );
    expect(refused.stderr).toContain(message);
    expect(git(copy, 'status', '--porcelain', '--untracked-files=all')).toBe(before);
  });

  it('passes its own generated e2e suite', async () => {
    const { ok, output } = await ownSuite;
    // Its PostgreSQL block runs only with DATABASE_URL (as CI sets it); without, it is skipped,
    // and nothing else may be.
    const summary = process.env.DATABASE_URL
      ? /^Tests: +\d+ passed, \d+ total$/
      : /^Tests: +\d+ skipped, \d+ passed, \d+ total$/;
    expect({ ok, summary: output.split('\n').filter((line) => /^Tests:/.test(line)) }).toEqual({
      ok: true,
      summary: [expect.stringMatching(summary)],
    });
  });

  it('creates and reads a record through the gateway, in one trace across both hops', async () => {
    const traceId = randomBytes(16).toString('hex');
    const requestId = `new-service-${randomUUID()}`;
    const created = await request(platform.gatewayUrl)
      .post(PREFIX)
      .set('authorization', `Bearer ${user.accessToken}`)
      .set('traceparent', `00-${traceId}-${randomBytes(8).toString('hex')}-01`)
      .set('x-request-id', requestId)
      .send({ name: 'first order' })
      .expect(201);
    expect(created.body).toMatchObject({ name: 'first order', id: expect.any(String) });
    await request(platform.gatewayUrl)
      .get(`${PREFIX}/${created.body.id}`)
      .set('authorization', `Bearer ${user.accessToken}`)
      .expect(200, created.body);

    const spans = await receiver.waitFor((all) =>
      [GATEWAY, NAME].every((service) =>
        all.some(
          (span) =>
            span.traceId === traceId && span.service === service && span.kind === SpanKind.SERVER,
        ),
      ),
    );
    const trace = spans.filter((span) => span.traceId === traceId);
    const server = trace.find((span) => span.service === NAME && span.kind === SpanKind.SERVER)!;
    const parent = trace.find((span) => span.spanId === server.parentSpanId);
    expect({ parent: parent?.service, kind: parent?.kind, name: server.name }).toEqual({
      parent: GATEWAY,
      kind: SpanKind.CLIENT,
      name: 'POST /orders',
    });
    // The scaffold's @Traced() method, inside the service's server span.
    expect(
      trace.some((span) => span.service === NAME && span.name === 'OrdersService.create'),
    ).toBe(true);

    const line = await platform.apps[NAME].waitForLog(
      (entry) => entry.requestId === requestId,
      `a line of request ${requestId}`,
    );
    expect(line).toMatchObject({ requestId, trace_id: traceId, service: NAME });
  });

  it('exposes its request metrics under its route templates and is ready, for the gateway too', async () => {
    const families = parseExposition(
      (await request(platform.apps[NAME].url).get('/metrics').expect(200)).text,
      'prometheus',
    );
    expect(
      sampleValue(families, 'http_server_request_duration_seconds_count', {
        method: 'GET',
        route: '/orders/:id',
        status_code: '200',
      }),
    ).toBeGreaterThanOrEqual(1);
    const ready = await request(platform.apps[NAME].url).get('/health/ready').expect(200);
    expect(ready.body.details.database.status).toBe('up');
    // The gateway watches it like every other upstream.
    const gateway = await request(platform.gatewayUrl).get('/health/ready').expect(200);
    expect(gateway.body.dependencies[NAME]?.status).toBe('up');
  });

  it('answers 401 without a token and the error body on invalid input', async () => {
    const gateway = platform.gatewayUrl;
    const auth = `Bearer ${user.accessToken}`;
    const cases: [string, request.Test, number][] = [
      ['no token', request(gateway).get(PREFIX), 401],
      ['no name', request(gateway).post(PREFIX).set('authorization', auth).send({}), 400],
      ['not a uuid', request(gateway).get(`${PREFIX}/42`).set('authorization', auth), 400],
      [
        'unknown',
        request(gateway).get(`${PREFIX}/${randomUUID()}`).set('authorization', auth),
        404,
      ],
    ];
    for (const [what, pending, status] of cases) {
      const res = await pending;
      expect({ what, status: res.status, body: res.body as unknown }).toEqual({
        what,
        status,
        body: errorBody(status),
      });
    }
  });

  it('answers 429 past its own rate limit', async () => {
    const other = await registerAndLogin(platform.gatewayUrl);
    const statuses: number[] = [];
    for (let i = 0; i <= SERVICE_LIMIT; i++) {
      const res = await request(platform.gatewayUrl)
        .get(PREFIX)
        .set('authorization', `Bearer ${other.accessToken}`);
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.body).toEqual(errorBody(429));
      }
    }
    expect(statuses).toEqual([...Array<number>(SERVICE_LIMIT).fill(200), 429]);
    // Refused by orders-service itself, not by the gateway.
    const families = parseExposition(
      (await request(platform.apps[NAME].url).get('/metrics').expect(200)).text,
      'prometheus',
    );
    expect(
      sampleValue(families, 'http_server_request_duration_seconds_count', {
        method: 'GET',
        route: '/orders',
        status_code: '429',
      }),
    ).toBe(1);
  });
});
