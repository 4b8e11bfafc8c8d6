#!/usr/bin/env node
// Mixed, realistic traffic through the gateway for demos and dashboards (not a benchmark:
// see bench/ for that). Registers users, logs in (and sometimes fails to), reads and updates
// profiles, refreshes tokens, and with --chaos asks the apps for injected errors and latency
// (CONTRACT §7: only where CHAOS_ENABLED=true). Open model: requests start at the chosen
// rate whether or not earlier ones finished, up to --max-in-flight.
//
//   npm run load                                   # 20 req/s for 60 s against :3000
//   npm run load -- --rate 50 --duration 0         # until Ctrl-C
//   npm run load -- --chaos 0.05                   # 5 % of requests ask for chaos
//   npm run load -- --url http://127.0.0.1:3000 --users 50 --failed-logins 0.1 --json
//
// Rate limits: login and register are limited per client IP (RATE_LIMIT_AUTH, 10/60s). The
// script sends X-Forwarded-For from a pool of made-up client addresses; a gateway believes it
// only with TRUST_PROXY set (e.g. TRUST_PROXY=loopback for a local run), otherwise expect
// 429s on those routes (counted as auth_login_attempts_total{result="rate_limited"}).
'use strict';
const { randomUUID } = require('node:crypto');

const HELP = `usage: npm run load -- [options]
  --url URL              gateway base URL (default http://127.0.0.1:3000)
  --rate N               requests per second (default 20)
  --duration S           seconds, 0 = until Ctrl-C (default 60)
  --users N              users registered at start and kept logged in (default 20)
  --failed-logins F      share of requests that are logins with a wrong password (default 0.05)
  --chaos F              share of requests sent with x-chaos error/latency (default 0)
  --max-in-flight N      requests in flight at most; beyond, a start is dropped (default 200)
  --json                 print the summary as JSON (for scripts and tests)`;

function parseArgs(argv) {
  const options = {
    url: 'http://127.0.0.1:3000',
    rate: 20,
    duration: 60,
    users: 20,
    failedLogins: 0.05,
    chaos: 0,
    maxInFlight: 200,
    json: false,
  };
  const names = {
    '--url': 'url', '--rate': 'rate', '--duration': 'duration', '--users': 'users',
    '--failed-logins': 'failedLogins', '--chaos': 'chaos', '--max-in-flight': 'maxInFlight',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(HELP);
      process.exit(0);
    } else if (arg === '--json') {
      options.json = true;
    } else if (names[arg] && i + 1 < argv.length) {
      const value = argv[++i];
      options[names[arg]] = names[arg] === 'url' ? value.replace(/\/$/, '') : Number(value);
    } else {
      console.error(`unknown or incomplete option ${arg}\n${HELP}`);
      process.exit(2);
    }
  }
  for (const [key, max] of [['rate', 10000], ['users', 10000], ['maxInFlight', 10000]]) {
    if (!(options[key] > 0 && options[key] <= max)) fatal(`--${key} must be between 1 and ${max}`);
  }
  if (!(options.duration >= 0)) fatal('--duration must be 0 or more');
  for (const key of ['failedLogins', 'chaos']) {
    if (!(options[key] >= 0 && options[key] <= 1)) fatal(`--${key} must be between 0 and 1`);
  }
  return options;
}

function fatal(message) {
  console.error(`load: ${message}`);
  process.exit(2);
}

const PASSWORD = 'load generator password';
const pick = (items) => items[Math.floor(Math.random() * items.length)];
const clientIp = () => `198.51.100.${1 + Math.floor(Math.random() * 254)}`;

/** The traffic mix: weights of what a user of the API does. */
const OPERATIONS = [
  { name: 'GET /users/me', weight: 30, needsUser: true },
  { name: 'GET /users/:id', weight: 20, needsUser: true },
  { name: 'GET /auth/me', weight: 15, needsUser: true },
  { name: 'PATCH /users/me', weight: 10, needsUser: true },
  { name: 'POST /auth/login', weight: 10, needsUser: true },
  { name: 'POST /auth/refresh', weight: 5, needsUser: true },
  { name: 'POST /auth/register', weight: 5, needsUser: false },
];

class Stats {
  constructor() {
    this.byOperation = new Map();
    this.dropped = 0;
  }
  record(operation, status, ms) {
    let entry = this.byOperation.get(operation);
    if (!entry) {
      entry = { statuses: {}, latencies: [] };
      this.byOperation.set(operation, entry);
    }
    entry.statuses[status] = (entry.statuses[status] ?? 0) + 1;
    entry.latencies.push(ms);
  }
  totals() {
    const statuses = {};
    const latencies = [];
    for (const entry of this.byOperation.values()) {
      for (const [status, count] of Object.entries(entry.statuses)) {
        statuses[status] = (statuses[status] ?? 0) + count;
      }
      latencies.push(...entry.latencies);
    }
    return { statuses, latencies };
  }
}

function quantile(values, q) {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function classify(statuses) {
  const out = { '2xx': 0, '4xx': 0, '429': 0, '5xx': 0, error: 0 };
  for (const [status, count] of Object.entries(statuses)) {
    if (status === 'error') out.error += count;
    else if (status === '429') out['429'] += count;
    else out[`${status[0]}xx`] = (out[`${status[0]}xx`] ?? 0) + count;
  }
  return out;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const stats = new Stats();
  const users = [];
  let inFlight = 0;

  async function call(operation, method, path, { body, token, chaos } = {}) {
    const headers = { 'x-forwarded-for': clientIp(), 'x-request-id': `load-${randomUUID()}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    if (chaos) headers['x-chaos'] = chaos;
    const started = performance.now();
    try {
      const res = await fetch(`${options.url}/api/v1${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      stats.record(operation, String(res.status), performance.now() - started);
      return { status: res.status, body: text ? safeJson(text) : undefined };
    } catch {
      stats.record(operation, 'error', performance.now() - started);
      return { status: 0, body: undefined };
    }
  }

  async function register(chaos) {
    const email = `load-${randomUUID().slice(0, 12)}@example.com`;
    const res = await call('POST /auth/register', 'POST', '/auth/register', {
      body: { email, password: PASSWORD, displayName: `Load ${email.slice(5, 11)}` },
      chaos,
    });
    if (res.status !== 201) return;
    const user = { id: res.body.id, email };
    if (await login(user)) users.push(user);
  }

  async function login(user, chaos) {
    const res = await call('POST /auth/login', 'POST', '/auth/login', {
      body: { email: user.email, password: PASSWORD },
      chaos,
    });
    if (res.status === 200) {
      user.accessToken = res.body.accessToken;
      user.refreshToken = res.body.refreshToken;
      return true;
    }
    return false;
  }

  async function run(operation, chaos) {
    const user = pick(users);
    switch (operation.name) {
      case 'POST /auth/register':
        return register(chaos);
      case 'POST /auth/login':
        return login(user, chaos);
      case 'POST /auth/refresh': {
        const res = await call(operation.name, 'POST', '/auth/refresh', {
          body: { refreshToken: user.refreshToken },
          chaos,
        });
        if (res.status === 200) {
          user.accessToken = res.body.accessToken;
          user.refreshToken = res.body.refreshToken;
        } else if (res.status === 401) {
          await login(user);
        }
        return undefined;
      }
      case 'GET /users/me':
        return call(operation.name, 'GET', '/users/me', { token: user.accessToken, chaos });
      case 'GET /users/:id':
        return call(operation.name, 'GET', `/users/${pick(users).id}`, { token: user.accessToken, chaos });
      case 'GET /auth/me':
        return call(operation.name, 'GET', '/auth/me', { token: user.accessToken, chaos });
      case 'PATCH /users/me':
        return call(operation.name, 'PATCH', '/users/me', {
          body: { bio: `updated at ${new Date().toISOString()}` },
          token: user.accessToken,
          chaos,
        });
      default:
        return undefined;
    }
  }

  const failedLogin = () =>
    call('POST /auth/login (wrong password)', 'POST', '/auth/login', {
      body: { email: users.length ? pick(users).email : 'nobody@example.com', password: 'not the password at all' },
    });

  const chaosHeader = () => {
    const app = pick(['api-gateway', 'auth-service', 'users-service']);
    return Math.random() < 0.5 ? `${app}=error` : `${app}=latency:${pick([150, 300, 600])}`;
  };

  const totalWeight = OPERATIONS.reduce((sum, op) => sum + op.weight, 0);
  const nextOperation = () => {
    let r = Math.random() * totalWeight;
    for (const op of OPERATIONS) {
      r -= op.weight;
      if (r < 0) return op;
    }
    return OPERATIONS[0];
  };

  const launch = (work) => {
    if (inFlight >= options.maxInFlight) {
      stats.dropped += 1;
      return;
    }
    inFlight += 1;
    work().finally(() => {
      inFlight -= 1;
    });
  };

  const tick = () => {
    if (Math.random() < options.failedLogins) {
      launch(failedLogin);
      return;
    }
    const chaos = Math.random() < options.chaos ? chaosHeader() : undefined;
    const op = nextOperation();
    if (op.needsUser && users.length === 0) {
      launch(() => register(chaos));
    } else {
      launch(() => run(op, chaos));
    }
  };

  // Warm-up: the user pool, a few at a time (these count in the summary too).
  if (!options.json) process.stderr.write(`load: registering ${options.users} users at ${options.url}\n`);
  for (let i = 0; i < options.users; i += 5) {
    await Promise.all(Array.from({ length: Math.min(5, options.users - i) }, () => register()));
  }
  if (users.length === 0) {
    fatal(`no user could register and log in at ${options.url} (is the gateway up? rate limited? see --help)`);
  }

  const started = performance.now();
  let sent = 0;
  let stopping = false;
  const stop = () => {
    stopping = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const isTty = process.stderr.isTTY && !options.json;
  let lastProgress = 0;
  const progress = (force = false) => {
    const now = performance.now();
    if (!force && now - lastProgress < 1000) return;
    lastProgress = now;
    const elapsed = (now - started) / 1000;
    const { statuses, latencies } = stats.totals();
    const c = classify(statuses);
    const line =
      `load: ${elapsed.toFixed(0)}s sent ${sent} (${(sent / Math.max(elapsed, 0.001)).toFixed(1)}/s) ` +
      `in-flight ${inFlight} | 2xx ${c['2xx']} 4xx ${c['4xx']} 429 ${c['429']} 5xx ${c['5xx']} ` +
      `errors ${c.error} dropped ${stats.dropped} | p50 ${quantile(latencies, 0.5).toFixed(0)} ms ` +
      `p95 ${quantile(latencies, 0.95).toFixed(0)} ms`;
    if (options.json) return;
    process.stderr.write(isTty ? `\r\x1b[K${line}` : `${line}\n`);
  };

  // Starts are spread over each second: at every 10 ms step, as many as the rate owes.
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      const elapsed = (performance.now() - started) / 1000;
      if (stopping || (options.duration > 0 && elapsed >= options.duration)) {
        clearInterval(timer);
        resolve();
        return;
      }
      const owed = Math.floor(elapsed * options.rate) - sent;
      for (let i = 0; i < owed; i++) {
        sent += 1;
        tick();
      }
      progress();
    }, 10);
  });
  // Let the requests in flight finish (at most 15 s, their timeout).
  const deadline = performance.now() + 16_000;
  while (inFlight > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  progress(true);
  if (isTty) process.stderr.write('\n');
  printSummary(stats, sent, (performance.now() - started) / 1000, options);
}

function printSummary(stats, sent, seconds, options) {
  const operations = {};
  for (const [name, entry] of [...stats.byOperation.entries()].sort()) {
    operations[name] = {
      count: entry.latencies.length,
      statuses: entry.statuses,
      p50Ms: Math.round(quantile(entry.latencies, 0.5)),
      p95Ms: Math.round(quantile(entry.latencies, 0.95)),
      p99Ms: Math.round(quantile(entry.latencies, 0.99)),
    };
  }
  const { statuses, latencies } = stats.totals();
  const summary = {
    url: options.url,
    seconds: Number(seconds.toFixed(1)),
    targetRate: options.rate,
    started: sent,
    responses: latencies.length,
    achievedRate: Number((sent / Math.max(seconds, 0.001)).toFixed(1)),
    dropped: stats.dropped,
    statuses,
    classes: classify(statuses),
    p50Ms: Math.round(quantile(latencies, 0.5)),
    p95Ms: Math.round(quantile(latencies, 0.95)),
    p99Ms: Math.round(quantile(latencies, 0.99)),
    operations,
  };
  if (options.json) {
    console.log(JSON.stringify(summary));
    return;
  }
  const rows = Object.entries(operations).map(([name, o]) => [
    name,
    String(o.count),
    Object.entries(o.statuses).map(([s, n]) => `${s}:${n}`).join(' '),
    `${o.p50Ms}/${o.p95Ms}/${o.p99Ms}`,
  ]);
  rows.unshift(['operation', 'count', 'statuses', 'p50/p95/p99 ms']);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log(
    `\n${latencies.length} responses: ${sent} requests started in ${summary.seconds} s ` +
      `(${summary.achievedRate}/s of ${options.rate}/s target, ${stats.dropped} dropped), the rest ` +
      'warm-up registrations and the logins that follow a registration or a rejected refresh',
  );
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join('  '));
  const c = summary.classes;
  console.log(`total: 2xx ${c['2xx']}, 4xx ${c['4xx']}, 429 ${c['429']}, 5xx ${c['5xx']}, errors ${c.error}; p50/p95/p99 ${summary.p50Ms}/${summary.p95Ms}/${summary.p99Ms} ms`);
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

main().catch((error) => {
  console.error(`load: ${error.stack ?? error}`);
  process.exit(1);
});
