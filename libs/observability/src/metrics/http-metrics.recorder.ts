import { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Injectable, type OnApplicationBootstrap, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type Gauge } from 'prom-client';
import { CHAOS_HEADER, isOperationalPath, RequestContext, routeTemplate } from '@keel/platform';
import { AdmissionControl } from '../admission/admission-control.service';
import { writeRefusal } from '../admission/refusal-response';
import { AccessLog } from '../logging/access-log';
import { resolveRequestId } from '../logging/request-id';
import { activeTraceIds } from '../tracing/trace-ids';
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
 * interceptor or middleware: admission control (load shedding), HTTP server metrics and the
 * access log. Every response is counted and logged: those ended by guards, pipes, filters,
 * body-parser errors, 404s, 429s and refusals. One `close` listener per request does all
 * three; the route is read when the response closes, once Express has matched it.
 *
 * A request past the process's capacity ({@link AdmissionControl}) is answered 503 here and
 * never reaches Express: refusing must stay much cheaper than serving, or an overloaded
 * process spends its time refusing while the kernel queues the rest. Its route label is
 * `unmatched` (it was never routed). Operational routes (`/metrics`, `/health/*`) are never
 * refused, and left out of metrics and access log so scrapes and probes do not dilute
 * request rates and error ratios, nor fill the log.
 */
@Injectable()
export class HttpMetricsRecorder implements OnApplicationBootstrap {
  private readonly duration: DurationHistogram<'method' | 'route' | 'status_code'>;
  private readonly inFlight: Gauge;
  private server: Server | undefined;
  /** The server's own `request` listeners (Express), called for admitted requests. */
  private downstream: RequestListener[] = [];
  private readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    const requestId = this.track(req, res);
    if (requestId === undefined) {
      return;
    }
    // The request's context (request id, chaos header) for everything serving it: entered
    // here rather than in a Nest middleware, which cost an Express layer per request.
    const chaos = req.headers[CHAOS_HEADER];
    RequestContext.run(typeof chaos === 'string' ? { requestId, chaos } : { requestId }, () => {
      for (const next of this.downstream) {
        next.call(this.server, req, res);
      }
    });
  };

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
    server.removeAllListeners('request');
    server.on('request', this.listener);
    this.server = server;
  }

  /**
   * Observes a request and returns its id (resolved and echoed on the response before any
   * handler can fail), or `undefined` when it was refused and answered here.
   */
  private track(req: IncomingMessage, res: ServerResponse): string | undefined {
    const requestId = resolveRequestId(req, res);
    if (isOperationalPath(req.url)) {
      return requestId;
    }
    const start = process.hrtime.bigint();
    // Captured now, inside the server span; the close event may run outside it.
    const ids = activeTraceIds();
    const exemplar = ids ? { trace_id: ids.traceId, span_id: ids.spanId } : undefined;
    const admission = this.admission;
    const refusal = admission?.tryAdmit();
    this.inFlight.inc();
    res.once('close', () => {
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
