import { type Server } from 'node:http';
import { type INestApplication } from '@nestjs/common';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { type BaseConfig } from '../config/base-config';

/** Time and size limits of the HTTP server, so slow or bloated clients cannot hold it. */
export interface ServerLimits {
  /** Whole request head must arrive within this (ms); Node's default is 60 s. */
  headersTimeoutMs: number;
  /** Whole request, body included, must arrive within this (ms); Node's default is 300 s. */
  requestTimeoutMs: number;
  /**
   * Idle keep-alive connections close after this (ms); above the 60 s idle timeout of
   * common load balancers, so they never reuse a connection the app is closing.
   */
  keepAliveTimeoutMs: number;
  /** Largest request head in bytes; larger gets 431. */
  maxHeaderSizeBytes: number;
  /** How often Node looks for connections past their timeouts (ms); its default is 30 s. */
  connectionsCheckingIntervalMs: number;
}

export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 65_000,
  maxHeaderSizeBytes: 16 * 1024,
  connectionsCheckingIntervalMs: 1_000,
};

/**
 * Applies the process-level settings that a module cannot: the logger, proxy trust, server
 * time and size limits. Shutdown signals are not Nest's: `bootstrap` registers the app's drain
 * and close with the process's one shutdown owner. Request bodies are parsed by `SecurityModule`
 * (after the security headers), not here. `bootstrap` and the e2e tests both call it, so
 * tests get what production gets.
 */
export function configureApp(
  app: INestApplication,
  config: BaseConfig,
  limits: Partial<ServerLimits> = {},
): NestExpressApplication {
  const expressApp = app as NestExpressApplication;
  expressApp.useLogger(expressApp.get(Logger));
  expressApp.flushLogs();
  expressApp.set('trust proxy', config.trustProxy);
  expressApp.set('x-powered-by', false);
  strictRouting(expressApp);
  applyServerLimits(expressApp.getHttpServer(), { ...DEFAULT_SERVER_LIMITS, ...limits });
  return expressApp;
}

/**
 * One spelling per route: paths match case-sensitively and a trailing slash is another path,
 * so `/ORDERS/42` or `/orders/42/` are 404s instead of reaching a handler
 * past limiters that match on the route (CONTRACT §6). Express reads these settings when it
 * creates its router lazily; the router may already exist, so its flags are set too. Routes
 * are added later (`app.init()`), and each takes the flags the router has then.
 */
function strictRouting(app: NestExpressApplication): void {
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  const router = (app.getHttpAdapter().getInstance() as { router?: RouterFlags }).router;
  if (router) {
    router.caseSensitive = true;
    router.strict = true;
  }
}

interface RouterFlags {
  caseSensitive?: boolean;
  strict?: boolean;
}

/** Sets {@link ServerLimits} on a server that is not listening yet. */
export function applyServerLimits(server: Server, limits: ServerLimits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // Both are read when connections arrive / when listening starts, so setting them on the
  // created server works although Node documents them as constructor options.
  Object.assign(server, {
    maxHeaderSize: limits.maxHeaderSizeBytes,
    connectionsCheckingInterval: limits.connectionsCheckingIntervalMs,
  });
}
