import { EventEmitter } from 'node:events';
import { ThrottlerException } from '@nestjs/throttler';
import { Registry } from 'prom-client';
import { MemoryRateLimitStore } from './memory-rate-limit.store';
import { RateLimitMetrics } from './rate-limit.metrics';
import { RequestLimiter } from './request-limiter';
import {
  type RateLimiterDefinition,
  type RateLimitRejection,
} from './throttling-options.interface';

class FakeResponse extends EventEmitter {
  statusCode = 200;
  writableFinished = false;
  readonly headers: Record<string, string | number> = {};
  setHeader(name: string, value: string | number): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }
  finish(status: number): void {
    this.statusCode = status;
    this.writableFinished = true;
    this.emit('close');
  }
}

const req = (ip: string, body?: unknown) => ({ method: 'POST', path: '/x', ip, headers: {}, body });

describe(RequestLimiter.name, () => {
  let store: MemoryRateLimitStore;
  let rejected: RateLimitRejection[];
  let limiter: RequestLimiter;
  let registry: Registry;

  beforeEach(() => {
    store = new MemoryRateLimitStore();
    rejected = [];
    registry = new Registry();
    limiter = new RequestLimiter(store, new RateLimitMetrics(registry), {
      limiters: [],
      keyPrefix: 'test:',
      onRejected: (rejection) => rejected.push(rejection),
    });
  });

  afterEach(() => store.onApplicationShutdown());

  const global: RateLimiterDefinition = { name: 'global', limit: 3, windowMs: 60_000 };
  const perIp: RateLimiterDefinition = { name: 'auth', limit: 2, windowMs: 60_000, by: 'ip' };

  it('reports the most restrictive limit, then refuses with 429, headers and the hook', async () => {
    const first = new FakeResponse();
    await limiter.apply([global, perIp], req('192.0.2.1'), first, '/r', undefined);
    expect(first.headers).toMatchObject({ 'x-ratelimit-limit': 2, 'x-ratelimit-remaining': 1 });
    await limiter.apply([global, perIp], req('192.0.2.1'), new FakeResponse(), '/r', undefined);
    const third = new FakeResponse();
    await expect(
      limiter.apply([global, perIp], req('192.0.2.1'), third, '/r', undefined),
    ).rejects.toBeInstanceOf(ThrottlerException);
    expect(third.headers).toMatchObject({ 'x-ratelimit-remaining': 0, 'x-ratelimit-limit': 2 });
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
    expect(rejected).toEqual([{ limiter: 'auth', route: '/r', method: 'POST' }]);
    const metric = await registry.getSingleMetricAsString('rate_limit_rejections_total');
    expect(metric).toContain('rate_limit_rejections_total{limiter="auth",route="/r"} 1');
  });

  it('counts a client by its user id when given, by IP otherwise', async () => {
    for (let i = 0; i < 3; i++) {
      await limiter.apply([global], req(`192.0.2.${i}`), new FakeResponse(), '/r', 'u1');
    }
    await expect(
      limiter.apply([global], req('192.0.2.9'), new FakeResponse(), '/r', 'u1'),
    ).rejects.toBeInstanceOf(ThrottlerException);
    await limiter.apply([global], req('192.0.2.9'), new FakeResponse(), '/r', undefined);
  });

  it('reserves counted slots before the answer and gives them back unless counted', async () => {
    const failed: RateLimiterDefinition = {
      name: 'login-account',
      limit: 2,
      windowMs: 60_000,
      by: (r) => (r.body as { email: string }).email,
      countStatuses: [401],
    };
    const body = { email: 'a@example.com' };
    // Two concurrent requests take both slots: a third is refused before any answer.
    const a = new FakeResponse();
    const b = new FakeResponse();
    await limiter.apply([failed], req('192.0.2.1', body), a, '/login', undefined);
    await limiter.apply([failed], req('192.0.2.2', body), b, '/login', undefined);
    await expect(
      limiter.apply([failed], req('192.0.2.3', body), new FakeResponse(), '/login', undefined),
    ).rejects.toBeInstanceOf(ThrottlerException);
    // A success gives its slot back; a 401 keeps it.
    a.finish(200);
    b.finish(401);
    await new Promise((resolve) => setImmediate(resolve));
    await limiter.apply([failed], req('192.0.2.4', body), new FakeResponse(), '/login', undefined);
  });
});
