import { type Attributes } from '@opentelemetry/api';
import { type ExportResult } from '@opentelemetry/core';
import { type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { isSensitiveKey, REDACTED } from '../logging/redaction.constants';

/** Attributes whose value is a URL or query string that may carry `?password=` and the like. */
const URL_ATTRIBUTES = new Set(['url.full', 'url.query', 'http.url', 'http.target', 'url.path']);

/**
 * The sensitive name an attribute key stands for: `http.request.header.authorization` →
 * `authorization`, `password` → `password`.
 */
function attributeSubject(key: string): string {
  const dot = key.lastIndexOf('.');
  return dot === -1 ? key : key.slice(dot + 1);
}

/** `value` (a URL or query string) with the values of sensitive query parameters censored. */
export function redactQuery(value: string): string {
  const start = value.indexOf('?');
  if (start === -1 && !value.includes('=')) {
    return value;
  }
  const [head, query] =
    start === -1 ? ['', value] : [value.slice(0, start + 1), value.slice(start + 1)];
  let changed = false;
  const parts = query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const name = eq === -1 ? pair : pair.slice(0, eq);
    let decoded = name;
    try {
      decoded = decodeURIComponent(name);
    } catch {
      // Undecodable names are compared as written.
    }
    if (eq !== -1 && isSensitiveKey(decoded)) {
      changed = true;
      return `${name}=${encodeURIComponent(REDACTED)}`;
    }
    return pair;
  });
  return changed ? head + parts.join('&') : value;
}

/**
 * Span attributes with the shared redaction list applied, or the same object when nothing
 * matched (the common case costs no allocation).
 */
export function redactAttributes(attributes: Attributes): Attributes {
  let out: Attributes | undefined;
  for (const key of Object.keys(attributes)) {
    const value = attributes[key];
    let replacement: Attributes[string] = value;
    if (isSensitiveKey(attributeSubject(key))) {
      replacement = REDACTED;
    } else if (typeof value === 'string' && URL_ATTRIBUTES.has(key)) {
      replacement = redactQuery(value);
    }
    if (replacement !== value) {
      out ??= { ...attributes };
      out[key] = replacement;
    }
  }
  return out ?? attributes;
}

function redactSpan(span: ReadableSpan): ReadableSpan {
  const attributes = redactAttributes(span.attributes);
  let events = span.events;
  for (let i = 0; i < events.length; i++) {
    const eventAttributes = events[i].attributes;
    const redacted = eventAttributes && redactAttributes(eventAttributes);
    if (redacted !== eventAttributes) {
      if (events === span.events) {
        events = [...span.events];
      }
      events[i] = { ...events[i], attributes: redacted };
    }
  }
  if (attributes === span.attributes && events === span.events) {
    return span;
  }
  // The span's own getters and methods (spanContext()) stay reachable through the prototype.
  return Object.create(span, {
    attributes: { value: attributes, enumerable: true },
    events: { value: events, enumerable: true },
  }) as ReadableSpan;
}

/**
 * Applies the redaction list of CONTRACT §5 to every exported span, whatever instrumentation
 * (or future hook) recorded the attribute: defence in depth, since no configured
 * instrumentation records headers or bodies. Runs on the export path, not per request.
 */
export class RedactingSpanExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans.map(redactSpan), resultCallback);
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
