#!/usr/bin/env node
// What the gateway costs per request: `GET /users/:id` straight to users-service versus
// `GET /api/v1/users/:id` through the gateway, on loopback, side by side in one run, with a
// framework-free undici proxy (bench/raw-undici-proxy.js) as the floor a proxy hop can reach.
// Starts the built apps (run `npm run build` first) on free ports with a temporary data dir.
//
//   node bench/gateway-overhead.js [--requests 3000] [--concurrency 8] [--rate 0] [--rounds 2]
//
// --rate 0 is a closed loop (each of `concurrency` workers sends its next request when the
// previous one answers); --rate N sends N requests per second on a fixed schedule, so the
// latency is not hidden by coordinated omission. Rounds alternate direct/gateway to even
// out drift on a shared machine.
const { spawn } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const { cpus, loadavg, tmpdir } = require('node:os');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');
const { Pool } = require('undici');

const root = join(__dirname, '..');
const args = Object.fromEntries(
  process.argv
    .slice(2)
    .join(' ')
    .split('--')
    .filter(Boolean)
    .map((pair) => pair.trim().split(/\s+/))
    .map(([key, value]) => [key, Number(value)]),
);
const REQUESTS = args.requests ?? 3000;
const CONCURRENCY = args.concurrency ?? 8;
const RATE = args.rate ?? 0;
const ROUNDS = args.rounds ?? 2;
const WARMUP = 300;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function answers(port) {
  return new Promise((resolve) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: '/health/live', timeout: 1000 },
      (res) => {
        res.resume();
        resolve(true);
      },
    );
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

async function start(app, port, env) {
  const child = spawn(process.execPath, [join(root, 'dist', 'apps', app, 'main.js')], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 30_000;
  while (!(await answers(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`${app} did not start (run \`npm run build\` first?)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return child;
}

/** The framework-free floor (bench/raw-undici-proxy.js) in front of users-service. */
async function startRawProxy(port, upstream) {
  const child = spawn(process.execPath, [join(__dirname, 'raw-undici-proxy.js')], {
    env: { PATH: process.env.PATH, PORT: String(port), UPSTREAM: upstream },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 10_000;
  while (!(await answers(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error('raw-undici-proxy did not start');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return child;
}

async function json(pool, method, path, body, headers = {}) {
  const res = await pool.request({
    method,
    path,
    headers: { 'content-type': 'application/json', ...headers },
    body: body && JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) {
    throw new Error(`${method} ${path} answered ${res.statusCode}: ${text}`);
  }
  return JSON.parse(text);
}

/** Sends `count` GETs and returns every latency (ms) and the elapsed wall time (s). */
async function load(pool, path, headers, count) {
  const latencies = [];
  let failures = 0;
  const once = async () => {
    const started = performance.now();
    const res = await pool.request({ method: 'GET', path, headers });
    await res.body.dump();
    latencies.push(performance.now() - started);
    if (res.statusCode !== 200) {
      failures += 1;
    }
  };
  const began = performance.now();
  if (RATE > 0) {
    const pending = [];
    for (let i = 0; i < count; i += 1) {
      const due = began + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 1) {
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
      pending.push(once());
    }
    await Promise.all(pending);
  } else {
    let next = 0;
    const worker = async () => {
      while (next < count) {
        next += 1;
        await once();
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  }
  return { latencies, seconds: (performance.now() - began) / 1000, failures };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(runs) {
  const latencies = runs.flatMap((run) => run.latencies).sort((a, b) => a - b);
  const seconds = runs.reduce((sum, run) => sum + run.seconds, 0);
  return {
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    rps: latencies.length / seconds,
    failures: runs.reduce((sum, run) => sum + run.failures, 0),
    count: latencies.length,
  };
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'keel-bench-'));
  const [gatewayPort, authPort, usersPort, rawPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const env = {
    NODE_ENV: 'test',
    LOG_FORMAT: 'json',
    KEEL_DATA_DIR: dataDir,
    AUTH_SERVICE_URL: `http://127.0.0.1:${authPort}`,
    USERS_SERVICE_URL: `http://127.0.0.1:${usersPort}`,
    RATE_LIMIT_GLOBAL: '10000000/60s',
    RATE_LIMIT_AUTH: '10000000/60s',
    RATE_LIMIT_SERVICE: '10000000/60s',
    RATE_LIMIT_LOGIN_ACCOUNT: '10000000/60s',
    OTEL_SDK_DISABLED: process.env.OTEL_SDK_DISABLED ?? 'false',
  };
  const children = [];
  try {
    children.push(await start('users-service', usersPort, env));
    children.push(await start('auth-service', authPort, env));
    children.push(await start('api-gateway', gatewayPort, env));
    children.push(await startRawProxy(rawPort, `http://127.0.0.1:${usersPort}`));

    const gateway = new Pool(`http://127.0.0.1:${gatewayPort}`, { connections: CONCURRENCY * 2 });
    const users = new Pool(`http://127.0.0.1:${usersPort}`, { connections: CONCURRENCY * 2 });
    const raw = new Pool(`http://127.0.0.1:${rawPort}`, { connections: CONCURRENCY * 2 });
    const email = `bench-${Date.now()}@example.com`;
    const password = 'benchmark password';
    const user = await json(gateway, 'POST', '/api/v1/auth/register', {
      email,
      password,
      displayName: 'Bench',
    });
    const { accessToken } = await json(gateway, 'POST', '/api/v1/auth/login', { email, password });
    const headers = { authorization: `Bearer ${accessToken}` };
    const targets = {
      direct: { pool: users, path: `/users/${user.id}` },
      'raw-proxy': { pool: raw, path: `/api/v1/users/${user.id}` },
      gateway: { pool: gateway, path: `/api/v1/users/${user.id}` },
    };

    const runs = { direct: [], 'raw-proxy': [], gateway: [] };
    for (const name of Object.keys(targets)) {
      await load(targets[name].pool, targets[name].path, headers, WARMUP);
    }
    for (let round = 0; round < ROUNDS; round += 1) {
      const names = Object.keys(targets);
      const order = round % 2 === 0 ? names : [...names].reverse();
      for (const name of order) {
        runs[name].push(await load(targets[name].pool, targets[name].path, headers, REQUESTS));
      }
    }

    const load1 = loadavg()[0].toFixed(2);
    const mode = RATE > 0 ? `fixed rate ${RATE} req/s` : `closed loop, concurrency ${CONCURRENCY}`;
    console.log(
      `GET /users/:id, ${ROUNDS} rounds x ${REQUESTS} requests per target, ${mode}, loopback, node ${process.version}, load average ${load1} on ${cpus().length} cores`,
    );
    console.log('target       count   p50 ms   p95 ms   p99 ms      rps  non-200');
    const results = {};
    for (const name of Object.keys(targets)) {
      const s = (results[name] = summary(runs[name]));
      console.log(
        `${name.padEnd(11)} ${String(s.count).padStart(6)} ${s.p50.toFixed(3).padStart(8)} ${s.p95
          .toFixed(3)
          .padStart(
            8,
          )} ${s.p99.toFixed(3).padStart(8)} ${s.rps.toFixed(0).padStart(8)} ${String(s.failures).padStart(8)}`,
      );
    }
    const d = results.direct;
    for (const name of ['raw-proxy', 'gateway']) {
      const r = results[name];
      console.log(
        `${name} overhead: p50 +${(r.p50 - d.p50).toFixed(3)} ms, p95 +${(r.p95 - d.p95).toFixed(3)} ms, p99 +${(
          r.p99 - d.p99
        ).toFixed(3)} ms`,
      );
    }
    await Promise.all([gateway.close(), users.close(), raw.close()]);
  } finally {
    for (const child of children.reverse()) {
      if (child.exitCode === null) {
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
        clearTimeout(timer);
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
