import { type Instrumentation } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { NestInstrumentation } from '@opentelemetry/instrumentation-nestjs-core';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { isDispatchWithOwnSpan } from './http-client-spans';
import { type InstrumentationName } from './tracing-settings';
import { TypeormSqliteInstrumentation } from './typeorm-sqlite.instrumentation';

/**
 * The instrumentations every app runs. `http` makes client spans only; its name also switches
 * Keel's server spans (see `startTracing`). Deliberately absent: express (its middleware-layer
 * spans cost CPU and say nothing nestjs-core's `Controller.handler` span does not) and fs/dns/net.
 * Client-side instrumentations require a parent span, so start-up work (migrations, JWKS
 * warm-up) does not produce stray one-span traces. None records headers or bodies.
 */
export function createInstrumentations(
  disabled: readonly InstrumentationName[] = [],
): Instrumentation[] {
  const factories: Record<InstrumentationName, () => Instrumentation> = {
    http: () =>
      new HttpInstrumentation({
        // Server spans are Keel's own (HttpServerSpans, started by the request listener in
        // front of Express): instrumentation-http's wrapped emit, bound every req/res listener
        // and parsed the URL per request, a large share of each app's CPU in profiles.
        disableIncomingRequestInstrumentation: true,
        requireParentforOutgoingSpans: true,
      }),
    undici: () =>
      new UndiciInstrumentation({
        requireParentforSpans: true,
        // Calls whose caller makes its own client span (the gateway's proxy).
        ignoreRequestHook: () => isDispatchWithOwnSpan(),
      }),
    'nestjs-core': () => new NestInstrumentation(),
    // No `pg.connect`/`pg-pool.connect` spans: TypeORM checks a connection out of the pool for
    // every query, so they doubled the database spans of a request; pool waits show in
    // `db_pool_connections{state="waiting"}`.
    pg: () =>
      new PgInstrumentation({
        requireParentSpan: true,
        enhancedDatabaseReporting: false,
        ignoreConnectSpans: true,
      }),
    ioredis: () =>
      new IORedisInstrumentation({
        requireParentSpan: true,
        // Keys and values can hold e-mail addresses (login limiter) or cached profiles.
        dbStatementSerializer: (command) => command,
      }),
    'typeorm-sqlite': () => new TypeormSqliteInstrumentation({ requireParentSpan: true }),
  };
  return (Object.keys(factories) as InstrumentationName[])
    .filter((name) => !disabled.includes(name))
    .map((name) => factories[name]());
}
