#!/usr/bin/env node
// Cost of the gateway's rate limiting per request: the built gateway answering a route that
// its guards refuse (401, no upstream call), with limits counted in process memory, in a
// private redis-server, and in memory again after that Redis was killed (fail-open).
// Prints requests/s and latency percentiles; asserts nothing.
//
//   npm run build && node bench/rate-limit-overhead.mjs [requests] [concurrency]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const ROOT = join(import.meta.dirname, '..');
const REQUESTS = Number(process.argv[2] ?? 5000);
const CONCURRENCY = Number(process.argv[3] ?? 16);

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function get(url, agent) {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitFor(url) {
  for (let i = 0; i < 200; i += 1) {
    try {
      await get(url);
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`${url} never answered`);
}

async function startRedis() {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  await sleep(300);
  return { url: `redis://127.0.0.1:${port}`, child };
}

async function startGateway(redisUrl) {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'keel-bench-'));
  const env = {
    PATH: process.env.PATH,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    OTEL_SDK_DISABLED: 'true',
    PORT: String(port),
    KEEL_DATA_DIR: dataDir,
    RATE_LIMIT_GLOBAL: '1000000000/60s',
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
  };
  const child = spawn(process.execPath, [join(ROOT, 'dist/apps/api-gateway/main.js')], {
    env,
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/health/live`);
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function run(label, url) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const target = `${url}/api/v1/users/me`;
  for (let i = 0; i < 500; i += 1) {
    await get(target, agent); // warm-up
  }
  const latencies = [];
  const statuses = new Map();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        next += 1;
        const t = performance.now();
        const status = await get(target, agent);
        latencies.push(performance.now() - t);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  console.log(
    `${label.padEnd(28)} ${(latencies.length / seconds).toFixed(0).padStart(6)} req/s  ` +
      `p50 ${pct(50).toFixed(2)} ms  p99 ${pct(99).toFixed(2)} ms  max ${pct(100).toFixed(2)} ms  ` +
      `statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
  );
}

console.log(
  `${REQUESTS} requests, concurrency ${CONCURRENCY}, GET /api/v1/users/me (401 at the edge)`,
);
const memory = await startGateway(undefined);
await run('memory store', memory.url);
await memory.stop();

const redis = await startRedis();
const shared = await startGateway(redis.url);
await run('redis store', shared.url);
redis.child.kill('SIGKILL');
await sleep(200);
await run('redis killed (fail-open)', shared.url);
await shared.stop();
