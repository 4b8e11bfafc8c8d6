/**
 * A strict parser of the Prometheus text exposition format (0.0.4) and OpenMetrics 1.0, for
 * tests: it throws, naming the line, on anything Prometheus would refuse or that the formats
 * forbid (bad names, bad escapes, samples outside their family, duplicate series, histograms
 * whose buckets are not cumulative or lack `+Inf`, exemplars outside OpenMetrics, a missing
 * `# EOF`). Used instead of `promtool check metrics`, which CI does not install.
 */

export type ExpositionFormat = 'prometheus' | 'openmetrics';

export interface Exemplar {
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  exemplar?: Exemplar;
}

export interface MetricFamily {
  name: string;
  type: string;
  help?: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES: Record<ExpositionFormat, string[]> = {
  prometheus: ['counter', 'gauge', 'histogram', 'summary', 'untyped'],
  openmetrics: [
    'counter',
    'gauge',
    'histogram',
    'gaugehistogram',
    'summary',
    'info',
    'stateset',
    'unknown',
  ],
};

/** Parses `text`; throws `Error('line N: …')` on the first violation. */
export function parseExposition(text: string, format: ExpositionFormat): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const seriesSeen = new Set<string>();
  let current: MetricFamily | undefined;
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') {
    throw new Error('exposition must end with a newline');
  }
  lines.pop();
  let eof = false;
  lines.forEach((line, index) => {
    const fail = (why: string): never => {
      throw new Error(`line ${index + 1}: ${why}: ${JSON.stringify(line)}`);
    };
    if (eof) {
      fail('content after # EOF');
    }
    if (line === '') {
      if (format === 'openmetrics') {
        fail('blank line in OpenMetrics');
      }
      return;
    }
    if (line.startsWith('#')) {
      if (format === 'openmetrics' && line === '# EOF') {
        eof = true;
        return;
      }
      const match = /^# (HELP|TYPE|UNIT) (\S+)(?: (.*))?$/.exec(line);
      if (!match) {
        if (format === 'openmetrics') {
          fail('unknown comment');
        }
        return;
      }
      const [, keyword, name, rest = ''] = match;
      if (!METRIC_NAME.test(name)) {
        fail('bad metric name');
      }
      let family = families.get(name);
      if (!family) {
        family = { name, type: format === 'openmetrics' ? 'unknown' : 'untyped', samples: [] };
        families.set(name, family);
      } else if (family !== current) {
        fail('metadata of a family that was already closed');
      }
      current = family;
      if (keyword === 'TYPE') {
        if (!TYPES[format].includes(rest)) {
          fail(`unknown type ${rest}`);
        }
        if (family.samples.length > 0) {
          fail('TYPE after samples');
        }
        family.type = rest;
      } else if (keyword === 'HELP') {
        if (family.help !== undefined) {
          fail('second HELP');
        }
        if (format === 'openmetrics' && /(^|[^\\])(\\\\)*"/.test(rest)) {
          fail('unescaped " in OpenMetrics HELP');
        }
        family.help = unescapeHelp(rest, fail);
      }
      return;
    }
    const sample = parseSample(line, format, fail);
    let family = familyOf(sample.name, current, format);
    if (!family && !families.has(sample.name)) {
      // A sample without metadata opens an untyped family of its own name.
      family = {
        name: sample.name,
        type: format === 'openmetrics' ? 'unknown' : 'untyped',
        samples: [],
      };
      families.set(sample.name, family);
      current = family;
    }
    if (!family) {
      fail(`sample outside its family (current: ${current?.name ?? 'none'})`);
    }
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seriesSeen.has(key)) {
      fail('duplicate series');
    }
    seriesSeen.add(key);
    if (sample.exemplar && format !== 'openmetrics') {
      fail('exemplar outside OpenMetrics');
    }
    family!.samples.push(sample);
  });
  if (format === 'openmetrics' && !eof) {
    throw new Error('OpenMetrics exposition without # EOF');
  }
  for (const family of families.values()) {
    if (family.type === 'histogram') {
      checkHistogram(family);
    }
  }
  return families;
}

/** The samples of `name` (a sample name, e.g. `x_bucket`) whose labels include `labels`. */
export function findSamples(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
): Sample[] {
  const out: Sample[] = [];
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (
        sample.name === name &&
        Object.entries(labels).every(([key, value]) => sample.labels[key] === value)
      ) {
        out.push(sample);
      }
    }
  }
  return out;
}

/** The value of the one sample `name{labels…}`, 0 when there is none; throws when several match. */
export function sampleValue(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const found = findSamples(families, name, labels);
  if (found.length > 1) {
    throw new Error(`${found.length} samples match ${name} ${JSON.stringify(labels)}`);
  }
  return found[0]?.value ?? 0;
}

function familyOf(
  sampleName: string,
  current: MetricFamily | undefined,
  format: ExpositionFormat,
): MetricFamily | undefined {
  if (!current) {
    return undefined;
  }
  const suffix = sampleName.startsWith(current.name)
    ? sampleName.slice(current.name.length)
    : undefined;
  if (suffix === undefined) {
    return undefined;
  }
  const allowed: Record<string, string[]> = {
    counter: format === 'openmetrics' ? ['_total', '_created'] : [''],
    gauge: [''],
    untyped: [''],
    unknown: [''],
    info: ['_info'],
    stateset: [''],
    histogram: ['_bucket', '_sum', '_count', ...(format === 'openmetrics' ? ['_created'] : [])],
    gaugehistogram: ['_bucket', '_gsum', '_gcount'],
    summary: ['', '_sum', '_count', ...(format === 'openmetrics' ? ['_created'] : [])],
  };
  return allowed[current.type]?.includes(suffix) ? current : undefined;
}

function parseSample(line: string, format: ExpositionFormat, fail: (why: string) => never): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) {
    fail('bad sample name');
  }
  const name = nameMatch[0];
  let pos = name.length;
  let labels: Record<string, string> = {};
  if (line[pos] === '{') {
    [labels, pos] = parseLabels(line, pos, fail);
  }
  const rest = line.slice(pos);
  const match = /^ (\S+)(?: (\S+))?(?: # (\{.*?\}) (\S+)(?: (\S+))?)?$/.exec(rest);
  if (!match) {
    fail('bad value part');
  }
  const [, value, timestamp, exLabels, exValue, exTimestamp] = match;
  const sample: Sample = { name, labels, value: parseNumber(value, fail) };
  if (timestamp !== undefined) {
    parseNumber(timestamp, fail);
  }
  if (exLabels !== undefined) {
    if (format !== 'openmetrics') {
      fail('exemplar outside OpenMetrics');
    }
    const [parsed, end] = parseLabels(exLabels, 0, fail);
    if (end !== exLabels.length) {
      fail('bad exemplar labels');
    }
    const size = Object.entries(parsed).reduce((n, [k, v]) => n + k.length + v.length, 0);
    if (size > 128) {
      fail('exemplar label set over 128 characters');
    }
    sample.exemplar = {
      labels: parsed,
      value: parseNumber(exValue, fail),
      timestamp: exTimestamp === undefined ? undefined : parseNumber(exTimestamp, fail),
    };
  }
  return sample;
}

function parseLabels(
  text: string,
  start: number,
  fail: (why: string) => never,
): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let pos = start + 1;
  while (text[pos] !== '}') {
    const nameMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(pos));
    if (!nameMatch || !LABEL_NAME.test(nameMatch[0])) {
      fail('bad label name');
    }
    const labelName = nameMatch[0];
    pos += labelName.length;
    if (text.slice(pos, pos + 2) !== '="') {
      fail('label without ="');
    }
    pos += 2;
    let value = '';
    for (;;) {
      const ch = text[pos];
      if (ch === undefined) {
        fail('unterminated label value');
      }
      if (ch === '"') {
        pos += 1;
        break;
      }
      if (ch === '\\') {
        const next = text[pos + 1];
        if (next === 'n') {
          value += '\n';
        } else if (next === '\\' || next === '"') {
          value += next;
        } else {
          fail('bad escape in label value');
        }
        pos += 2;
        continue;
      }
      if (ch === '\n') {
        fail('raw newline in label value');
      }
      value += ch;
      pos += 1;
    }
    if (labelName in labels) {
      fail(`duplicate label ${labelName}`);
    }
    labels[labelName] = value;
    if (text[pos] === ',') {
      pos += 1;
    } else if (text[pos] !== '}') {
      fail('expected , or }');
    }
  }
  return [labels, pos + 1];
}

/** Floats as Go's ParseFloat reads them for Prometheus; ABNF keywords are case-insensitive. */
function parseNumber(text: string, fail: (why: string) => never): number {
  const lower = text.toLowerCase();
  if (lower === '+inf' || lower === 'inf') {
    return Infinity;
  }
  if (lower === '-inf') {
    return -Infinity;
  }
  if (lower === 'nan') {
    return NaN;
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
    fail(`bad number ${text}`);
  }
  return Number(text);
}

function unescapeHelp(text: string, fail: (why: string) => never): string {
  return text.replace(/\\(.?)/g, (_, ch: string) => {
    if (ch === 'n') {
      return '\n';
    }
    if (ch === '\\' || ch === '"') {
      return ch;
    }
    return fail('bad escape in HELP');
  });
}

/** Buckets cumulative, `+Inf` present and equal to `_count`, per series. */
function checkHistogram(family: MetricFamily): void {
  const series = new Map<string, { buckets: [number, number][]; count?: number }>();
  const keyOf = (labels: Record<string, string>): string =>
    JSON.stringify(
      Object.entries(labels)
        .filter(([k]) => k !== 'le')
        .sort(),
    );
  for (const sample of family.samples) {
    const key = keyOf(sample.labels);
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (sample.name.endsWith('_bucket')) {
      const le = sample.labels.le;
      if (le === undefined) {
        throw new Error(`${family.name}: bucket without le`);
      }
      entry.buckets.push([le === '+Inf' ? Infinity : Number(le), sample.value]);
    } else if (sample.name.endsWith('_count')) {
      entry.count = sample.value;
    }
  }
  for (const [key, entry] of series) {
    const sorted = [...entry.buckets].sort((a, b) => a[0] - b[0]);
    if (sorted.at(-1)?.[0] !== Infinity) {
      throw new Error(`${family.name}${key}: no +Inf bucket`);
    }
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i][1] < sorted[i - 1][1]) {
        throw new Error(`${family.name}${key}: buckets not cumulative`);
      }
    }
    if (entry.count !== undefined && entry.count !== sorted.at(-1)![1]) {
      throw new Error(`${family.name}${key}: +Inf bucket differs from _count`);
    }
  }
}
