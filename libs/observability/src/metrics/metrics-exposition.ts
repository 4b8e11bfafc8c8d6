import {
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
  type RegistryContentType,
} from 'prom-client';

export type ExpositionFormat = 'prometheus' | 'openmetrics';

/** Content type for each exposition format, as prom-client writes them. */
export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, RegistryContentType>> = {
  prometheus: Registry.PROMETHEUS_CONTENT_TYPE,
  openmetrics: Registry.OPENMETRICS_CONTENT_TYPE,
};

/**
 * The format a scraper asked for: OpenMetrics when its `Accept` header names
 * `application/openmetrics-text` (Prometheus does when exemplar storage is on), otherwise
 * the classic text format.
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (!accept) {
    return 'prometheus';
  }
  const wanted = accept.split(',').some((part) => {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return type.trim() === 'application/openmetrics-text' && (!q || Number(q.slice(2)) > 0);
  });
  return wanted ? 'openmetrics' : 'prometheus';
}

type MetricData = MetricObjectWithValues<MetricValue<string>>;

type Collectable = { get(): Promise<MetricData> } & Partial<{
  getForPromString(): Promise<MetricData>;
}>;

/** prom-client's per-family writer: public in its JavaScript, missing from its typings. */
interface FamilyWriter {
  getMetricsAsString(metric: { get(): Promise<MetricData> }): Promise<string>;
  setDefaultLabels(labels: object): void;
}

/**
 * Writes `registry` in either format. prom-client fixes the format per registry, and its own
 * OpenMetrics writer renames counters in place (dropping `_total`), which would corrupt a
 * later classic scrape; so each scrape reads every metric and writes it through a throwaway
 * registry of the wanted format, leaving the metrics untouched.
 */
export async function renderMetrics(
  registry: Registry<RegistryContentType>,
  format: ExpositionFormat,
  defaultLabels: Record<string, string>,
): Promise<string> {
  const Writer = Registry as unknown as new (contentType: RegistryContentType) => FamilyWriter;
  const writer = new Writer(CONTENT_TYPES[format]);
  writer.setDefaultLabels(defaultLabels);
  const openMetrics = format === 'openmetrics';
  const families = await Promise.all(
    registry.getMetricsAsArray().map((metric) =>
      writer.getMetricsAsString({
        get: async () => {
          const source = metric as unknown as Collectable;
          const data = source.getForPromString
            ? await source.getForPromString()
            : await source.get();
          return { ...data, name: familyName(data, openMetrics) };
        },
      }),
    ),
  );
  return openMetrics
    ? `${families.map(escapeHelpQuotes).join('\n')}\n# EOF\n`
    : `${families.join('\n\n')}\n`;
}

/**
 * OpenMetrics forbids a raw `"` in HELP text, which prom-client leaves as is (the classic
 * format allows it). Backslashes are already escaped, so every quote on the line is raw.
 */
function escapeHelpQuotes(family: string): string {
  const end = family.indexOf('\n');
  const help = end === -1 ? family : family.slice(0, end);
  return help.startsWith('# HELP ')
    ? help.replace(/"/g, '\\"') + family.slice(help.length)
    : family;
}

/**
 * A counter's family is `x` in OpenMetrics (samples `x_total`) and `x_total` in the classic
 * format, whichever way it was declared.
 */
function familyName(data: MetricData, openMetrics: boolean): string {
  if (String(data.type) !== 'counter') {
    return data.name;
  }
  const base = data.name.replace(/_total$/, '');
  return openMetrics ? base : `${base}_total`;
}
