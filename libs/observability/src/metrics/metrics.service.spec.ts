import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { context } from '@opentelemetry/api';
import { Histogram } from 'prom-client';
import { parseExposition, findSamples, sampleValue } from '../../../../test/support/exposition';
import { negotiateFormat } from './metrics-exposition';
import { MetricsService } from './metrics.service';

describe(MetricsService.name, () => {
  const metrics = new MetricsService();
  const contextManager = new AsyncLocalStorageContextManager();

  beforeAll(() => {
    MetricsService.configure('service-spec');
    context.setGlobalContextManager(contextManager.enable());
  });

  afterAll(() => {
    context.disable();
  });

  it('declares get-or-create: a second declaration returns the same metric', () => {
    const a = metrics.counter({ name: 'spec_things_total', help: 'Things.', labelNames: ['kind'] });
    const b = metrics.counter({ name: 'spec_things_total', help: 'Things.', labelNames: ['kind'] });
    expect(b).toBe(a);
    expect(() => metrics.gauge({ name: 'spec_things_total', help: 'Not a gauge.' })).toThrow(
      /another type/,
    );
  });

  it('writes counters as x_total in the classic format and x + x_total in OpenMetrics', async () => {
    const counter = metrics.counter({
      name: 'spec_writes_total',
      help: 'Writes.',
      labelNames: ['kind'],
    });
    counter.inc({ kind: 'a' }, 2);
    const om = parseExposition(await metrics.render('openmetrics'), 'openmetrics');
    expect(om.get('spec_writes')?.type).toBe('counter');
    expect(sampleValue(om, 'spec_writes_total', { kind: 'a', service: 'service-spec' })).toBe(2);
    const classic = parseExposition(await metrics.render('prometheus'), 'prometheus');
    expect(classic.get('spec_writes_total')?.type).toBe('counter');
    expect(sampleValue(classic, 'spec_writes_total', { kind: 'a' })).toBe(2);
  });

  it('puts the active trace id on histogram buckets as an exemplar, in OpenMetrics only', async () => {
    const histogram = metrics.histogram({
      name: 'spec_work_duration_seconds',
      help: 'Work.',
      labelNames: ['step'],
    });
    const tracer = new BasicTracerProvider().getTracer('spec');
    const traceId = tracer.startActiveSpan('work', (span) => {
      histogram.observe({ step: 'one' }, 0.042);
      span.end();
      return span.spanContext().traceId;
    });
    histogram.observe({ step: 'two' }, 0.042);

    const om = parseExposition(await metrics.render('openmetrics'), 'openmetrics');
    const withExemplar = findSamples(om, 'spec_work_duration_seconds_bucket', {
      step: 'one',
    }).filter((s) => s.exemplar);
    expect(withExemplar).toHaveLength(1);
    expect(withExemplar[0].labels.le).toBe('0.05');
    expect(withExemplar[0].exemplar).toMatchObject({ labels: { trace_id: traceId }, value: 0.042 });
    expect(
      findSamples(om, 'spec_work_duration_seconds_bucket', { step: 'two' }).some((s) => s.exemplar),
    ).toBe(false);
    const classic = await metrics.render('prometheus');
    expect(classic).not.toContain(traceId);
  });

  it('observes a histogram declared elsewhere without exemplars', async () => {
    const plain = new Histogram({
      name: 'spec_plain_seconds',
      help: 'Plain.',
      registers: [metrics.registry],
    });
    metrics.histogram({ name: 'spec_plain_seconds', help: 'Plain.' }).observe({}, 0.2);
    expect(
      (await plain.get()).values.find((v) => v.metricName === 'spec_plain_seconds_count')?.value,
    ).toBe(1);
  });

  it('asks for OpenMetrics only when the Accept header names it', () => {
    expect(negotiateFormat(undefined)).toBe('prometheus');
    expect(negotiateFormat('text/plain;version=0.0.4;q=0.5,*/*;q=0.1')).toBe('prometheus');
    expect(
      negotiateFormat(
        'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      ),
    ).toBe('openmetrics');
    expect(negotiateFormat('application/openmetrics-text;q=0')).toBe('prometheus');
  });
});
