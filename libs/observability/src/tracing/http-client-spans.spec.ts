import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import {
  dispatchWithOwnSpan,
  HTTP_CLIENT_TRACER_NAME,
  HttpClientSpans,
  isDispatchWithOwnSpan,
} from './http-client-spans';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
// The global context manager and W3C propagator, as startTracing registers them.
provider.register();
const spans = new HttpClientSpans(provider.getTracer(HTTP_CLIENT_TRACER_NAME));
const call = {
  method: 'GET',
  scheme: 'http',
  host: '10.0.0.7',
  port: 3002,
  target: '/users/42?fields=name',
};

/** Runs `fn` inside a server span, as a request's code runs. */
function inRequest<T>(fn: () => T): T {
  const server = provider.getTracer('spec').startSpan('GET /x', { kind: SpanKind.SERVER });
  try {
    return context.with(trace.setSpan(context.active(), server), fn);
  } finally {
    server.end();
  }
}

afterEach(() => exporter.reset());
afterAll(() => provider.shutdown());

describe(HttpClientSpans.name, () => {
  it("makes a child CLIENT span with instrumentation-undici's name and attributes, and injects it", () => {
    const headers: Record<string, string> = {};
    const span = inRequest(() => spans.start(call, headers));
    spans.answered(span, 200);

    const [client] = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
    expect(client.name).toBe('GET');
    expect(client.instrumentationScope.name).toBe(HTTP_CLIENT_TRACER_NAME);
    expect(client.attributes).toEqual({
      'http.request.method': 'GET',
      'url.full': 'http://10.0.0.7:3002/users/42?fields=name',
      'url.path': '/users/42',
      'url.query': '?fields=name',
      'url.scheme': 'http',
      'server.address': '10.0.0.7',
      'server.port': 3002,
      'http.response.status_code': 200,
    });
    expect(client.status.code).toBe(SpanStatusCode.UNSET);
    const { traceId, spanId } = client.spanContext();
    expect(headers.traceparent).toBe(`00-${traceId}-${spanId}-01`);
    const server = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER);
    expect(client.parentSpanContext?.spanId).toBe(server?.spanContext().spanId);
  });

  it('leaves out the query when there is none', () => {
    const span = inRequest(() => spans.start({ ...call, target: '/users/42' }, {}));
    spans.answered(span, 200);
    const [client] = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
    expect(client.attributes['url.full']).toBe('http://10.0.0.7:3002/users/42');
    expect(client.attributes).not.toHaveProperty('url.query');
  });

  it('marks an answer from 400 on as an error', () => {
    const span = inRequest(() => spans.start(call, {}));
    spans.answered(span, 404);
    const [client] = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
    expect(client.status.code).toBe(SpanStatusCode.ERROR);
    expect(client.attributes['http.response.status_code']).toBe(404);
  });

  it('records a call that got no answer', () => {
    const span = inRequest(() => spans.start(call, {}));
    spans.failed(span, new Error('connect ECONNREFUSED'));
    const [client] = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
    expect(client.status).toEqual({ code: SpanStatusCode.ERROR, message: 'connect ECONNREFUSED' });
    expect(client.events.map((event) => event.name)).toEqual(['exception']);
  });

  it('makes no span and injects nothing outside a trace', () => {
    const headers: Record<string, string> = {};
    expect(spans.start(call, headers)).toBeUndefined();
    expect(headers).toEqual({});
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

describe(dispatchWithOwnSpan.name, () => {
  it('flags exactly the synchronous call it runs', () => {
    expect(isDispatchWithOwnSpan()).toBe(false);
    expect(dispatchWithOwnSpan(() => isDispatchWithOwnSpan())).toBe(true);
    expect(isDispatchWithOwnSpan()).toBe(false);
    expect(() =>
      dispatchWithOwnSpan(() => {
        throw new Error('invalid request');
      }),
    ).toThrow('invalid request');
    expect(isDispatchWithOwnSpan()).toBe(false);
  });
});
