import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createTestDatabase, type TestDatabase } from './database';

/**
 * Starts the built apps (`dist/apps/<app>/main.js`, the files production runs) as real
 * processes on free loopback ports, wired to each other, for cross-app e2e suites.
 *
 * ```ts
 * const platform = await startPlatform({ database: 'postgres' });
 * await request(platform.gatewayUrl).get('/api/v1/auth/me').expect(401);
 * await platform.stop();
 * ```
 *
 * Set `KEEL_TEST_ECHO_LOGS=1` to see every app's output on stderr while a suite runs.
 */

export type AppName = 'api-gateway' | 'auth-service' | 'users-service';
export type EnvPatch = Record<string, string | undefined>;

export const ALL_APPS: readonly AppName[] = ['users-service', 'auth-service', 'api-gateway'];

export interface PlatformOptions {
  /** Apps to start; default all three. Upstream URLs of apps left out still point at free, closed ports. */
  apps?: AppName[];
  /** Variables for every app; `undefined` removes a variable the harness would set. */
  env?: EnvPatch;
  /** Variables for one app, applied after `env`. */
  appEnv?: Partial<Record<AppName, EnvPatch>>;
  /** `postgres` creates a fresh database through `DATABASE_URL` and drops it on `stop()`. */
  database?: 'sqlite' | 'postgres';
  /** How long each app may take to answer HTTP, ms (default 20 000). */
  startTimeoutMs?: number;
}

export interface StartedApp {
  name: AppName;
  url: string;
  port: number;
  /** Every stdout and stderr line so far. */
  logs(): string[];
  /** The lines that parse as JSON objects (the apps log JSON with `LOG_FORMAT=json`). */
  jsonLogs(): Record<string, unknown>[];
  /** Sends `signal` (default SIGTERM), SIGKILLs after 10 s; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves with the exit code (`null` when ended by a signal) once the process exits. */
  exited: Promise<number | null>;
}

export interface Platform {
  apps: Record<AppName, StartedApp>;
  gatewayUrl: string;
  /** The temporary `KEEL_DATA_DIR` shared by the apps (SQLite files, dev signing key). */
  dataDir: string;
  /** `DATABASE_URL` of the apps when the platform runs on PostgreSQL. */
  databaseUrl?: string;
  /** Stops `name` if it runs and starts it again on the same port with the same environment. */
  restart(name: AppName): Promise<StartedApp>;
  /** Stops every app (gateway first), removes the data dir, drops the test database. */
  stop(): Promise<void>;
}

const ROOT = join(__dirname, '..', '..');

/**
 * Generous limits, so suites that register and log in many users are not throttled by the
 * defaults; suites about rate limiting set their own values through `env`/`appEnv`.
 */
const HARNESS_DEFAULTS: EnvPatch = {
  RATE_LIMIT_GLOBAL: '100000/60s',
  RATE_LIMIT_AUTH: '100000/60s',
  RATE_LIMIT_LOGIN_ACCOUNT: '100000/60s',
  RATE_LIMIT_SERVICE: '100000/60s',
};

/** Inherited from the test process; everything else is set explicitly, so suites are reproducible. */
const INHERITED = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ', 'SYSTEMROOT'];

/** Every process this harness started that has not exited yet, across platforms. */
const live = new Set<ChildProcess>();
function killLeftovers(): void {
  for (const child of live) {
    child.kill('SIGKILL');
  }
}
// Safety net: a suite whose beforeAll timed out while its apps were still starting never
// gets a Platform to stop, and its processes would outlive the test run.
if (typeof afterAll === 'function') {
  afterAll(killLeftovers);
} else {
  process.once('exit', killLeftovers);
}

/** Path of an app's built entry file; throws telling to build when it is missing. */
export function builtEntry(app: AppName): string {
  const file = join(ROOT, 'dist', 'apps', app, 'main.js');
  if (!existsSync(file)) {
    throw new Error(
      `${file} is missing: run \`npm run build\` (or \`npx nest build ${app}\`) first`,
    );
  }
  return file;
}

/** A port that was free a moment ago (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const wanted = new Set(options.apps ?? ALL_APPS);
  const apps = ALL_APPS.filter((app) => wanted.has(app));
  for (const app of apps) {
    builtEntry(app);
  }
  const ports = {} as Record<AppName, number>;
  for (const app of ALL_APPS) {
    let port = await freePort();
    while (Object.values(ports).includes(port)) {
      port = await freePort();
    }
    ports[app] = port;
  }
  const url = (app: AppName): string => `http://127.0.0.1:${ports[app]}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'keel-platform-'));

  let database: TestDatabase | undefined;
  if (options.database === 'postgres') {
    const adminUrl = process.env.DATABASE_URL;
    if (!adminUrl) {
      throw new Error('database: "postgres" needs DATABASE_URL (use describeWithPostgres())');
    }
    database = await createTestDatabase(adminUrl, 'keel_platform');
  }

  const envFor = (app: AppName): NodeJS.ProcessEnv => {
    const env: EnvPatch = {};
    for (const name of INHERITED) {
      env[name] = process.env[name];
    }
    Object.assign(
      env,
      HARNESS_DEFAULTS,
      {
        NODE_ENV: 'test',
        LOG_FORMAT: 'json',
        HOST: '127.0.0.1',
        PORT: String(ports[app]),
        KEEL_DATA_DIR: dataDir,
        AUTH_SERVICE_URL: url('auth-service'),
        USERS_SERVICE_URL: url('users-service'),
        DATABASE_URL: database?.url,
      },
      options.env,
      options.appEnv?.[app],
    );
    return Object.fromEntries(
      Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
  };

  const started = {} as Record<AppName, StartedApp>;
  const startOne = async (app: AppName): Promise<StartedApp> => {
    const handle = spawnApp(app, ports[app], envFor(app));
    started[app] = handle;
    await waitUntilListening(handle, options.startTimeoutMs ?? 20_000);
    return handle;
  };

  const stopAll = async (): Promise<void> => {
    if (started['api-gateway']) {
      await started['api-gateway'].stop();
    }
    await Promise.all(Object.values(started).map((app) => app.stop()));
    rmSync(dataDir, { recursive: true, force: true });
    await database?.drop();
  };

  try {
    // The gateway's upstreams first, so its first request finds them listening.
    await Promise.all(apps.filter((app) => app !== 'api-gateway').map(startOne));
    if (wanted.has('api-gateway')) {
      await startOne('api-gateway');
    }
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }

  return {
    apps: started,
    gatewayUrl: url('api-gateway'),
    dataDir,
    databaseUrl: database?.url,
    async restart(name) {
      await started[name]?.stop();
      return startOne(name);
    },
    stop: stopAll,
  };
}

function spawnApp(name: AppName, port: number, env: NodeJS.ProcessEnv): StartedApp {
  const child = spawn(process.execPath, [builtEntry(name)], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const lines: string[] = [];
  const echo = process.env.KEEL_TEST_ECHO_LOGS === '1';
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (echo) {
        process.stderr.write(`[${name}] ${line}\n`);
      }
    });
  }
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    });
  });

  return {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    exited,
    logs: () => [...lines],
    jsonLogs: () => lines.flatMap(parseJsonLine),
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) {
        return exited;
      }
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

function parseJsonLine(line: string): Record<string, unknown>[] {
  if (!line.startsWith('{')) {
    return [];
  }
  try {
    const value: unknown = JSON.parse(line);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? [value as Record<string, unknown>]
      : [];
  } catch {
    return [];
  }
}

/** Polls until the app answers any HTTP response; fails with its output if it exits or stalls. */
async function waitUntilListening(app: StartedApp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void app.exited.then((code) => {
    exitCode = code;
  });
  for (;;) {
    if (exitCode !== undefined) {
      throw new Error(`${app.name} exited (code ${exitCode}) before listening:\n${tail(app)}`);
    }
    if (await answers(`${app.url}/health/live`)) {
      return;
    }
    if (Date.now() > deadline) {
      await app.stop('SIGKILL');
      throw new Error(`${app.name} did not answer HTTP within ${timeoutMs} ms:\n${tail(app)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

function tail(app: StartedApp): string {
  return app.logs().slice(-40).join('\n') || '(no output)';
}
