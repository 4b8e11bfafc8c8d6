#!/usr/bin/env node
// What one Prometheus scrape costs: `GET /metrics` of a built app in the classic text format
// and in OpenMetrics (with exemplars), after traffic has filled the HTTP series. Starts
// dist/apps/auth-service/main.js (run `npm run build` first) on a free port, SQLite in a
// temporary data dir, tracing on (exemplars need trace ids) but not exported.
//
//   node bench/metrics-scrape.mjs [--warmup 2000] [--scrapes 300]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';

const root = join(import.meta.dirname, '..');
const arg = (name, fallback) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};
const warmup = arg('warmup', 2000);
const scrapes = arg('scrapes', 300);

const port = await new Promise((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port: free } = server.address();
    server.close(() => resolve(free));
  });
});
const dataDir = mkdtempSync(join(tmpdir(), 'keel-bench-metrics-'));
const child = spawn(process.execPath, [join(root, 'dist/apps/auth-service/main.js')], {
  env: {
    PATH: process.env.PATH,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    PORT: String(port),
    KEEL_DATA_DIR: dataDir,
    RATE_LIMIT_SERVICE: '1000000/60s',
  },
  stdio: 'ignore',
});
const base = `http://127.0.0.1:${port}`;
try {
  for (let i = 0; ; i++) {
    try {
      await (await request(`${base}/health/live`)).body.dump();
      break;
    } catch {
      if (i > 200) throw new Error('auth-service did not start');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  // Traffic over several routes and statuses, so the scrape has realistic HTTP series.
  const paths = ['/auth/me', '/.well-known/jwks.json', '/nowhere', '/health/live'];
  for (let i = 0; i < warmup; i++) {
    await (await request(`${base}${paths[i % paths.length]}`)).body.dump();
  }
  for (const format of ['prometheus', 'openmetrics']) {
    const accept =
      format === 'openmetrics' ? 'application/openmetrics-text; version=1.0.0' : 'text/plain';
    const times = [];
    let bytes = 0;
    for (let i = 0; i < scrapes; i++) {
      const started = performance.now();
      const res = await request(`${base}/metrics`, { headers: { accept } });
      const text = await res.body.text();
      times.push(performance.now() - started);
      bytes = text.length;
    }
    times.sort((a, b) => a - b);
    const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(2);
    console.log(
      `${format.padEnd(11)} scrapes=${scrapes} bytes=${bytes} p50=${at(0.5)} ms p95=${at(0.95)} ms max=${at(1)} ms`,
    );
  }
  console.log(
    `load average ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
  );
} finally {
  child.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
