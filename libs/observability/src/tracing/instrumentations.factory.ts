import { type IncomingMessage } from 'node:http';
import { type Span } from '@opentelemetry/api';
import { type Instrumentation } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { NestInstrumentation } from '@opentelemetry/instrumentation-nestjs-core';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { isOperationalPath } from '@keel/platform/http/operational-path';
import { routeTemplate } from '@keel/platform/http/route-template';
import { type InstrumentationName } from './tracing-settings';
import { TypeormSqliteInstrumentation } from './typeorm-sqlite.instrumentation';

/**
 * Names the server span after the matched route template (`POST /orders/:id`) once Express
 * has routed the request, so Jaeger lists operations rather than one `POST` for everything.
 */
function nameServerSpan(span: Span, request: IncomingMessage | object): void {
  const route = routeTemplate(request);
  const method = (request as { method?: unknown }).method;
  if (route !== undefined && typeof method === 'string') {
    span.setAttribute('http.route', route);
    span.updateName(`${method} ${route}`);
  }
}

/**
 * The instrumentations every app runs. Deliberately absent: express (its middleware-layer
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
        ignoreIncomingRequestHook: (request) => isOperationalPath(request.url),
        requireParentforOutgoingSpans: true,
        applyCustomAttributesOnSpan: (span, request) => nameServerSpan(span, request),
      }),
    undici: () => new UndiciInstrumentation({ requireParentforSpans: true }),
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
