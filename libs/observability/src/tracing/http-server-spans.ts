import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type TLSSocket } from 'node:tls';
import {
  type Attributes,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from '@opentelemetry/api';
// Deep import: this file is loaded by the tracing SDK, before http and express are hooked.
import { routeTemplate } from '@keel/platform/http/route-template';

/** Instrumentation scope of the server spans. */
export const HTTP_SERVER_TRACER_NAME = '@keel/observability/http-server';

/**
 * `error.type` of a server span whose response never finished: the client hung up (or the
 * connection was destroyed mid-answer), the `499` of the duration metric.
 */
export const CLIENT_CLOSED_ERROR = 'client_closed';

/** Methods the HTTP semantic conventions know; any other is recorded as `_OTHER`. */
const KNOWN_METHODS = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'QUERY',
  'TRACE',
]);

/** What runs inside the request's server span (the rest of the request). */
export type ServeInSpan<T> = (
  this: T,
  req: IncomingMessage,
  res: ServerResponse,
  span: Span,
) => void;

/**
 * The method as the semantic conventions spell it in the span name: `HTTP` for a method they
 * do not know, so that a client inventing methods cannot invent operation names.
 */
function nameMethod(method: string | undefined): string {
  return method !== undefined && KNOWN_METHODS.has(method) ? method : 'HTTP';
}

/**
 * Start-time attributes: the cheap stable HTTP server conventions, read off the request
 * without parsing its URL. No headers beyond Host and User-Agent, no body. `url.query` is
 * kept as instrumentation-http kept it (in `http.target`); the exporter redacts sensitive
 * parameters in it.
 */
function requestAttributes(req: IncomingMessage, method: string | undefined): Attributes {
  const url = req.url ?? '/';
  const queryAt = url.indexOf('?');
  const socket = req.socket as Partial<TLSSocket> | null;
  const attributes: Attributes = {
    'http.request.method': method !== undefined && KNOWN_METHODS.has(method) ? method : '_OTHER',
    'url.path': queryAt === -1 ? url : url.slice(0, queryAt),
    'url.scheme': socket?.encrypted === true ? 'https' : 'http',
    'network.protocol.version': req.httpVersion,
  };
  if (queryAt !== -1) {
    attributes['url.query'] = url.slice(queryAt + 1);
  }
  if (attributes['http.request.method'] === '_OTHER' && method !== undefined) {
    attributes['http.request.method_original'] = method;
  }
  const host = req.headers.host;
  if (host) {
    // `name:port`, `[v6]:port`, or without a port.
    const colon = host.lastIndexOf(':');
    const withPort = colon > host.lastIndexOf(']');
    const address = withPort ? host.slice(0, colon) : host;
    attributes['server.address'] =
      address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
    const port = withPort ? Number(host.slice(colon + 1)) : NaN;
    if (Number.isInteger(port)) {
      attributes['server.port'] = port;
    }
  }
  const peer = socket?.remoteAddress;
  if (peer !== undefined) {
    attributes['network.peer.address'] = peer;
  }
  const userAgent = req.headers['user-agent'];
  if (userAgent !== undefined) {
    attributes['user_agent.original'] = userAgent;
  }
  return attributes;
}

/**
 * Keel's HTTP server span, in place of instrumentation-http's server side: one SERVER span per
 * served request, continuing the W3C trace the request carries, made by the request listener
 * that stands in front of Express (`HttpMetricsRecorder`). instrumentation-http wrapped
 * `emit`, bound every listener added to the request and response to the context, parsed the
 * URL and ran its hooks in guarded wrappers for each request; this does one extract, one
 * `startSpan`, one `context.with` and, at close, a few attributes when the span records.
 */
export class HttpServerSpans {
  constructor(private readonly tracer: Tracer) {}

  /**
   * Starts the server span of `req` as the child of the context its headers carry
   * (`traceparent`/`tracestate`/`baggage`, through the registered propagator), then calls
   * `serve` with the span active. The sampler decides; an unsampled span still carries the
   * trace's ids (logs, exemplars, error bodies) and propagates the decision downstream.
   */
  run<T>(req: IncomingMessage, res: ServerResponse, serve: ServeInSpan<T>, thisArg: T): void {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const method = req.method;
    const span = this.tracer.startSpan(
      nameMethod(method),
      { kind: SpanKind.SERVER, attributes: requestAttributes(req, method) },
      parent,
    );
    context.with(trace.setSpan(parent, span), serve, thisArg, req, res, span);
  }

  /**
   * Ends the span once the response has closed: named `METHOD /route/template` with
   * `http.route` when Express matched a route, `http.response.status_code` when one was sent,
   * status ERROR for a 5xx (a 4xx is the client's error, not the server's), and
   * `error.type=client_closed` when the response never finished. Nothing is computed for a
   * span that does not record.
   */
  end(span: Span, req: IncomingMessage, res: ServerResponse): void {
    if (!span.isRecording()) {
      return; // ending a non-recording span does nothing either
    }
    const route = routeTemplate(req);
    if (route !== undefined) {
      span.setAttribute('http.route', route);
      span.updateName(`${nameMethod(req.method)} ${route}`);
    }
    if (res.headersSent) {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) {
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
    }
    if (!res.writableFinished) {
      span.setAttribute('error.type', CLIENT_CLOSED_ERROR);
    }
    span.end();
  }
}

let installed: HttpServerSpans | undefined;

/**
 * Sets (or, with `undefined`, removes) the process's server spans. The tracing SDK installs
 * them when it starts with the `http` instrumentation enabled; without it (SDK disabled,
 * `OTEL_NODE_DISABLED_INSTRUMENTATIONS=http`) requests are served without any span work.
 */
export function installHttpServerSpans(spans: HttpServerSpans | undefined): void {
  installed = spans;
}

/** The server spans of the process, or `undefined` when requests get none. */
export function httpServerSpans(): HttpServerSpans | undefined {
  return installed;
}
