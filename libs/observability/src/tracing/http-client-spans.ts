import {
  type Attributes,
  context,
  isSpanContextValid,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from '@opentelemetry/api';

/** Instrumentation scope of the client spans made by {@link HttpClientSpans}. */
export const HTTP_CLIENT_TRACER_NAME = '@keel/observability/http-client';

/** Where a call goes: the parts of its URL, already known to the caller. */
export interface ClientCallTarget {
  method: string;
  /** `http` or `https`. */
  scheme: string;
  host: string;
  port: number;
  /** Path and query as sent (`/users/42?x=1`). */
  target: string;
}

/**
 * CLIENT spans for a caller that knows its upstream (the gateway's proxy), in place of
 * instrumentation-undici's: that one learns each request from undici's diagnostics channels,
 * parses its URL and its header list, injects the trace headers into it and keeps it in a map
 * until it ends. Here the caller passes what it already has: one `startSpan`, one `inject` into
 * the header object it is building, and at the end a status code. The attributes and name are
 * instrumentation-undici's (`GET`, `http.request.method`, `url.full`, `server.address`, …), so
 * traces look the same, minus its empty and redundant ones. Like it, a span is only made inside a trace (`requireParentforSpans`).
 */
export class HttpClientSpans {
  constructor(private readonly tracer: Tracer) {}

  /**
   * Starts the span of a call about to be made and writes `traceparent`/`tracestate` (the
   * registered propagator's headers) for it into `headers`. `undefined` outside a trace:
   * nothing is injected then, as instrumentation-undici injected nothing either.
   */
  start(call: ClientCallTarget, headers: Record<string, string | string[]>): Span | undefined {
    const parent = context.active();
    const parentSpan = trace.getSpan(parent);
    if (parentSpan === undefined || !isSpanContextValid(parentSpan.spanContext())) {
      return undefined;
    }
    const queryAt = call.target.indexOf('?');
    const attributes: Attributes = {
      'http.request.method': call.method,
      'url.full': `${call.scheme}://${call.host}:${call.port}${call.target}`,
      'url.path': queryAt === -1 ? call.target : call.target.slice(0, queryAt),
      'url.scheme': call.scheme,
      'server.address': call.host,
      'server.port': call.port,
    };
    // Only when there is one (instrumentation-undici wrote an empty `url.query`, and a
    // `http.request.method_original` equal to the method, which the conventions ask for only
    // when the method was normalised: the proxy sends known methods only).
    if (queryAt !== -1) {
      attributes['url.query'] = call.target.slice(queryAt);
    }
    const span = this.tracer.startSpan(call.method, { kind: SpanKind.CLIENT, attributes }, parent);
    propagation.inject(trace.setSpan(parent, span), headers);
    return span;
  }

  /** Ends a call that was answered: status ERROR from 400 on, as instrumentation-undici. */
  answered(span: Span | undefined, statusCode: number): void {
    if (span === undefined) {
      return;
    }
    span.setAttribute('http.response.status_code', statusCode);
    if (statusCode >= 400) {
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }

  /** Ends a call that got no answer (refused, timed out, cancelled). */
  failed(span: Span | undefined, error: unknown): void {
    if (span === undefined) {
      return;
    }
    if (error instanceof Error) {
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    } else {
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }
}

let installed: HttpClientSpans | undefined;
let owning = false;

/**
 * Sets (or removes) the process's client spans. The tracing SDK installs them when it starts
 * with the `undici` instrumentation enabled, so `OTEL_NODE_DISABLED_INSTRUMENTATIONS=undici`
 * turns these off too.
 */
export function installHttpClientSpans(spans: HttpClientSpans | undefined): void {
  installed = spans;
}

/** The process's client spans, or `undefined` when calls get none. */
export function httpClientSpans(): HttpClientSpans | undefined {
  return installed;
}

/**
 * Runs `dispatch`, a synchronous call that creates an undici request, so that
 * instrumentation-undici leaves that request alone: its caller makes the span itself. undici
 * announces a request on its diagnostics channel when a client takes it, which is inside
 * `dispatch()` for a Client or a Pool without a `connections` cap (a capped pool may queue it and
 * announce it later, outside the flag): the flag is exact for those.
 */
export function dispatchWithOwnSpan<T>(dispatch: () => T): T {
  owning = true;
  try {
    return dispatch();
  } finally {
    owning = false;
  }
}

/** instrumentation-undici's `ignoreRequestHook`: true for a request made in {@link dispatchWithOwnSpan}. */
export function isDispatchWithOwnSpan(): boolean {
  return owning;
}
