import { Counter, Histogram, Registry, type RegistryContentType } from 'prom-client';
import { parseExposition } from '../../../../test/support/exposition';
import { renderMetrics } from './metrics-exposition';

describe(renderMetrics.name, () => {
  function registry(): Registry<RegistryContentType> {
    const reg = new Registry<RegistryContentType>();
    reg.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const counter = new Counter({
      name: 'jobs_total',
      help: 'Jobs "done".\nReally.',
      labelNames: ['kind'],
      registers: [reg],
    });
    counter.inc({ kind: 'a\\b"c' });
    const histogram = new Histogram({
      name: 'job_seconds',
      help: 'Job time.',
      buckets: [0.1, 1],
      enableExemplars: true,
      registers: [reg],
    });
    histogram.observe({ labels: {}, value: 0.5, exemplarLabels: { trace_id: 'a'.repeat(32) } });
    return reg;
  }

  it('writes both formats from one registry, repeatedly, without changing the metrics', async () => {
    const reg = registry();
    for (let round = 0; round < 2; round++) {
      const om = parseExposition(
        await renderMetrics(reg, 'openmetrics', { service: 's' }),
        'openmetrics',
      );
      expect(om.get('jobs')?.help).toBe('Jobs "done".\nReally.');
      expect(om.get('jobs')?.samples[0]).toMatchObject({
        name: 'jobs_total',
        labels: { kind: 'a\\b"c', service: 's' },
        value: 1,
      });
      expect(
        om.get('job_seconds')?.samples.find((s) => s.labels.le === '1')?.exemplar?.labels,
      ).toEqual({
        trace_id: 'a'.repeat(32),
      });
      const classic = parseExposition(
        await renderMetrics(reg, 'prometheus', { service: 's' }),
        'prometheus',
      );
      expect(classic.get('jobs_total')?.help).toBe('Jobs "done".\nReally.');
      expect(classic.get('job_seconds')?.samples.some((s) => s.exemplar)).toBe(false);
    }
  });
});

describe(parseExposition.name, () => {
  const valid = '# TYPE x counter\nx_total 1\n# EOF\n';

  it.each([
    ['no # EOF', '# TYPE x counter\nx_total 1\n', 'openmetrics'],
    ['a bad label escape', '# TYPE x gauge\nx{a="\\q"} 1\n', 'prometheus'],
    [
      'a family split in two',
      '# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\nx{a="1"} 1\n',
      'prometheus',
    ],
    ['a duplicate series', '# TYPE x gauge\nx{a="1"} 1\nx{a="1"} 2\n', 'prometheus'],
    [
      'an exemplar in the classic format',
      '# TYPE x counter\nx_total 1 # {t="1"} 1\n',
      'prometheus',
    ],
    [
      'buckets that are not cumulative',
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 1\n',
      'prometheus',
    ],
    [
      'a histogram without +Inf',
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1\n',
      'prometheus',
    ],
    ['a bad value', '# TYPE x gauge\nx one\n', 'prometheus'],
    [
      'a raw quote in OpenMetrics HELP',
      '# HELP x say "hi"\n# TYPE x gauge\nx 1\n# EOF\n',
      'openmetrics',
    ],
    ['a counter without _total in OpenMetrics', '# TYPE x counter\nx 1\n# EOF\n', 'openmetrics'],
  ] as const)('refuses %s', (_why, text, format) => {
    expect(() => parseExposition(text, format)).toThrow();
  });

  it('accepts what it should', () => {
    expect(parseExposition(valid, 'openmetrics').get('x')?.samples[0].value).toBe(1);
    expect(parseExposition('# TYPE g gauge\ng Nan\ng2 +Inf\n', 'prometheus').size).toBe(2);
  });
});
