import { type IncomingMessage, type ServerResponse } from 'node:http';
import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { DomainException } from '@keel/platform';
import { resolveRequestId } from '../logging/request-id';
import { activeTraceIds } from '../tracing/trace-ids';
import { type ErrorBody, statusText } from './error-body';

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

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<IncomingMessage>();
    const res = http.getResponse<ServerResponse>();
    const resolved = this.resolve(exception);
    const body: ErrorBody = {
      statusCode: resolved.status,
      error: statusText(resolved.status),
      message: resolved.message,
      requestId: resolveRequestId(req, res),
      traceId: activeTraceIds()?.traceId ?? '',
    };
    if (resolved.isServerError) {
      this.logger.error({ err: exception, requestId: body.requestId }, 'unhandled error');
      this.report(exception, host, body);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.statusCode = resolved.status;
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
    if (typeof candidate?.status === 'number' && candidate.status >= 400 && candidate.status < 500) {
      return this.fromStatus(candidate.status, clientErrorMessage(candidate.status, candidate.type));
    }
    return {
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      message: 'Internal server error',
      isServerError: true,
    };
  }

  /** Hook for error reporting (Sentry); called once per server error. */
  protected report(_exception: unknown, _host: ArgumentsHost, _body: ErrorBody): void {}

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
