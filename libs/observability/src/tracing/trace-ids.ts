import { isSpanContextValid, type Span, trace } from '@opentelemetry/api';

/** Ids of `span`, or `undefined` without one (or with an invalid context). */
export function traceIdsOf(
  span: Span | undefined,
): { traceId: string; spanId: string } | undefined {
  if (!span) {
    return undefined;
  }
  const context = span.spanContext();
  return isSpanContextValid(context)
    ? { traceId: context.traceId, spanId: context.spanId }
    : undefined;
}

/** Ids of the active span, or `undefined` outside a (recording or sampled) trace. */
export function activeTraceIds(): { traceId: string; spanId: string } | undefined {
  return traceIdsOf(trace.getActiveSpan());
}
