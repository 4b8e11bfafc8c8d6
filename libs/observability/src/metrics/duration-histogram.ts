import { type Histogram, type LabelValues } from 'prom-client';
import { activeTraceIds } from '../tracing/trace-ids';

/** Exemplar labels of a trace, as Grafana links them to Jaeger. */
export interface TraceExemplar {
  trace_id: string;
  span_id: string;
}

/** The active span's ids as exemplar labels, or `undefined` outside a trace. */
export function currentExemplar(): TraceExemplar | undefined {
  const ids = activeTraceIds();
  return ids ? { trace_id: ids.traceId, span_id: ids.spanId } : undefined;
}

/**
 * A histogram of durations in seconds whose observations carry the active trace id as an
 * OpenMetrics exemplar. Made by {@link MetricsService.histogram}.
 */
export class DurationHistogram<L extends string = string> {
  constructor(
    /** The underlying prom-client histogram (exemplars enabled). */
    readonly histogram: Histogram<L>,
  ) {}

  /**
   * Records `seconds`. `exemplar` defaults to the active span; pass one captured earlier when
   * the observation happens outside the request's context.
   */
  observe(labels: LabelValues<L>, seconds: number, exemplar = currentExemplar()): void {
    if (!(this.histogram as { enableExemplars?: boolean }).enableExemplars) {
      // Declared elsewhere without exemplars (e.g. a `makeHistogramProvider()`): plain observe.
      this.histogram.observe(labels, seconds);
      return;
    }
    this.histogram.observe({
      labels,
      value: seconds,
      // Exemplar labels are free-form; prom-client types them like the metric's labels.
      exemplarLabels: (exemplar ? { ...exemplar } : {}) as LabelValues<L>,
    });
  }

  /** Starts a timer; calling the result records the elapsed time and returns it. */
  startTimer(labels: LabelValues<L> = {}): (more?: LabelValues<L>) => number {
    const start = process.hrtime.bigint();
    const exemplar = currentExemplar();
    return (more = {}) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      this.observe({ ...labels, ...more }, seconds, exemplar);
      return seconds;
    };
  }

  /** Times `work`, labelled with `labels`, whether it resolves or throws. */
  async time<T>(labels: LabelValues<L>, work: () => Promise<T>): Promise<T> {
    const end = this.startTimer(labels);
    try {
      return await work();
    } finally {
      end();
    }
  }

  /** Makes the series for `labels` visible at 0 before the first observation. */
  zero(labels: LabelValues<L>): void {
    this.histogram.zero(labels);
  }
}
