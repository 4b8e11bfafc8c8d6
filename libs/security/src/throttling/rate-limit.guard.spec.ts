import {
  Body,
  Controller,
  Get,
  HttpCode,
  type INestApplication,
  Module,
  Post,
  UnauthorizedException,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ObservabilityModule } from '@keel/observability';
import { type BaseConfig, configureApp } from '@keel/platform';
import { Registry } from 'prom-client';
import request from 'supertest';
import { Public } from '../auth/public.decorator';
import { SecurityModule } from '../security.module';
import { RateLimitGuard } from './rate-limit.guard';
import { SkipThrottle, Throttle } from './throttle.decorators';

@Controller()
class SampleController {
  @Get('a')
  a(): string {
    return 'a';
  }

  @Get('b')
  b(): string {
    return 'b';
  }

  @Throttle({ global: { limit: 1, ttl: 60_000 } })
  @Get('strict')
  strict(): string {
    return 'strict';
  }

  @SkipThrottle()
  @Get('free')
  free(): string {
    return 'free';
  }

  @Get('health/live')
  live(): string {
    return 'up';
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  login(@Body() body: { password?: string }): string {
    if (body.password !== 'right') {
      throw new UnauthorizedException('Invalid credentials');
    }
    return 'ok';
  }
}

@Module({ controllers: [SampleController] })
class SampleModule {}

describe(RateLimitGuard.name, () => {
  let app: INestApplication;
  let registry: Registry;

  async function createApp(trustProxy: boolean): Promise<INestApplication> {
    registry = new Registry();
    const moduleRef = await Test.createTestingModule({
      imports: [
        ObservabilityModule.forRoot({
          serviceName: 'sample',
          version: '0.0.0',
          logLevel: 'silent',
          logFormat: 'json',
        }),
        SecurityModule.forRoot({
          corsOrigins: [],
          throttling: {
            registry,
            limiters: [
              {
                name: 'global',
                limit: 3,
                windowMs: 60_000,
                routes: [{ path: /^\/(a|b|strict|free|health)/ }],
              },
              {
                name: 'login-account',
                limit: 2,
                windowMs: 60_000,
                routes: [{ method: 'POST', path: '/login' }],
                by: (req) =>
                  (req.body as { email?: string } | undefined)?.email?.trim().toLowerCase(),
                countStatuses: [401],
              },
            ],
          },
        }),
        SampleModule,
      ],
    }).compile();
    const created = moduleRef.createNestApplication({ bodyParser: false });
    configureApp(created, { trustProxy } as BaseConfig);
    await created.init();
    return created;
  }

  beforeEach(async () => {
    app = await createApp(true);
  });

  afterEach(async () => {
    await app.close();
  });

  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  const rejections = async (): Promise<Array<{ labels: object; value: number }>> =>
    (await registry.getSingleMetric('rate_limit_rejections_total')!.get()).values;

  it('counts a client across routes and answers 429 with the headers and error body', async () => {
    const server = app.getHttpServer();
    const first = await request(server).get('/a').set(from('192.0.2.1')).expect(200);
    expect(first.headers['x-ratelimit-limit']).toBe('3');
    expect(first.headers['x-ratelimit-remaining']).toBe('2');
    expect(Number(first.headers['x-ratelimit-reset'])).toBeGreaterThan(0);
    await request(server).get('/b').set(from('192.0.2.1')).expect(200);
    await request(server).get('/a').set(from('192.0.2.1')).expect(200);
    const limited = await request(server).get('/b').set(from('192.0.2.1')).expect(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(59);
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    expect(limited.headers['x-content-type-options']).toBe('nosniff');
    expect(limited.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    expect(limited.body.requestId).toEqual(expect.any(String));
    // Another client is not affected.
    await request(server).get('/b').set(from('192.0.2.2')).expect(200);
    expect(await rejections()).toEqual([
      expect.objectContaining({ labels: { limiter: 'global', route: '/b' }, value: 1 }),
    ]);
  });

  it('honours @Throttle overrides and @SkipThrottle, and never limits operational routes', async () => {
    const server = app.getHttpServer();
    await request(server).get('/strict').set(from('192.0.2.3')).expect(200);
    await request(server).get('/strict').set(from('192.0.2.3')).expect(429);
    for (let i = 0; i < 5; i += 1) {
      const free = await request(server).get('/free').set(from('192.0.2.4')).expect(200);
      expect(free.headers['x-ratelimit-limit']).toBeUndefined();
      await request(server).get('/health/live').set(from('192.0.2.4')).expect(200);
    }
  });

  it('ignores X-Forwarded-For unless the proxy is trusted (TRUST_PROXY)', async () => {
    await app.close();
    app = await createApp(false);
    const server = app.getHttpServer();
    for (let i = 0; i < 3; i += 1) {
      await request(server)
        .get('/a')
        .set(from(`192.0.2.${i + 50}`))
        .expect(200);
    }
    await request(server).get('/a').set(from('192.0.2.99')).expect(429);
  });

  it('counts only failed logins, per e-mail, whatever the IP', async () => {
    const server = app.getHttpServer();
    const login = (ip: string, email: string, password: string) =>
      request(server).post('/login').set(from(ip)).send({ email, password });
    // Successes do not count.
    for (let i = 0; i < 4; i += 1) {
      await login('198.51.100.1', 'alice@example.com', 'right').expect(200);
    }
    await login('198.51.100.2', 'Alice@Example.com', 'wrong').expect(401);
    await login('198.51.100.3', 'alice@example.com', 'wrong').expect(401);
    const limited = await login('198.51.100.4', 'alice@example.com', 'right').expect(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body.statusCode).toBe(429);
    // Another account from the same IPs is untouched.
    await login('198.51.100.4', 'bob@example.com', 'right').expect(200);
    expect(await rejections()).toEqual([
      expect.objectContaining({ labels: { limiter: 'login-account', route: '/login' }, value: 1 }),
    ]);
  });
});
