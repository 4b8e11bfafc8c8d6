import { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type Gauge } from 'prom-client';
import { isOperationalPath, routeTemplate } from '@keel/platform';
import { currentExemplar, type DurationHistogram } from './duration-histogram';
import { MetricsService } from './metrics.service';
import { CLIENT_CLOSED_STATUS, UNMATCHED_ROUTE } from './metrics.constants';

/** The `route` label of `req`: its template ({@link routeTemplate}) or `unmatched`. */
export function routeLabel(req: IncomingMessage): string {
  return routeTemplate(req) ?? UNMATCHED_ROUTE;
}

/**
 * HTTP server metrics from the server's `request` event rather than a Nest interceptor or
 * middleware, so that every response is counted: those ended by guards, pipes, filters,
 * body-parser errors, 404s and 429s. The route is read when the response closes, once Express
 * has matched it. Operational routes (`/metrics`, `/health/*`) are left out so scrapes and
 * probes do not dilute request rates and error ratios.
 */
@Injectable()
export class HttpMetricsRecorder implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly duration: DurationHistogram<'method' | 'route' | 'status_code'>;
  private readonly inFlight: Gauge;
  private server: Server | undefined;
  private readonly listener = (req: IncomingMessage, res: ServerResponse): void =>
    this.track(req, res);

  constructor(
    metrics: MetricsService,
    private readonly adapterHost: HttpAdapterHost,
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
    if (server && typeof server.prependListener === 'function') {
      // First listener, so the clock starts before Express does any work.
      server.prependListener('request', this.listener);
      this.server = server;
    }
  }

  onModuleDestroy(): void {
    this.server?.removeListener('request', this.listener);
  }

  private track(req: IncomingMessage, res: ServerResponse): void {
    if (isOperationalPath(req.url)) {
      return;
    }
    const start = process.hrtime.bigint();
    // Captured now, inside the server span; the close event may run outside it.
    const exemplar = currentExemplar();
    this.inFlight.inc();
    res.once('close', () => {
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
    });
  }
}
