import { Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { type ObservabilityModuleOptions } from '../observability-options.interface';
import { OBSERVABILITY_OPTIONS } from '../observability.module-definition';
import { ChaosInterceptor } from './chaos.interceptor';

let handled = 0;

@Controller()
class ProbeController {
  @Get('work')
  work(): { ok: true } {
    handled += 1;
    return { ok: true };
  }

  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}

async function appWith(chaosEnabled: boolean | undefined): Promise<INestApplication> {
  const options: ObservabilityModuleOptions = {
    serviceName: 'users-service',
    version: '0.0.0',
    logLevel: 'silent',
    logFormat: 'json',
    chaosEnabled,
  };
  @Module({
    controllers: [ProbeController],
    providers: [
      { provide: OBSERVABILITY_OPTIONS, useValue: options },
      { provide: APP_INTERCEPTOR, useClass: ChaosInterceptor },
    ],
  })
  class ProbeModule {}
  const moduleRef = await Test.createTestingModule({ imports: [ProbeModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

describe(ChaosInterceptor.name, () => {
  beforeEach(() => {
    handled = 0;
  });

  describe('enabled', () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await appWith(true);
    });
    afterAll(async () => {
      await app.close();
    });

    it('fails before the handler runs', async () => {
      await request(app.getHttpServer())
        .get('/work')
        .set('x-chaos', 'users-service=error')
        .expect(500);
      expect(handled).toBe(0);
    });

    it('delays, then runs the handler', async () => {
      const started = Date.now();
      await request(app.getHttpServer())
        .get('/work')
        .set('x-chaos', 'users-service=latency:150')
        .expect(200, { ok: true });
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
      expect(handled).toBe(1);
    });

    it('ignores entries for other apps and requests without the header', async () => {
      await request(app.getHttpServer())
        .get('/work')
        .set('x-chaos', 'auth-service=error')
        .expect(200);
      await request(app.getHttpServer()).get('/work').expect(200);
      expect(handled).toBe(2);
    });

    it('leaves operational routes alone', async () => {
      await request(app.getHttpServer())
        .get('/health/live')
        .set('x-chaos', 'users-service=error')
        .expect(200);
    });
  });

  it.each([false, undefined])('ignores the header when chaosEnabled is %s', async (enabled) => {
    const app = await appWith(enabled);
    try {
      await request(app.getHttpServer())
        .get('/work')
        .set('x-chaos', 'users-service=error')
        .expect(200);
      expect(handled).toBe(1);
    } finally {
      await app.close();
    }
  });
});
