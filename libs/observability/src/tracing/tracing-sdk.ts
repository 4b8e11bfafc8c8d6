import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type ContextManager, type TextMapPropagator } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import {
  defaultResource,
  envDetector,
  detectResources,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import {
  HTTP_CLIENT_TRACER_NAME,
  HttpClientSpans,
  installHttpClientSpans,
} from './http-client-spans';
import {
  HTTP_SERVER_TRACER_NAME,
  HttpServerSpans,
  installHttpServerSpans,
} from './http-server-spans';
import { createInstrumentations } from './instrumentations.factory';
import { RedactingSpanExporter } from './redacting-span.exporter';
import { type OtlpProtocol, type TracingSettings } from './tracing-settings';

/**
 * What another telemetry library adds to the one SDK of the process. Sentry, started with
 * `skipOpenTelemetrySetup: true`, contributes its span processor, sampler, propagator and
 * context manager here instead of starting a second SDK.
 */
export interface TracingExtensions {
  spanProcessors?: SpanProcessor[];
  /** Replaces the environment's standard sampler (`OTEL_TRACES_SAMPLER`). */
  sampler?: Sampler;
  /** Replaces W3C trace-context + baggage. */
  propagator?: TextMapPropagator;
  /** Replaces the AsyncLocalStorage context manager. */
  contextManager?: ContextManager;
}

/** The running SDK. */
export interface TracingHandle {
  provider: NodeTracerProvider | undefined;
  /** Exports what is buffered and stops; safe to call more than once. */
  shutdown(): Promise<void>;
}

/**
 * The OTLP/HTTP exporter for the protocol. Each variant pulls in its own serializer
 * (protobufjs or JSON), so only the chosen one is loaded. The exporter reads the standard
 * endpoint, header, timeout and compression variables itself.
 */
function createExporter(protocol: OtlpProtocol): SpanExporter {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { OTLPTraceExporter } =
    protocol === 'http/json'
      ? (require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http'))
      : (require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto'));
  /* eslint-enable @typescript-eslint/no-require-imports */
  return new OTLPTraceExporter();
}

/**
 * Starts tracing for the process: a Node tracer provider with the standard sampler, W3C
 * propagation, a batch processor feeding the OTLP exporter (when an endpoint is set), the
 * platform's instrumentations, Keel's HTTP server spans ({@link HttpServerSpans}) and the client
 * spans of callers that make their own ({@link HttpClientSpans}). Nothing is started when
 * `OTEL_SDK_DISABLED=true`.
 */
export function startTracing(
  settings: TracingSettings,
  extensions: TracingExtensions = {},
): TracingHandle {
  if (settings.disabled) {
    return { provider: undefined, shutdown: () => Promise.resolve() };
  }
  const resource = defaultResource()
    .merge(
      resourceFromAttributes({
        'service.name': settings.serviceName,
        'service.version': settings.serviceVersion,
        'deployment.environment.name': settings.environment,
        'service.instance.id': randomUUID(),
        'host.name': hostname(),
        'process.pid': process.pid,
      }),
    )
    // OTEL_RESOURCE_ATTRIBUTES may override (e.g. the pod name as service.instance.id) ...
    .merge(detectResources({ detectors: [envDetector] }))
    // ... but OTEL_SERVICE_NAME, already folded into settings, has the last word.
    .merge(resourceFromAttributes({ 'service.name': settings.serviceName }));

  const spanProcessors: SpanProcessor[] = [];
  if (settings.exporter) {
    spanProcessors.push(
      new BatchSpanProcessor(new RedactingSpanExporter(createExporter(settings.exporter.protocol))),
    );
  }
  spanProcessors.push(...(extensions.spanProcessors ?? []));

  const provider = new NodeTracerProvider({
    resource,
    spanProcessors,
    // undefined keeps the provider's own reading of OTEL_TRACES_SAMPLER(_ARG).
    ...(extensions.sampler ? { sampler: extensions.sampler } : {}),
  });
  provider.register({
    propagator: extensions.propagator,
    contextManager: extensions.contextManager,
  });
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: createInstrumentations(settings.disabledInstrumentations),
  });
  // The `http` switch covers both sides, as it did when instrumentation-http made the server
  // spans too: off, requests are served without any span work.
  if (!settings.disabledInstrumentations.includes('http')) {
    installHttpServerSpans(new HttpServerSpans(provider.getTracer(HTTP_SERVER_TRACER_NAME)));
  }
  if (!settings.disabledInstrumentations.includes('undici')) {
    installHttpClientSpans(new HttpClientSpans(provider.getTracer(HTTP_CLIENT_TRACER_NAME)));
  }

  let stopping: Promise<void> | undefined;
  return {
    provider,
    shutdown: () => (stopping ??= provider.shutdown()),
  };
}
