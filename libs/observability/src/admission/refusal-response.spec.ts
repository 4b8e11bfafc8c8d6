import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { waitFor } from '../../../../test/support/wait';
import { ObservabilityModule } from '../observability.module';

let releaseHeld: (() => void) | undefined;

@Controller('held')
class HeldController {
  @Get()
  async held(): Promise<{ ok: true }> {
    await new Promise<void>((resolve) => {
      releaseHeld = resolve;
    });
    return { ok: true };
  }
}

describe('refusals answered in front of Express', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ObservabilityModule.forRoot({
          serviceName: 'refusal-spec',
          version: '0.0.0',
          logLevel: 'silent',
          logFormat: 'json',
          admission: { maxInFlight: 1, maxEventLoopDelayMs: 0 },
        }),
      ],
      controllers: [HeldController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });

  afterAll(async () => {
    await app.close();
  });

  it('answers 503 with Retry-After, the security headers and the error body, and never refuses probes', async () => {
    const server = app.getHttpServer();
    const held = request(server)
      .get('/held')
      .then((res) => res.status);
    const release = await waitFor(() => releaseHeld, { what: 'the held handler to be entered' });

    const refused = await request(server).get('/held').set('x-request-id', 'refused-1');

    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.headers['x-request-id']).toBe('refused-1');
    expect(refused.headers['x-content-type-options']).toBe('nosniff');
    expect(refused.headers['strict-transport-security']).toBeDefined();
    expect(refused.headers['x-powered-by']).toBeUndefined();
    expect(refused.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: expect.stringMatching(/overloaded/),
      requestId: 'refused-1',
      traceId: '',
    });
    await request(server).get('/health/live').expect(200);
    const metrics = await request(server).get('/metrics').expect(200);
    expect(metrics.text).toMatch(
      /http_server_requests_shed_total\{[^}]*reason="in_flight"[^}]*\} 1/,
    );

    release();
    expect(await held).toBe(200);
    // The slot is free again.
    const again = request(server)
      .get('/held')
      .then((res) => res.status);
    releaseHeld = undefined;
    (await waitFor(() => releaseHeld, { what: 'the next held request to be admitted' }))();
    expect(await again).toBe(200);
  });
});
