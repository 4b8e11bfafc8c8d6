import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  parseServiceRegistry,
  type ServiceRegistry,
} from '@keel/platform/registry/service-registry';
import { createTestDatabase, type TestDatabase } from './database';
import { redisKeyPrefix } from './identity';
import { type ClosedPort, holdClosedPort, pickPort, saysAddressInUse } from './ports';
import { waitFor } from './wait';

/**
 * Starts the built apps (`dist/apps/<app>/main.js`, the files production runs) as real
 * processes on loopback ports they bind themselves, wired to each other, for cross-app e2e
 * suites. An app whose address no other app needs before it starts gets `PORT=0` and the
 * harness reads the port from its `<app> listening on http://…` log line; auth-service and
 * users-service, which call each other, get ports picked outside the ephemeral range (see
 * `ports.ts`) and are started again on other ports if one of them finds its port taken.
 * Upstreams left out point at a port held closed (connections refused) for the platform's
 * lifetime.
 *
 * ```ts
 * const platform = await startPlatform({ database: 'postgres' });
 * await request(platform.gatewayUrl).get('/api/v1/auth/me').expect(401);
 * await platform.stop();
 * ```
 *
 * The apps are the ones `services.json` lists (`ALL_APPS`); `root` starts those of another
 * copy of the repository (its registry, also as `KEEL_SERVICES_FILE`, and its `dist/`).
 *
 * Set `KEEL_TEST_ECHO_LOGS=1` to see every app's output on stderr while a suite runs.
 */

/** An app's name, as `services.json` spells it. */
export type AppName = string;
export type EnvPatch = Record<string, string | undefined>;

const ROOT = join(__dirname, '..', '..');

/** The registry (`services.json`) of the repository at `root`. */
export function loadRegistry(root: string = ROOT): ServiceRegistry {
  return parseServiceRegistry(JSON.parse(readFileSync(join(root, 'services.json'), 'utf8')));
}

/** The registry of this repository. */
export const REGISTRY: ServiceRegistry = loadRegistry();

/** Every app of `services.json`, in registry order. */
export const ALL_APPS: readonly AppName[] = REGISTRY.services.map((service) => service.name);

/** The name of the registry's gateway. */
export const GATEWAY: AppName = REGISTRY.gateway().name;

export interface PlatformOptions {
  /**
   * The repository whose apps to start (its `services.json`, `dist/apps/<app>/main.js` and
   * working directory); default this one.
   */
  root?: string;
  /** Apps to start; default all of the registry. Upstream URLs of apps left out point at a port held closed. */
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
  /**
   * Resolves with the exit code (`null` when ended by a signal) once the process has exited
   * *and* its stdout and stderr are closed, so `logs()` then holds every line it wrote.
   */
  exited: Promise<number | null>;
  /**
   * Waits (default 10 s) for the first JSON log line that `match` accepts and returns it;
   * the timeout error names `what` and quotes the last lines.
   */
  waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /**
   * A positive marker before an absence check: sends the app a request it logs (a 404 with a
   * fresh `x-request-id`) and waits for that log line. The app writes its log in order, so
   * every line it wrote before, for requests that already finished, is in `logs()` now.
   */
  logBarrier(): Promise<void>;
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
export function builtEntry(app: AppName, root: string = ROOT): string {
  const file = join(root, 'dist', 'apps', app, 'main.js');
  if (!existsSync(file)) {
    throw new Error(
      `${file} is missing: run \`npm run build\` (or \`npx nest build ${app}\`) first`,
    );
  }
  return file;
}

/**
 * A port that was free a moment ago (listen on 0, read it, close).
 *
 * @deprecated Racy: another process can take the port between the check and its use. Let the
 * serving process listen on 0 and report its port, use `pickPort()` (from `./ports`) and
 * retry on EADDRINUSE, or `holdClosedPort()` for an address that must refuse connections.
 */
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
  const root = options.root ?? ROOT;
  const registry = root === ROOT ? REGISTRY : loadRegistry(root);
  const everyApp = registry.services.map((service) => service.name);
  const gatewayName = registry.gateway().name;
  const wanted = new Set(options.apps ?? everyApp);
  const unknown = [...wanted].filter((app) => !everyApp.includes(app));
  if (unknown.length > 0) {
    throw new Error(`not in ${join(root, 'services.json')}: ${unknown.join(', ')}`);
  }
  const apps = everyApp.filter((app) => wanted.has(app));
  for (const app of apps) {
    builtEntry(app, root);
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'keel-platform-'));
  // Apps left out: their URL refuses connections for as long as this platform runs.
  let closed: ClosedPort | undefined;
  if (apps.length < everyApp.length) {
    closed = await holdClosedPort();
  }
  /** The port each app listens on (0 until a PORT=0 app has reported its port). */
  const ports: Record<AppName, number> = {};
  const url = (app: AppName): string =>
    wanted.has(app) ? `http://127.0.0.1:${ports[app]}` : closed!.url();

  let database: TestDatabase | undefined;
  if (options.database === 'postgres') {
    const adminUrl = process.env.DATABASE_URL;
    if (!adminUrl) {
      rmSync(dataDir, { recursive: true, force: true });
      await closed?.release();
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
        // Another copy's registry, for the apps that read it at run time (the gateway's
        // routes); each app's own entry is the one built into it.
        KEEL_SERVICES_FILE: root === ROOT ? undefined : join(root, 'services.json'),
        // `<ENV_STEM>_URL` of every app of the registry (AUTH_SERVICE_URL, …).
        ...Object.fromEntries(
          registry.services.map((service) => [`${service.envStem}_URL`, url(service.name)]),
        ),
        DATABASE_URL: database?.url,
        REDIS_KEY_PREFIX: redisKeyPrefix(),
      },
      options.env,
      options.appEnv?.[app],
    );
    return Object.fromEntries(
      Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
  };
  /** Whether the app will write its `listening on` line (info level, the default). */
  const reportsPort = (app: AppName): boolean => {
    const level = options.appEnv?.[app]?.LOG_LEVEL ?? options.env?.LOG_LEVEL ?? 'info';
    return ['info', 'debug', 'trace'].includes(level);
  };

  const started: Record<AppName, StartedApp> = {};
  const timeoutMs = options.startTimeoutMs ?? 20_000;
  const startOne = async (app: AppName): Promise<StartedApp> => {
    const handle = spawnApp(app, envFor(app), root);
    started[app] = handle;
    const port = await waitUntilListening(handle, ports[app], timeoutMs);
    ports[app] = port;
    handle.port = port;
    handle.url = `http://127.0.0.1:${port}`;
    return handle;
  };

  const stopAll = async (): Promise<void> => {
    if (started[gatewayName]) {
      await started[gatewayName].stop();
    }
    await Promise.all(Object.values(started).map((app) => app.stop()));
    rmSync(dataDir, { recursive: true, force: true });
    await closed?.release();
    await database?.drop();
  };

  /**
   * Starts `group` together: an app gets a picked port when `picked(app)` (another app must
   * know it before it starts, or it will not log its port), else port 0. When a picked port
   * turns out taken, the whole group starts again on new ones (they may know each other's).
   */
  const startGroup = async (group: AppName[], picked: (app: AppName) => boolean) => {
    for (let attempt = 1; ; attempt += 1) {
      for (const app of group) {
        ports[app] = picked(app) ? pickPort() : 0;
      }
      const results = await Promise.allSettled(group.map(startOne));
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length === 0) {
        return;
      }
      if (!failed.every((r) => r.reason instanceof PortTakenError) || attempt === 5) {
        throw failed[0].reason;
      }
      await Promise.all(group.map((app) => started[app]?.stop()));
      group.forEach((app) => delete started[app]);
    }
  };

  try {
    // Upstreams first, so the gateway finds them listening. Services may call each other
    // (auth-service and users-service do), so when several run they all need their ports
    // before any starts.
    const upstreams = apps.filter((app) => app !== gatewayName);
    await startGroup(upstreams, (app) => upstreams.length > 1 || !reportsPort(app));
    if (wanted.has(gatewayName)) {
      await startGroup([gatewayName], (app) => !reportsPort(app));
    }
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }

  return {
    apps: started,
    gatewayUrl: url(gatewayName),
    dataDir,
    databaseUrl: database?.url,
    async restart(name) {
      // Same port: the other apps and the test know this one by its URL.
      await started[name]?.stop();
      return startOne(name);
    },
    stop: stopAll,
  };
}

/** An app could not bind its port (another process holds it). */
class PortTakenError extends Error {}

type MutableApp = StartedApp & { port: number; url: string };

function spawnApp(name: AppName, env: NodeJS.ProcessEnv, root: string): MutableApp {
  const child = spawn(process.execPath, [builtEntry(name, root)], {
    cwd: root,
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
  // `close`, not `exit`: only then have stdout and stderr delivered their last lines.
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      live.delete(child);
      resolve(code);
    });
  });
  const jsonLogs = (): Record<string, unknown>[] => lines.flatMap(parseJsonLine);

  const app: MutableApp = {
    name,
    port: 0,
    url: '',
    exited,
    logs: () => [...lines],
    jsonLogs,
    waitForLog(match, what, timeoutMs = 10_000) {
      return waitFor(() => jsonLogs().find(match), {
        what: `${name} to log ${what}`,
        timeout: timeoutMs,
        describe: () => `last lines of ${name}:\n${tail(app, 10)}`,
      });
    },
    async logBarrier() {
      const requestId = `log-barrier-${randomUUID()}`;
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(
          `${app.url}/__log-barrier`,
          { headers: { 'x-request-id': requestId } },
          (res) => {
            res.resume();
            res.once('end', resolve);
          },
        );
        req.once('error', reject);
        req.end();
      });
      await app.waitForLog((line) => line.requestId === requestId, `its barrier ${requestId}`);
    },
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
  return app;
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

const LISTENING = /listening on https?:\/\/(?:\[[^\]]*\]|[^\s":/]+):(\d+)/;

/**
 * Resolves with the port the app listens on: from its `listening on http://…:<port>` line
 * (PORT=0), or, for an app given its port, once that port answers HTTP. Fails with the app's
 * output when it exits first (a `PortTakenError` when its port was taken) or stalls.
 */
async function waitUntilListening(
  app: StartedApp,
  port: number,
  timeoutMs: number,
): Promise<number> {
  let exitCode: number | null | undefined;
  void app.exited.then((code) => {
    exitCode = code;
  });
  try {
    return await waitFor(
      async () => {
        if (exitCode !== undefined) {
          const output = tail(app);
          const message = `${app.name} exited (code ${exitCode}) before listening:\n${output}`;
          throw Object.assign(
            saysAddressInUse(output) ? new PortTakenError(message) : new Error(message),
            { final: true },
          );
        }
        const reported = app
          .logs()
          .map((line) => LISTENING.exec(line)?.[1])
          .find(Boolean);
        if (reported) {
          return Number(reported);
        }
        if (port !== 0 && (await answers(`http://127.0.0.1:${port}/health/live`))) {
          return port;
        }
        return undefined;
      },
      { what: `${app.name} to listen`, timeout: timeoutMs, interval: 50, rethrow: isFinal },
    );
  } catch (error) {
    if (!isFinal(error)) {
      await app.stop('SIGKILL');
      throw new Error(`${app.name} did not listen within ${timeoutMs} ms:\n${tail(app)}`);
    }
    throw error;
  }
}

function isFinal(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { final?: boolean }).final === true
  );
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

function tail(app: StartedApp, lines = 40): string {
  return app.logs().slice(-lines).join('\n') || '(no output)';
}
