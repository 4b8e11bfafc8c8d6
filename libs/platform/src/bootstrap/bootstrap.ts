import { type Server } from 'node:http';
import { type DynamicModule, type INestApplication, Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { type BaseConfig } from '../config/base-config';
import { configureApp } from './configure-app';
import { processShutdown, type ShutdownOwner } from './shutdown';

/**
 * Token of an optional provider told when the process starts draining, so that readiness
 * can turn 503 before the server stops (`@keel/observability` provides it).
 */
export const DRAIN_LISTENER = Symbol.for('keel.drain-listener');

/** Told once, on the first shutdown signal, before anything closes. */
export interface DrainListener {
  onDrainStart(): void;
}

export interface DrainOptions {
  /**
   * How long to keep accepting requests after readiness turned 503, so load balancers stop
   * routing here first, ms. Default 0: Kubernetes manifests get the same from a `preStop`
   * sleep.
   */
  delayMs?: number;
  /**
   * Upper bound for in-flight requests to finish, ms (default 5 000). Kept below the
   * shutdown's deadline so the app still closes and the last requests' spans are exported.
   */
  timeoutMs?: number;
}

export interface BootstrapOptions {
  drain?: DrainOptions;
  /** The process's shutdown owner; by default the one `instrument.ts` installed. */
  shutdown?: ShutdownOwner;
}

/**
 * Creates, configures and starts an app; `main.ts` is this one call, with the configuration
 * `instrument.ts` already read. The shutdown's signal handlers exist before the app does.
 */
export async function bootstrap(
  rootModule: DynamicModule,
  config: BaseConfig,
  options: BootstrapOptions = {},
): Promise<NestExpressApplication> {
  const shutdown = options.shutdown ?? processShutdown();
  const app = await NestFactory.create<NestExpressApplication>(rootModule, {
    bufferLogs: true,
    bodyParser: false,
  });
  configureApp(app, config);
  for (const name of config.publishedSecrets) {
    app
      .get(Logger)
      .warn(
        `${name} is a value published in the repository (a development default): fine for ` +
          'development, refused when NODE_ENV=production',
        'Bootstrap',
      );
  }
  installGracefulDrain(app, options.drain, shutdown);
  await app.listen(config.port, config.host);
  app.get(Logger).log(`${config.app} listening on ${await app.getUrl()}`, 'Bootstrap');
  return app;
}

/**
 * Registers the app's part of the process's one shutdown ({@link ShutdownOwner}): in the
 * `drain` phase readiness turns 503, the server stops accepting and the requests in flight
 * finish (bounded); in the `close` phase the app closes (Nest's shutdown hooks: database,
 * Redis, clients). Telemetry flushes after both, in the owner's `flush` phase.
 *
 * Returns a function that runs the drain and the close without a signal (for tests) and
 * resolves when the app is closed.
 */
export function installGracefulDrain(
  app: INestApplication,
  options: DrainOptions = {},
  shutdown: Pick<ShutdownOwner, 'add'> = processShutdown(),
): () => Promise<void> {
  const server = app.getHttpServer() as Server;
  const logger = new NestLogger('Shutdown');
  let active = 0;
  let idle: (() => void) | undefined;
  server.on('request', (_req, res) => {
    active += 1;
    res.once('close', () => {
      active -= 1;
      if (active === 0) {
        idle?.();
      }
    });
  });

  let draining: Promise<void> | undefined;
  const drain = (): Promise<void> => {
    draining ??= (async () => {
      logger.log(`draining: ${active} request(s) in flight`);
      listenerOf(app)?.onDrainStart();
      if (options.delayMs) {
        await sleep(options.delayMs);
      }
      server.close();
      const finished = await new Promise<boolean>((resolve) => {
        if (active === 0) {
          resolve(true);
          return;
        }
        const timer = setTimeout(() => resolve(false), options.timeoutMs ?? 5_000);
        idle = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      if (!finished) {
        logger.warn(`drain timed out with ${active} request(s) in flight`);
      }
      // Idle keep-alive sockets would otherwise hold the server open until they time out.
      server.closeAllConnections();
    })();
    return draining;
  };
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= app.close());

  shutdown.add('drain', drain);
  shutdown.add('close', close);
  return () => drain().then(close);
}

function listenerOf(app: INestApplication): DrainListener | undefined {
  try {
    return app.get<DrainListener>(DRAIN_LISTENER, { strict: false });
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `main`, turning a configuration error into a one-line message and exit code 1
 * instead of a stack trace.
 */
export function runMain(main: () => Promise<unknown>): void {
  main().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`Fatal: ${message}\n`);
    process.exit(1);
  });
}
