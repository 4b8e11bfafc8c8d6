import { MetricsService } from '../metrics/metrics.service';
import { waitFor } from '../../../../test/support/wait';
import { AdmissionControl, MIN_IN_FLIGHT_UNDER_DELAY } from './admission-control.service';
import { ServiceOverloadedException } from './service-overloaded.exception';

describe(AdmissionControl.name, () => {
  const metrics = new MetricsService();
  const control = (maxInFlight: number) =>
    new AdmissionControl(metrics, {
      serviceName: 'test',
      version: '0',
      logLevel: 'silent',
      logFormat: 'json',
      admission: { maxInFlight, maxEventLoopDelayMs: 0 },
    });
  const shed = async (): Promise<number> =>
    (await metrics.registry.getSingleMetric('http_server_requests_shed_total')?.get())?.values.find(
      (v) => v.labels.reason === 'in_flight',
    )?.value ?? 0;

  it('admits up to maxInFlight at once, refuses the next with 503 and counts it', async () => {
    const admission = control(2);
    const before = await shed();
    const first = admission.admit();
    admission.admit();
    let refusal: unknown;
    try {
      admission.admit();
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(ServiceOverloadedException);
    expect(refusal).toMatchObject({ status: 503, retryAfterSeconds: 1, reason: 'in_flight' });
    expect(await shed()).toBe(before + 1);
    // Releasing twice frees one slot only.
    first();
    first();
    expect(() => admission.admit()).not.toThrow();
    expect(() => admission.admit()).toThrow(ServiceOverloadedException);
    admission.onModuleDestroy();
  });

  it('never refuses when the limit is 0', () => {
    const admission = control(0);
    for (let i = 0; i < 1000; i += 1) {
      admission.admit();
    }
    admission.onModuleDestroy();
  });

  it('refuses on a late event loop, but only beyond a few requests in flight', async () => {
    const admission = new AdmissionControl(metrics, {
      serviceName: 'test',
      version: '0',
      logLevel: 'silent',
      logFormat: 'json',
      admission: { maxInFlight: 0, maxEventLoopDelayMs: 30 },
    });
    // Keeps the loop busy between polls until two samples in a row were late.
    await waitFor(
      () => {
        const end = performance.now() + 80;
        while (performance.now() < end) {
          // busy: the sampler's timer fires late
        }
        return admission.eventLoopDelayMs > 30;
      },
      { what: 'a late event loop', interval: 5 },
    );
    const releases = Array.from({ length: MIN_IN_FLIGHT_UNDER_DELAY }, () => admission.admit());
    let refusal: unknown;
    try {
      admission.admit();
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toMatchObject({ status: 503, reason: 'event_loop_delay' });
    releases.forEach((release) => release());
    admission.onModuleDestroy();
  });
});
