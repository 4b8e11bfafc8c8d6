import { MetricsService } from '../metrics/metrics.service';
import { AdmissionControl } from './admission-control.service';
import { ServiceOverloadedException } from './service-overloaded.exception';
import { WorkQueue } from './work-queue';

describe(WorkQueue.name, () => {
  const metrics = new MetricsService();
  const admission = new AdmissionControl(metrics, {
    serviceName: 'test',
    version: '0',
    logLevel: 'silent',
    logFormat: 'json',
    admission: { maxInFlight: 0, maxEventLoopDelayMs: 0 },
  });
  const shed = async (): Promise<number> =>
    (await metrics.registry.getSingleMetric('http_server_requests_shed_total')?.get())?.values.find(
      (v) => v.labels.reason === 'unit_queue',
    )?.value ?? 0;

  function gate(): { promise: Promise<void>; open: () => void } {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    return { promise, open };
  }

  it('runs at most `concurrency` tasks at once, queues up to the limit and refuses the rest', async () => {
    const queue = new WorkQueue(admission, 'unit_queue', 2, 1);
    const gates = [gate(), gate(), gate()];
    let running = 0;
    let peak = 0;
    const task = (g: { promise: Promise<void> }) => async () => {
      running += 1;
      peak = Math.max(peak, running);
      await g.promise;
      running -= 1;
      return 'done';
    };
    const before = await shed();
    const accepted = gates.map((g) => queue.run(task(g)));
    expect(queue.depth).toBe(3);
    await expect(queue.run(task(gate()))).rejects.toBeInstanceOf(ServiceOverloadedException);
    expect(await shed()).toBe(before + 1);
    gates.forEach((g) => g.open());
    await expect(Promise.all(accepted)).resolves.toEqual(['done', 'done', 'done']);
    expect(peak).toBe(2);
    expect(queue.depth).toBe(0);
  });

  it('frees the slot of a task that fails', async () => {
    const queue = new WorkQueue(admission, 'unit_queue', 1, 0);
    await expect(queue.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(queue.run(() => Promise.resolve(1))).resolves.toBe(1);
  });
});
