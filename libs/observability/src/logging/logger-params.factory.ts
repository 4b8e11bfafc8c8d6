import { type Params } from 'nestjs-pino';
import pino, { type Logger, type LoggerOptions, stdSerializers, stdTimeFunctions } from 'pino';
import { RequestContext } from '@keel/platform';
import { type ObservabilityModuleOptions } from '../observability-options.interface';
import { activeTraceIds } from '../tracing/trace-ids';
import { PINO_REDACT_PATHS, REDACTED } from './redaction.constants';
import { bufferedStdout } from './log-destination';

/**
 * The root logger's options: JSON lines with `level` as a word, ISO `time`, `service`, and,
 * on every line written inside a request, its `requestId` (from the request context) and the
 * active span's `trace_id`/`span_id`; the shared redaction list.
 */
export function loggerOptions(options: ObservabilityModuleOptions): LoggerOptions {
  const pretty = options.logFormat === 'pretty';
  return {
    level: options.logLevel,
    base: { service: options.serviceName },
    messageKey: 'msg',
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    // Fields the call passes itself (the access log's) win over the mixin's.
    mixin: () => {
      const requestId = RequestContext.requestId();
      const ids = activeTraceIds();
      if (!ids) {
        return requestId ? { requestId } : {};
      }
      return requestId
        ? { requestId, trace_id: ids.traceId, span_id: ids.spanId }
        : { trace_id: ids.traceId, span_id: ids.spanId };
    },
    serializers: { err: stdSerializers.err },
    redact: { paths: [...PINO_REDACT_PATHS], censor: REDACTED },
    transport: pretty
      ? { target: 'pino-pretty', options: { singleLine: true, messageKey: 'msg' } }
      : undefined,
  };
}

/**
 * The access log's options: the root logger's line format without its mixin and redaction.
 * {@link AccessLog} passes `requestId` and the trace ids itself, and builds its object from
 * fixed keys (method, censored url, status, duration), none of which a redaction path names;
 * the mixin's context lookups and the redaction walk were spent on every request for nothing.
 */
export function accessLoggerOptions(options: ObservabilityModuleOptions): LoggerOptions {
  const { mixin: _mixin, redact: _redact, ...rest } = loggerOptions(options);
  return rest;
}

/**
 * The access log's logger: its own pino instance on the root logger's destination (one
 * buffered stdout per process), or the root logger itself when lines go through pino-pretty.
 */
export function accessLogger(options: ObservabilityModuleOptions, root: Logger): Logger {
  return options.logFormat === 'pretty'
    ? root
    : pino(accessLoggerOptions(options), bufferedStdout());
}

/** The process's root logger: JSON lines through the buffered stdout, or pino-pretty. */
export function rootLogger(options: ObservabilityModuleOptions): Logger {
  const settings = loggerOptions(options);
  return options.logFormat === 'pretty' ? pino(settings) : pino(settings, bufferedStdout());
}

/**
 * nestjs-pino parameters around an existing root logger, with no middleware: no pino-http
 * child logger and no AsyncLocalStorage store per request. Request ids reach every line
 * through the logger's mixin, and the access line is written by the HTTP request observer
 * ({@link AccessLog}).
 */
export function loggerParams(logger: Logger): Params {
  return { pinoHttp: { logger }, useExisting: true, forRoutes: [] };
}
