import { Injectable } from '@nestjs/common';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  type Metric,
  register,
  Registry,
  type RegistryContentType,
} from 'prom-client';
import { DurationHistogram } from './duration-histogram';
import { renderMetrics, type ExpositionFormat } from './metrics-exposition';
import { DURATION_BUCKETS } from './metrics.constants';

/** What declares a metric: its name, help text and label names. */
export interface MetricDeclaration<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
}

export interface GaugeDeclaration<L extends string> extends MetricDeclaration<L> {
  /** Called at each scrape, to set the gauge from a live source (a pool, a queue). */
  collect?: (gauge: Gauge<L>) => void | Promise<void>;
}

export interface HistogramDeclaration<L extends string> extends MetricDeclaration<L> {
  /** Upper bounds in seconds; default {@link DURATION_BUCKETS}. */
  buckets?: readonly number[];
}

const durationWrappers = new WeakMap<Histogram<string>, DurationHistogram<string>>();

/**
 * Declares and serves the process's metrics. Metrics live in prom-client's default registry
 * (so `@willsoto/nestjs-prometheus` providers and `@InjectMetric()` see the same ones), which
 * this module switches to OpenMetrics so that histograms may carry exemplars, and labels
 * with `service`. Declaring is get-or-create by name, so two modules (or two app instances in
 * one test process) asking for the same metric share it.
 *
 * ```ts
 * constructor(metrics: MetricsService) {
 *   this.rejections = metrics.counter({
 *     name: 'rate_limit_rejections_total',
 *     help: 'Requests refused by a rate limiter.',
 *     labelNames: ['limiter', 'route'],
 *   });
 * }
 * ```
 */
@Injectable()
export class MetricsService {
  private static defaultLabels: Record<string, string> = {};

  /** The registry every metric of the process is in. */
  readonly registry: Registry<RegistryContentType> = MetricsService.prepareRegistry();

  /**
   * Sets the `service` label and starts prom-client's Node.js metrics (once per process).
   * Called by `ObservabilityModule.forRoot`.
   */
  static configure(serviceName: string): void {
    const registry = MetricsService.prepareRegistry();
    MetricsService.defaultLabels = { service: serviceName };
    registry.setDefaultLabels(MetricsService.defaultLabels);
    if (!registry.getSingleMetric('process_cpu_user_seconds_total')) {
      collectDefaultMetrics({ register: registry });
    }
  }

  private static prepareRegistry(): Registry<RegistryContentType> {
    // Typed as a classic registry, but prom-client allows switching it; exemplars need this.
    const registry = register as Registry<RegistryContentType>;
    if (registry.contentType !== Registry.OPENMETRICS_CONTENT_TYPE) {
      registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    }
    return registry;
  }

  /** A counter; `_total` is part of its name (`auth_tokens_issued_total`). */
  counter<L extends string = never>(declaration: MetricDeclaration<L>): Counter<L> {
    return this.getOrCreate(
      declaration.name,
      Counter,
      () => new Counter<L>(this.config(declaration)),
    );
  }

  gauge<L extends string = never>(declaration: GaugeDeclaration<L>): Gauge<L> {
    const { collect, ...rest } = declaration;
    return this.getOrCreate(declaration.name, Gauge, () => {
      const config = this.config(rest);
      return new Gauge<L>(
        collect
          ? {
              ...config,
              collect() {
                return collect(this);
              },
            }
          : config,
      );
    });
  }

  /**
   * A duration histogram in seconds whose observations carry the active trace id as an
   * exemplar (shown when the scraper asks for OpenMetrics).
   */
  histogram<L extends string = never>(declaration: HistogramDeclaration<L>): DurationHistogram<L> {
    const histogram = this.getOrCreate(
      declaration.name,
      Histogram,
      () =>
        new Histogram<L>({
          ...this.config(declaration),
          buckets: [...(declaration.buckets ?? DURATION_BUCKETS)],
          enableExemplars: true,
        }),
    );
    let wrapper = durationWrappers.get(histogram);
    if (!wrapper) {
      wrapper = new DurationHistogram(histogram);
      durationWrappers.set(histogram, wrapper);
    }
    return wrapper;
  }

  /** The exposition text in the classic Prometheus format or OpenMetrics. */
  async render(format: ExpositionFormat): Promise<string> {
    return renderMetrics(this.registry, format, MetricsService.defaultLabels);
  }

  private config<L extends string>(declaration: MetricDeclaration<L>) {
    return {
      name: declaration.name,
      help: declaration.help,
      labelNames: [...(declaration.labelNames ?? [])],
      registers: [this.registry],
    };
  }

  private getOrCreate<M>(
    name: string,
    type: abstract new (...args: never[]) => M,
    create: () => M,
  ): M {
    const existing: Metric | undefined = this.registry.getSingleMetric(name);
    if (existing === undefined) {
      return create();
    }
    if (!(existing instanceof type)) {
      throw new Error(`Metric ${name} is already declared with another type`);
    }
    return existing;
  }
}
