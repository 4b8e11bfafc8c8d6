#!/usr/bin/env node
// @ts-check
// CPU cost per request of tracing + logging, side by side in one run (printed numbers, not a
// test). Starts the built auth-service (`npx nest build auth-service` first) twice on loopback:
//
//   on  — tracing on, exporting over OTLP/HTTP (protobuf) to a sink in this process,
//         LOG_LEVEL=info (one access line per request)
//   off — OTEL_SDK_DISABLED=true, LOG_LEVEL=warn
//
// and drives `GET /.well-known/jwks.json` (no database, no auth: the framework path only) with
// keep-alive connections. The server's CPU time (utime + stime from /proc/<pid>/stat, so the
// load generator and the sink are not counted) is divided by the requests served. Rounds
// alternate between the processes so drift on a shared machine hits all alike.
//
//   node bench/tracing-overhead.mjs [--requests 4000] [--rounds 5] [--concurrency 8] [--breakdown]

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '4000' },
    rounds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '1500' },
    // Also run tracing alone and logging alone, to see which one costs what.
    breakdown: { type: 'boolean', default: false },
  },
});
const REQUESTS = Math.min(Number(values.requests), 50_000);
const ROUNDS = Math.min(Number(values.rounds), 20);
const CONCURRENCY = Math.min(Number(values.concurrency), 64);
const WARMUP = Math.min(Number(values.warmup), 20_000);
const ROUTE = '/.well-known/jwks.json';
const ROOT = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const ENTRY = join(ROOT, 'dist', 'apps', 'auth-service', 'main.js');
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** An OTLP/HTTP sink: accepts and discards, counting spans' bytes. */
async function startSink() {
  let bytes = 0;
  let exports = 0;
  const server = createServer((req, res) => {
    req.on('data', (chunk) => (bytes += chunk.length));
    req.on('end', () => {
      exports += 1;
      res.setHeader('content-type', 'application/x-protobuf');
      res.end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => ({ bytes, exports }),
    close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise((resolve) => server.close(() => resolve(undefined)));
  return port;
}

/** @param {string} name @param {Record<string, string>} env */
async function startApp(name, env) {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), `keel-bench-${name}-`));
  const child = spawn(process.execPath, [ENTRY], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      INTERNAL_TOKEN: 'bench-internal-token-0123456789',
      LOG_FORMAT: 'json',
      HOST: '127.0.0.1',
      PORT: String(port),
      KEEL_DATA_DIR: dataDir,
      RATE_LIMIT_GLOBAL: '100000000/60s',
      RATE_LIMIT_AUTH: '100000000/60s',
      RATE_LIMIT_SERVICE: '100000000/60s',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const response = await fetch(`${url}/health/live`);
      if (response.ok) {
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`${name}: auth-service did not start`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const pool = new Pool(url, { connections: CONCURRENCY, pipelining: 1 });
  return {
    name,
    pid: /** @type {number} */ (child.pid),
    pool,
    async stop() {
      await pool.close();
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** @param {{ pool: Pool }} app @param {number} count */
async function drive(app, count) {
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < count) {
      next += 1;
      const { statusCode, body } = await app.pool.request({ method: 'GET', path: ROUTE });
      await body.dump();
      if (statusCode !== 200) {
        failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  if (failed > 0) {
    throw new Error(`${failed} of ${count} requests failed`);
  }
}

/** @param {number[]} xs */
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const sink = await startSink();
const tracingOn = {
  OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
};
const variants = {
  on: { LOG_LEVEL: 'info', ...tracingOn },
  off: { LOG_LEVEL: 'warn', OTEL_SDK_DISABLED: 'true' },
  ...(values.breakdown
    ? {
        'tracing only': { LOG_LEVEL: 'warn', ...tracingOn },
        'logging only': { LOG_LEVEL: 'info', OTEL_SDK_DISABLED: 'true' },
        'on, without nestjs-core spans': {
          LOG_LEVEL: 'info',
          ...tracingOn,
          OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'nestjs-core',
        },
      }
    : {}),
};
const apps = [];
for (const [name, env] of Object.entries(variants)) {
  apps.push(await startApp(name, env));
}
/** @type {Record<string, number[]>} */
const perRequestUs = Object.fromEntries(apps.map((app) => [app.name, []]));
try {
  for (const app of apps) {
    await drive(app, WARMUP);
  }
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order so that drift on a shared machine hits every variant alike.
    for (const app of round % 2 === 0 ? apps : [...apps].reverse()) {
      const before = cpuSeconds(app.pid);
      await drive(app, REQUESTS);
      // Let the batch exporter and the log stream finish their share of this round.
      await new Promise((resolve) => setTimeout(resolve, 700));
      const used = cpuSeconds(app.pid) - before;
      perRequestUs[app.name].push((used / REQUESTS) * 1e6);
    }
  }
} finally {
  for (const app of apps) {
    await app.stop();
  }
  await sink.close();
}

const fmt = (xs) => xs.map((x) => x.toFixed(0)).join(', ');
console.log(
  `node ${process.version}, GET ${ROUTE} on auth-service, ${ROUNDS} rounds x ${REQUESTS} requests, concurrency ${CONCURRENCY}`,
);
console.log(
  `load average at the end: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} (other work on the machine inflates CPU time)`,
);
console.log('server CPU per request (µs): median [each round]');
const labels = {
  on: 'tracing + logging on',
  off: 'OTEL_SDK_DISABLED=true LOG_LEVEL=warn',
};
for (const app of apps) {
  const label = labels[app.name] ?? app.name;
  console.log(
    `  ${label.padEnd(40)} ${median(perRequestUs[app.name]).toFixed(0).padStart(5)}   [${fmt(perRequestUs[app.name])}]`,
  );
}
const overhead = median(perRequestUs.on) - median(perRequestUs.off);
console.log(`  overhead of tracing + logging: ${overhead.toFixed(0)} µs per request`);
const { exports, bytes } = sink.stats();
console.log(`  OTLP export requests: ${exports}, ${(bytes / 1024).toFixed(0)} KiB`);
