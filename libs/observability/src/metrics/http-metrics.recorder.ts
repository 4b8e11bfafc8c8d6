import { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Injectable, type OnApplicationBootstrap, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type Span } from '@opentelemetry/api';
import { type Gauge } from 'prom-client';
import { CHAOS_HEADER, isOperationalPath, RequestContext, routeTemplate } from '@keel/platform';
import { AdmissionControl } from '../admission/admission-control.service';
import { writeRefusal } from '../admission/refusal-response';
import { AccessLog } from '../logging/access-log';
import { resolveRequestId } from '../logging/request-id';
import { httpServerSpans, type HttpServerSpans } from '../tracing/http-server-spans';
import { traceIdsOf } from '../tracing/trace-ids';
import { type DurationHistogram } from './duration-histogram';
import { MetricsService } from './metrics.service';
import { CLIENT_CLOSED_STATUS, UNMATCHED_ROUTE } from './metrics.constants';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** The `route` label of `req`: its template ({@link routeTemplate}) or `unmatched`. */
export function routeLabel(req: IncomingMessage): string {
  return routeTemplate(req) ?? UNMATCHED_ROUTE;
}

/**
 * The first code every request meets, on the server's `request` event rather than in a Nest
 * interceptor or middleware: the server span ({@link HttpServerSpans}, when tracing runs),
 * admission control (load shedding), HTTP server metrics and the access log. Every response
 * is traced, counted and logged: those ended by guards, pipes, filters, body-parser errors,
 * 404s, 429s and refusals. One `close` listener per request does all four; the route is read
 * when the response closes, once Express has matched it.
 *
 * A request past the process's capacity ({@link AdmissionControl}) is answered 503 here and
 * never reaches Express: refusing must stay much cheaper than serving, or an overloaded
 * process spends its time refusing while the kernel queues the rest. Its route label is
 * `unmatched` (it was never routed). Operational routes (`/metrics`, `/health/*`) are never
 * refused, and left out of traces, metrics and access log so scrapes and probes do not
 * dilute request rates and error ratios, nor fill the log.
 */
@Injectable()
export class HttpMetricsRecorder implements OnApplicationBootstrap {
  private readonly duration: DurationHistogram<'method' | 'route' | 'status_code'>;
  private readonly inFlight: Gauge;
  private server: Server | undefined;
  /** The server's own `request` listeners (Express), called for admitted requests. */
  private downstream: RequestListener[] = [];
  /** Keel's server spans, when the tracing SDK runs with `http` enabled. */
  private spans: HttpServerSpans | undefined;
  private readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    if (isOperationalPath(req.url)) {
      this.serve(req, res, undefined, true);
    } else if (this.spans) {
      // Before admission, metrics and the access log: refusals, 404s and 429s get the span
      // too, and their exemplar and log line carry its ids.
      this.spans.run(req, res, this.serveInSpan, this);
    } else {
      this.serve(req, res, undefined, false);
    }
  };
  private readonly serveInSpan = (req: IncomingMessage, res: ServerResponse, span: Span): void =>
    this.serve(req, res, span, false);

  constructor(
    metrics: MetricsService,
    private readonly adapterHost: HttpAdapterHost,
    @Optional() private readonly accessLog?: AccessLog,
    @Optional() private readonly admission?: AdmissionControl,
  ) {
    this.duration = metrics.histogram({
      name: 'http_server_request_duration_seconds',
      help: 'Duration of HTTP requests served, by route template and status.',
      labelNames: ['method', 'route', 'status_code'],
    });
    this.inFlight = metrics.gauge({
      name: 'http_server_requests_in_flight',
      help: 'HTTP requests being served right now.',
    });
  }

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server || typeof server.listeners !== 'function' || this.server === server) {
      return;
    }
    const downstream = server.listeners('request') as RequestListener[];
    if (downstream.length === 0) {
      return; // nothing to stand in front of (no HTTP handler yet): observe nothing
    }
    // In front of Express, so the clock starts before it does any work and a refused request
    // costs it nothing. It stays through shutdown: requests served while the app drains keep
    // their context, metrics, access line and admission.
    this.downstream = downstream;
    this.spans = httpServerSpans();
    server.removeAllListeners('request');
    server.on('request', this.listener);
    this.server = server;
  }

  /**
   * Serves an admitted request inside its context (request id, chaos header), entered here
   * rather than in a Nest middleware, which cost an Express layer per request; a refused one
   * was answered by {@link track}.
   */
  private serve(
    req: IncomingMessage,
    res: ServerResponse,
    span: Span | undefined,
    operational: boolean,
  ): void {
    const requestId = operational ? resolveRequestId(req, res) : this.track(req, res, span);
    if (requestId === undefined) {
      return;
    }
    const chaos = req.headers[CHAOS_HEADER];
    RequestContext.run(typeof chaos === 'string' ? { requestId, chaos } : { requestId }, () => {
      for (const next of this.downstream) {
        next.call(this.server, req, res);
      }
    });
  }

  /**
   * Observes a business request and returns its id (resolved and echoed on the response
   * before any handler can fail), or `undefined` when it was refused and answered here. The
   * one `close` listener ends the server span, then counts and logs the request.
   */
  private track(
    req: IncomingMessage,
    res: ServerResponse,
    span: Span | undefined,
  ): string | undefined {
    const requestId = resolveRequestId(req, res);
    const start = process.hrtime.bigint();
    // Taken from the span now: the close event may run outside its context.
    const ids = traceIdsOf(span);
    const exemplar = ids ? { trace_id: ids.traceId, span_id: ids.spanId } : undefined;
    const admission = this.admission;
    const refusal = admission?.tryAdmit();
    const spans = this.spans;
    this.inFlight.inc();
    res.once('close', () => {
      if (span && spans) {
        spans.end(span, req, res);
      }
      if (admission && !refusal) {
        admission.release();
      }
      this.inFlight.dec();
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      this.duration.observe(
        {
          method: req.method ?? 'UNKNOWN',
          route: routeLabel(req),
          status_code: res.writableFinished ? String(res.statusCode) : CLIENT_CLOSED_STATUS,
        },
        seconds,
        exemplar,
      );
      this.accessLog?.write(req, res, requestId, ids, seconds * 1000);
    });
    if (refusal) {
      writeRefusal(res, refusal, requestId, ids?.traceId ?? '');
      return undefined;
    }
    return requestId;
  }
}
