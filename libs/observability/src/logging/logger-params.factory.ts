import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type Params } from 'nestjs-pino';
import { type Options } from 'pino-http';
import { stdSerializers, stdTimeFunctions } from 'pino';
import { type ObservabilityModuleOptions } from '../observability-options.interface';
import { activeTraceIds } from '../tracing/trace-ids';
import { isOperationalPath } from '@keel/platform';
import { PINO_REDACT_PATHS, REDACTED } from './redaction.constants';
import { resolveRequestId } from './request-id';
import { bufferedStdout } from './log-destination';

/**
 * nestjs-pino parameters: JSON lines with `level` as a word, ISO `time`, `service`,
 * `requestId` and the active span's `trace_id`/`span_id`, a lean access log line per
 * request, and the shared redaction list.
 */
export function loggerParams(options: ObservabilityModuleOptions): Params {
  const pretty = options.logFormat === 'pretty';
  const pinoOptions = {
    level: options.logLevel,
    base: { service: options.serviceName },
    messageKey: 'msg',
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    mixin: () => {
      const ids = activeTraceIds();
      return ids ? { trace_id: ids.traceId, span_id: ids.spanId } : {};
    },
    genReqId: (req: IncomingMessage, res: ServerResponse) => resolveRequestId(req, res),
    customAttributeKeys: { reqId: 'requestId', responseTime: 'responseTime' },
    quietReqLogger: true,
    wrapSerializers: false,
    serializers: {
      req: (req: IncomingMessage) => ({ method: req.method, url: req.url }),
      res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
      err: stdSerializers.err,
    },
    redact: { paths: [...PINO_REDACT_PATHS], censor: REDACTED },
    autoLogging: { ignore: (req: IncomingMessage) => isOperationalPath(req.url) },
    customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) =>
      error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    customSuccessMessage: () => 'request completed',
    customErrorMessage: () => 'request failed',
    transport: pretty
      ? { target: 'pino-pretty', options: { singleLine: true, messageKey: 'msg' } }
      : undefined,
  } satisfies Options;
  // JSON lines go through the buffered stdout; pretty output keeps its worker transport.
  return { pinoHttp: pretty ? pinoOptions : [pinoOptions, bufferedStdout()] };
}
