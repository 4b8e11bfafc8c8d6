import { randomUUID } from 'node:crypto';
import {
  type CanActivate,
  Controller,
  ForbiddenException,
  Get,
  type INestApplication,
  Injectable,
  Param,
  ParseUUIDPipe,
  Post,
  UseGuards,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { findSamples, parseExposition, sampleValue } from '../../../../test/support/exposition';
import { waitFor } from '../../../../test/support/wait';
import { ObservabilityModule } from '../observability.module';
import { HttpMetricsRecorder } from './http-metrics.recorder';

@Injectable()
class DenyGuard implements CanActivate {
  canActivate(): boolean {
    throw new ForbiddenException('no');
  }
}

let release: (() => void) | undefined;

@Controller('things')
class ThingsController {
  @Get('slow')
  async slow(): Promise<{ ok: true }> {
    await new Promise<void>((resolve) => {
      release = resolve;
    });
    return { ok: true };
  }

  @Get(':id')
  get(@Param('id', ParseUUIDPipe) id: string): { id: string } {
    return { id };
  }

  @Post()
  @UseGuards(DenyGuard)
  create(): void {}
}

describe(HttpMetricsRecorder.name, () => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ObservabilityModule.forRoot({
          serviceName: 'metrics-spec',
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
  });

  async function scrape(openMetrics = false) {
    const res = await request(app.getHttpServer())
      .get('/metrics')
      .set('accept', openMetrics ? 'application/openmetrics-text; version=1.0.0' : '*/*')
      .expect(200);
    return { res, families: parseExposition(res.text, openMetrics ? 'openmetrics' : 'prometheus') };
  }

  const duration = 'http_server_request_duration_seconds';

  it('labels by route template: 100 distinct ids add one series', async () => {
    const server = app.getHttpServer();
    const before = sampleValue((await scrape()).families, `${duration}_count`, {
      route: '/things/:id',
      status_code: '200',
    });
    for (let i = 0; i < 100; i++) {
      await request(server).get(`/things/${randomUUID()}`).expect(200);
    }
    const { families } = await scrape();
    const series = findSamples(families, `${duration}_count`, { route: '/things/:id' });
    expect(series.map((s) => s.labels)).toEqual([
      { method: 'GET', route: '/things/:id', status_code: '200', service: 'metrics-spec' },
    ]);
    expect(series[0].value - before).toBe(100);
    expect(
      findSamples(families, `${duration}_count`).some((s) => s.labels.route.includes('-')),
    ).toBe(false);
  });

  it('counts responses ended by pipes, guards and the 404 handler', async () => {
    const server = app.getHttpServer();
    await request(server).get('/things/not-a-uuid').expect(400);
    await request(server).post('/things').expect(403);
    await request(server).get(`/nowhere/${randomUUID()}`).expect(404);
    const { families } = await scrape();
    expect(
      sampleValue(families, `${duration}_count`, { route: '/things/:id', status_code: '400' }),
    ).toBe(1);
    expect(
      sampleValue(families, `${duration}_count`, {
        method: 'POST',
        route: '/things',
        status_code: '403',
      }),
    ).toBe(1);
    expect(
      sampleValue(families, `${duration}_count`, {
        method: 'GET',
        route: 'unmatched',
        status_code: '404',
      }),
    ).toBe(1);
  });

  it('leaves /metrics and /health out and keeps buckets of the SLA', async () => {
    await scrape();
    await request(app.getHttpServer()).get('/health/live').expect(200);
    const { families } = await scrape();
    const routes = findSamples(families, `${duration}_count`).map((s) => s.labels.route);
    expect(routes).not.toContain('/metrics');
    expect(routes.some((r) => r.startsWith('/health'))).toBe(false);
    const bounds = findSamples(families, `${duration}_bucket`, {
      route: '/things/:id',
      status_code: '200',
    }).map((s) => s.labels.le);
    expect(bounds).toEqual(expect.arrayContaining(['0.005', '0.1', '5', '+Inf']));
  });

  it('shows requests in flight', async () => {
    const slow = request(app.getHttpServer())
      .get('/things/slow')
      .then((res) => res.status);
    const releaseSlow = await waitFor(() => release, { what: 'the slow handler to be entered' });
    expect(sampleValue((await scrape()).families, 'http_server_requests_in_flight')).toBe(1);
    releaseSlow();
    expect(await slow).toBe(200);
    expect(sampleValue((await scrape()).families, 'http_server_requests_in_flight')).toBe(0);
  });

  it('serves the classic format by default and OpenMetrics on request, with service everywhere', async () => {
    await request(app.getHttpServer()).post('/things').expect(403);
    const om = await scrape(true);
    expect(om.res.headers['content-type']).toBe(
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    );
    expect(om.families.get('process_cpu_user_seconds')?.type).toBe('counter');
    // prom-client's own OpenMetrics writer renames counters in place; the classic format
    // must still say `_total` after an OpenMetrics scrape.
    const classic = await scrape();
    expect(classic.res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(classic.families.get('process_cpu_user_seconds_total')?.type).toBe('counter');
    for (const name of [
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds',
      'http_server_requests_in_flight',
      duration,
    ]) {
      expect(classic.families.has(name)).toBe(true);
    }
    for (const { families } of [om, classic]) {
      for (const family of families.values()) {
        for (const sample of family.samples) {
          expect(sample.labels.service).toBe('metrics-spec');
        }
      }
    }
  });
});
