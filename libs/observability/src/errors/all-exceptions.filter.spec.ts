import {
  BadRequestException,
  Controller,
  Get,
  HttpException,
  type INestApplication,
  Logger,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  Param,
  ServiceUnavailableException,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { RequestContext } from '@keel/platform';
import * as Sentry from '@sentry/nestjs';
import { type Request } from 'express';
import request from 'supertest';
import { AllExceptionsFilter } from './all-exceptions.filter';
import { loadSentrySdk } from './sentry-start';

@Controller()
class FailingController {
  @Get('items/:id')
  item(@Param('id') id: string): never {
    throw new Error(`database exploded while reading ${id}`);
  }

  @Get('bad')
  bad(): never {
    throw new BadRequestException('nope');
  }

  @Get('limited')
  limited(): never {
    throw new HttpException('slow down', 429);
  }

  @Get('upstream')
  upstream(): never {
    throw new HttpException('The users-service is unavailable', 502);
  }

  @Get('health/ready')
  ready(): never {
    throw new ServiceUnavailableException('database down');
  }
}

@Module({
  controllers: [FailingController],
  providers: [{ provide: APP_FILTER, useClass: AllExceptionsFilter }],
})
class FailingModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // Stands in for the request-context middleware and JwtAuthGuard.
    consumer
      .apply((req: Request, _res: unknown, next: () => void) => {
        const userId = req.headers['x-test-user'];
        RequestContext.run(
          { requestId: 'ctx', userId: typeof userId === 'string' ? userId : undefined },
          next,
        );
      })
      .forRoutes('*');
  }
}

describe(`${AllExceptionsFilter.name} start-up`, () => {
  // Runs before the suite below loads and starts Sentry.
  it('warns when the config has a DSN but Sentry is not running', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      new AllExceptionsFilter({ sentry: { dsn: 'http://k@h/1', environment: 'e', release: 'r' } });
      new AllExceptionsFilter({ sentry: { dsn: undefined, environment: 'e', release: 'r' } });
      new AllExceptionsFilter();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0][0]).toMatch(/SENTRY_DSN is set but Sentry is not running/);
    } finally {
      warn.mockRestore();
    }
  });
});

describe(AllExceptionsFilter.name, () => {
  let app: INestApplication;
  const events: Sentry.ErrorEvent[] = [];

  beforeAll(async () => {
    // A real client; events stop at beforeSend instead of going over the network.
    loadSentrySdk();
    Sentry.init({
      dsn: 'http://public@127.0.0.1:9/1',
      defaultIntegrations: false,
      skipOpenTelemetrySetup: true,
      beforeSend: (event) => {
        events.push(event);
        return null;
      },
    });
    const moduleRef = await Test.createTestingModule({ imports: [FailingModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });

  afterAll(async () => {
    await app.close();
    await Sentry.close(100);
  });

  beforeEach(() => {
    events.length = 0;
  });

  it('answers a generic 500 and reports it once with the request context', async () => {
    const res = await request(app.getHttpServer())
      .get('/items/42')
      .set('x-request-id', 'req-42')
      .set('x-test-user', 'user-7')
      .expect(500);
    expect(res.body).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'Internal server error',
      requestId: 'req-42',
      traceId: '',
    });
    await Sentry.flush(500);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event.tags).toMatchObject({
      request_id: 'req-42',
      route: '/items/:id',
      method: 'GET',
      status_code: '500',
    });
    expect(event.user).toEqual({ id: 'user-7' });
    expect(event.request).toEqual({
      method: 'GET',
      url: '/items/42',
      headers: { 'x-request-id': 'req-42' },
    });
    expect(event.exception?.values?.[0].value).toBe('database exploded while reading 42');
  });

  it('leaves user out for anonymous callers', async () => {
    await request(app.getHttpServer()).get('/items/1').expect(500);
    await Sentry.flush(500);
    expect(events).toHaveLength(1);
    expect(events[0].user).toBeUndefined();
  });

  it('reports a 502 the app raised itself', async () => {
    const res = await request(app.getHttpServer()).get('/upstream').expect(502);
    expect(res.body.message).toBe('The users-service is unavailable');
    await Sentry.flush(500);
    expect(events.map((event) => event.tags?.status_code)).toEqual(['502']);
  });

  it.each([
    ['/bad', 400],
    ['/limited', 429],
    ['/no-such-route', 404],
    ['/health/ready', 503],
  ])('does not report %s (%i)', async (path, status) => {
    await request(app.getHttpServer()).get(path).expect(status);
    await Sentry.flush(500);
    expect(events).toEqual([]);
  });
});
