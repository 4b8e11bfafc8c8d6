import { isSpanContextValid, trace } from '@opentelemetry/api';

/** Ids of the active span, or `undefined` outside a (recording or sampled) trace. */
export function activeTraceIds(): { traceId: string; spanId: string } | undefined {
  const span = trace.getActiveSpan();
  if (!span) {
    return undefined;
  }
  const context = span.spanContext();
  return isSpanContextValid(context)
    ? { traceId: context.traceId, spanId: context.spanId }
    : undefined;
}
