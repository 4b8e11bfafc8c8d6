import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type Logger } from 'pino';
import { redactQuery } from '../tracing/redacting-span.exporter';

/** The injection token of the process's root pino logger (the one every line goes through). */
export const ROOT_LOGGER = Symbol('keel.root-logger');

/** Active span ids captured when the request arrived. */
export interface AccessTraceIds {
  traceId: string;
  spanId: string;
}

/**
 * The access log: one line per response, written on the root logger with the request's
 * fields passed in, instead of pino-http's child logger per request (a logger object, its
 * serialised bindings and two listeners for every request). The line holds what CONTRACT §5
 * asks for: `level`, `time`, `service`, `msg` (from the logger), `requestId`, `trace_id`,
 * `span_id`, `req.method`, `req.url` (sensitive query parameters censored), `res.statusCode`
 * and `responseTime` (ms). Level: `error` for 5xx or a response that never finished, `warn`
 * for 4xx, `info` otherwise.
 */
export class AccessLog {
  constructor(private readonly logger: Logger) {}

  write(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    ids: AccessTraceIds | undefined,
    milliseconds: number,
  ): void {
    const finished = res.writableFinished;
    const status = res.statusCode;
    const level = !finished || status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    if (!this.logger.isLevelEnabled(level)) {
      return;
    }
    const url = req.url ?? '';
    const line = {
      requestId,
      ...(ids ? { trace_id: ids.traceId, span_id: ids.spanId } : {}),
      req: { method: req.method, url: url.includes('?') ? redactQuery(url) : url },
      res: { statusCode: status },
      responseTime: Math.round(milliseconds),
    };
    this.logger[level](line, level === 'error' ? 'request failed' : 'request completed');
  }
}
