import { type IncomingMessage, type ServerResponse } from 'node:http';
import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Inject,
  Logger,
  Optional,
} from '@nestjs/common';
import { DomainException, RequestContext } from '@keel/platform';
import type { Event, Scope } from '@sentry/nestjs';
import { type Request } from 'express';
import {
  isOperationalPath,
  REQUEST_ID_HEADER,
  RETRY_AFTER_HEADER,
  routeTemplate,
  UNMATCHED_ROUTE,
} from '@keel/platform';
import { resolveRequestId } from '../logging/request-id';
import { type ObservabilityModuleOptions } from '../observability-options.interface';
import { OBSERVABILITY_OPTIONS } from '../observability.module-definition';
import { ServiceOverloadedException } from '../admission/service-overloaded.exception';
import { activeTraceIds } from '../tracing/trace-ids';
import { type ErrorBody, errorBody, statusText } from './error-body';
import { loadedSentrySdk } from './sentry-start';

/** What the filter decided about an exception, before it answers. */
export interface ResolvedError {
  status: number;
  message: string;
  /** The exception is a server fault (5xx or unknown) and must be reported. */
  isServerError: boolean;
}

/**
 * The catch-all filter: every error of every route, guard, pipe, body parser and 404
 * becomes the contract's body. 5xx answer a fixed message; their detail goes to the log
 * (and, through {@link AllExceptionsFilter.report}, to error reporting), never the client.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ExceptionsFilter');

  constructor(
    @Optional() @Inject(OBSERVABILITY_OPTIONS) options?: Pick<ObservabilityModuleOptions, 'sentry'>,
  ) {
    if (options?.sentry?.dsn && !loadedSentrySdk()?.sentryEnabled()) {
      // The app's config has a DSN, but the instrument entry did not start Sentry.
      this.logger.warn(
        'SENTRY_DSN is set but Sentry is not running: main.ts must import ./instrument first',
      );
    }
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<IncomingMessage>();
    const res = http.getResponse<ServerResponse>();
    const resolved = this.resolve(exception);
    const body = errorBody(
      resolved.status,
      resolved.message,
      resolveRequestId(req, res),
      activeTraceIds()?.traceId,
    );
    const overloaded = exception instanceof ServiceOverloadedException;
    if (resolved.isServerError && !overloaded) {
      this.logger.error(
        { err: exception, requestId: body.requestId, trace_id: body.traceId || undefined },
        'unhandled error',
      );
      this.report(exception, host, body);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.statusCode = resolved.status;
    if (overloaded) {
      res.setHeader(RETRY_AFTER_HEADER, String(exception.retryAfterSeconds));
    }
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(body));
  }

  /** Maps any thrown value to a status and a client-safe message. */
  protected resolve(exception: unknown): ResolvedError {
    if (exception instanceof DomainException) {
      return this.fromStatus(exception.status, exception.message);
    }
    if (exception instanceof HttpException) {
      return this.fromStatus(exception.getStatus(), messageOf(exception));
    }
    // http-errors from body-parser and friends: `expose` marks a client error safe to show.
    const candidate = exception as { status?: unknown; expose?: unknown; type?: unknown };
    if (
      typeof candidate?.status === 'number' &&
      candidate.status >= 400 &&
      candidate.status < 500
    ) {
      return this.fromStatus(
        candidate.status,
        clientErrorMessage(candidate.status, candidate.type),
      );
    }
    return {
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      message: 'Internal server error',
      isServerError: true,
    };
  }

  /**
   * Reports a server error to Sentry (when started) with the request's correlation: tags
   * `request_id`, `trace_id`, `route` (the template), `method`, `status_code`, `user.id` when
   * authenticated, and a trace context holding the OpenTelemetry ids, so that the event
   * links to the trace. `service`, environment and release come from the SDK's initial scope.
   * Everything is attached to this one event, never to a shared scope. Operational routes
   * (`/health/*`, `/metrics`) are not reported: a failing readiness check is a state that
   * probes and alerts watch, not a code fault.
   */
  protected report(exception: unknown, host: ArgumentsHost, body: ErrorBody): void {
    const req = host.switchToHttp().getRequest<Request>();
    const sentry = loadedSentrySdk();
    if (!sentry?.sentryEnabled() || isOperationalPath(req.url)) {
      return;
    }
    const ids = activeTraceIds();
    const userId = RequestContext.current()?.userId;
    const route = routeTemplate(req) ?? UNMATCHED_ROUTE;
    const tags: Record<string, string> = {
      request_id: body.requestId,
      route,
      method: req.method,
      status_code: String(body.statusCode),
    };
    if (ids) {
      tags.trace_id = ids.traceId;
    }
    sentry.captureException(exception, {
      mechanism: { type: 'auto.http.keel.exception_filter', handled: false },
      captureContext: (scope: Scope) => {
        scope.setTags(tags);
        if (userId) {
          scope.setUser({ id: userId });
        }
        scope.addEventProcessor((event: Event) => {
          // Only what identifies the request: no body, no cookies, no query string.
          event.request = {
            method: req.method,
            url: req.originalUrl.split('?')[0],
            headers: { [REQUEST_ID_HEADER]: body.requestId },
          };
          if (ids) {
            event.contexts = {
              ...event.contexts,
              trace: { ...event.contexts?.trace, trace_id: ids.traceId, span_id: ids.spanId },
            };
          }
          event.transaction = `${req.method} ${route}`;
          return event;
        });
        return scope;
      },
    });
  }

  private fromStatus(status: number, message: string): ResolvedError {
    const isServerError = status >= 500;
    return {
      status,
      // A 5xx message could carry internals: only the generic phrase leaves the process,
      // except for the gateway's own upstream errors, which are written for clients.
      message: isServerError && status === 500 ? 'Internal server error' : message,
      isServerError,
    };
  }
}


function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') {
    return response;
  }
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) {
    return message.map(String).join('; ');
  }
  return typeof message === 'string' ? message : exception.message;
}

function clientErrorMessage(status: number, type: unknown): string {
  switch (type) {
    case 'entity.too.large':
      return 'Request body is too large';
    case 'entity.parse.failed':
      return 'Malformed JSON body';
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return 'Unsupported content encoding or charset';
    default:
      return statusText(status);
  }
}
