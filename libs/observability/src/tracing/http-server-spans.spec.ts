import { randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { type AddressInfo } from 'node:net';
import {
  Controller,
  Get,
  type INestApplication,
  InternalServerErrorException,
  Param,
  ParseUUIDPipe,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import request from 'supertest';
import { waitFor } from '../../../../test/support/wait';
import { ObservabilityModule } from '../observability.module';
import {
  CLIENT_CLOSED_ERROR,
  HTTP_SERVER_TRACER_NAME,
  HttpServerSpans,
  installHttpServerSpans,
} from './http-server-spans';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
// The global context manager and W3C propagator, as startTracing registers them.
provider.register();

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

let releaseHeld: (() => void) | undefined;

@Controller('things')
class ThingsController {
  @Get('broken')
  broken(): never {
    throw new InternalServerErrorException();
  }

  @Get('held')
  async held(): Promise<{ ok: true }> {
    await new Promise<void>((resolve) => {
      releaseHeld = resolve;
    });
    return { ok: true };
  }

  @Get(':id')
  get(@Param('id', ParseUUIDPipe) id: string): { id: string } {
    return { id };
  }
}

/** The exported server spans of requests to `path`. */
function serverSpansOf(path: string): ReadableSpan[] {
  return exporter
    .getFinishedSpans()
    .filter((span) => span.kind === SpanKind.SERVER && span.attributes['url.path'] === path);
}

function onlyServerSpan(path: string): ReadableSpan {
  const spans = serverSpansOf(path);
  expect(spans.map((span) => span.name)).toHaveLength(1);
  return spans[0];
}

describe(HttpServerSpans.name, () => {
  let app: INestApplication;

  beforeAll(async () => {
    installHttpServerSpans(new HttpServerSpans(provider.getTracer(HTTP_SERVER_TRACER_NAME)));
    const moduleRef = await Test.createTestingModule({
      imports: [
        ObservabilityModule.forRoot({
          serviceName: 'spans-spec',
          version: '0.0.0',
          logLevel: 'silent',
          logFormat: 'json',
        }),
      ],
      controllers: [ThingsController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });

  afterAll(async () => {
    await app.close();
    installHttpServerSpans(undefined);
    await provider.shutdown();
  });

  it('makes one server span per request, named after the route template, with the stable HTTP attributes', async () => {
    const id = randomUUID();
    await request(app.getHttpServer())
      .get(`/things/${id}?limit=5`)
      .set('host', 'things.example:8443')
      .set('user-agent', 'spec-agent/1.0')
      .set('authorization', 'Bearer secret-token')
      .expect(200);
    const span = onlyServerSpan(`/things/${id}`);

    expect(span.name).toBe('GET /things/:id');
    expect(span.instrumentationScope.name).toBe(HTTP_SERVER_TRACER_NAME);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes).toEqual({
      'http.request.method': 'GET',
      'url.path': `/things/${id}`,
      'url.query': 'limit=5',
      'url.scheme': 'http',
      'network.protocol.version': '1.1',
      'server.address': 'things.example',
      'server.port': 8443,
      'network.peer.address': expect.stringMatching(/127\.0\.0\.1|::1/),
      'user_agent.original': 'spec-agent/1.0',
      'http.route': '/things/:id',
      'http.response.status_code': 200,
    });
    expect(JSON.stringify(span.attributes)).not.toContain('secret-token');
  });

  it('continues an incoming sampled traceparent, keeping its tracestate', async () => {
    const traceId = hex(16);
    const parentId = hex(8);
    const id = randomUUID();
    await request(app.getHttpServer())
      .get(`/things/${id}`)
      .set('traceparent', `00-${traceId}-${parentId}-01`)
      .set('tracestate', 'vendor=opaque')
      .expect(200);
    const span = onlyServerSpan(`/things/${id}`);

    expect(span.spanContext().traceId).toBe(traceId);
    expect(span.parentSpanContext?.spanId).toBe(parentId);
    expect(span.parentSpanContext?.isRemote).toBe(true);
    expect(span.spanContext().traceState?.serialize()).toBe('vendor=opaque');
  });

  it('records nothing for an unsampled incoming trace, yet answers with its trace id', async () => {
    const traceId = hex(16);
    const res = await request(app.getHttpServer())
      .get('/things/not-a-uuid')
      .set('traceparent', `00-${traceId}-${hex(8)}-00`)
      .expect(400);

    expect((res.body as { traceId: string }).traceId).toBe(traceId);
    expect(
      exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId),
    ).toEqual([]);
  });

  it('keeps status unset on a 4xx and names an unmatched request by its method only', async () => {
    const path = `/nowhere/${randomUUID()}`;
    await request(app.getHttpServer()).get(path).expect(404);
    const span = onlyServerSpan(path);

    expect(span.name).toBe('GET');
    expect(span.attributes['http.route']).toBeUndefined();
    expect(span.attributes['http.response.status_code']).toBe(404);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('sets status ERROR on a 5xx, and its error body carries the span trace id', async () => {
    const res = await request(app.getHttpServer()).get('/things/broken').expect(500);
    const span = serverSpansOf('/things/broken').at(-1)!;

    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['http.response.status_code']).toBe(500);
    expect((res.body as { traceId: string }).traceId).toBe(span.spanContext().traceId);
  });

  it('names a method the conventions do not know HTTP, keeping the original aside', async () => {
    await request(app.getHttpServer()).propfind('/things/x').expect(404);
    const span = onlyServerSpan('/things/x');

    expect(span.name).toBe('HTTP');
    expect(span.attributes['http.request.method']).toBe('_OTHER');
    expect(span.attributes['http.request.method_original']).toBe('PROPFIND');
  });

  it('makes no span for /health/* and /metrics', async () => {
    await request(app.getHttpServer()).get('/health/live').expect(200);
    await request(app.getHttpServer()).get('/metrics').expect(200);

    expect(serverSpansOf('/health/live')).toEqual([]);
    expect(serverSpansOf('/metrics')).toEqual([]);
  });

  it('marks a response the client hung up on as client_closed, without a status code', async () => {
    const server = app.getHttpServer() as import('node:http').Server;
    if (!server.listening) {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    }
    const { port } = server.address() as AddressInfo;
    releaseHeld = undefined;
    const req = httpRequest({ host: '127.0.0.1', port, path: '/things/held' });
    req.on('error', () => undefined);
    req.end();
    const release = await waitFor(() => releaseHeld, { what: 'the held handler to be entered' });
    req.destroy();
    await waitFor(() => serverSpansOf('/things/held')[0], { what: 'the held span to end' });
    release();
    const span = onlyServerSpan('/things/held');

    expect(span.attributes['error.type']).toBe(CLIENT_CLOSED_ERROR);
    expect(span.attributes['http.response.status_code']).toBeUndefined();
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.name).toBe('GET /things/held');
  });
});
