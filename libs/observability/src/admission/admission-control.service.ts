import { Inject, Injectable, type OnModuleDestroy, Optional } from '@nestjs/common';
import { type Counter } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';
import { OBSERVABILITY_OPTIONS } from '../observability.module-definition';
import { type ObservabilityModuleOptions } from '../observability-options.interface';
import { type AdmissionOptions, DEFAULT_ADMISSION } from './admission.options';
import { ServiceOverloadedException } from './service-overloaded.exception';

/** How often the event-loop delay is sampled (ms). */
const SAMPLE_INTERVAL_MS = 20;
/**
 * Requests always admitted whatever the event-loop delay: a late loop refuses only beyond
 * this many in flight, so a process on a contended machine keeps serving at a low concurrency
 * instead of refusing everything (the refusals of a collapsed process kept its loop late).
 */
export const MIN_IN_FLIGHT_UNDER_DELAY = 4;

/**
 * Admission control: past capacity a process answers 503 at once instead of queueing
 * requests into seconds-long latency, so the requests it admits stay fast. A request is
 * refused when too many are already in flight, or when the event loop lags (the loop's own
 * queue is the one a request waits in before any handler runs). Every refusal, here or by a
 * bounded work queue (password hashing), is counted in `http_server_requests_shed_total`.
 */
@Injectable()
export class AdmissionControl implements OnModuleDestroy {
  private readonly shedTotal: Counter<'reason'>;
  private readonly options: AdmissionOptions;
  private readonly sampler: NodeJS.Timeout | undefined;
  /**
   * One refusal per reason, thrown again and again: it carries no request data, and building
   * an Error (its stack trace) per refused request was ~2 % of an overloaded gateway's CPU.
   */
  private readonly refusals = new Map<string, ServiceOverloadedException>();
  private inFlight = 0;
  private loopDelayMs = 0;

  constructor(
    metrics: MetricsService,
    @Optional() @Inject(OBSERVABILITY_OPTIONS) moduleOptions?: ObservabilityModuleOptions,
  ) {
    this.options = { ...DEFAULT_ADMISSION, ...moduleOptions?.admission };
    this.shedTotal = metrics.counter({
      name: 'http_server_requests_shed_total',
      help: 'Requests refused with 503 because the process was past its capacity, by reason.',
      labelNames: ['reason'],
    });
    if (this.options.maxEventLoopDelayMs > 0) {
      // A timer's lateness is the event-loop delay; one timer per process, cheap and unref'd.
      // The smaller of the last two samples: one long pause (start-up, a major GC) is not an
      // overload; a loop that stays late is.
      let expected = performance.now() + SAMPLE_INTERVAL_MS;
      let previous = 0;
      this.sampler = setInterval(() => {
        const now = performance.now();
        const delay = Math.max(0, now - expected);
        this.loopDelayMs = Math.min(delay, previous);
        previous = delay;
        expected = now + SAMPLE_INTERVAL_MS;
      }, SAMPLE_INTERVAL_MS).unref();
    }
  }

  /** The event-loop delay the last samples saw (ms; 0 while that criterion is off). */
  get eventLoopDelayMs(): number {
    return this.loopDelayMs;
  }

  onModuleDestroy(): void {
    clearInterval(this.sampler);
  }

  /**
   * Admits a request or throws {@link ServiceOverloadedException}. An admitted request must
   * call the returned function exactly once when it is done.
   */
  admit(): () => void {
    const refusal = this.tryAdmit();
    if (refusal) {
      throw refusal;
    }
    let done = false;
    return () => {
      if (!done) {
        done = true;
        this.release();
      }
    };
  }

  /**
   * The allocation-free form of {@link admit} for the request path: `undefined` when the
   * request is admitted (the caller then calls {@link release} exactly once when it is done),
   * otherwise the counted refusal.
   */
  tryAdmit(): ServiceOverloadedException | undefined {
    const { maxInFlight, maxEventLoopDelayMs } = this.options;
    if (maxInFlight > 0 && this.inFlight >= maxInFlight) {
      return this.shed('in_flight');
    }
    if (
      maxEventLoopDelayMs > 0 &&
      this.loopDelayMs > maxEventLoopDelayMs &&
      this.inFlight >= MIN_IN_FLIGHT_UNDER_DELAY
    ) {
      return this.shed('event_loop_delay');
    }
    this.inFlight += 1;
    return undefined;
  }

  /** Frees the slot of a request admitted by {@link tryAdmit}. */
  release(): void {
    this.inFlight -= 1;
  }

  /** Counts a refusal and returns the exception to throw. */
  shed(reason: string): ServiceOverloadedException {
    this.shedTotal.inc({ reason });
    let refusal = this.refusals.get(reason);
    if (!refusal) {
      refusal = new ServiceOverloadedException(reason);
      this.refusals.set(reason, refusal);
    }
    return refusal;
  }
}
