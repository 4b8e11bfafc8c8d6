import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { type ClosedPort, holdClosedPort } from '../../../../test/support/ports';
import { describeWithRedis, redisUrl } from '../../../../test/support/services';
import { waitFor } from '../../../../test/support/wait';
import { ObservabilityModule } from '../observability.module';
import { type HealthOptions } from './health-options.interface';
import { HealthController } from './health.controller';
import { ReadinessState } from './readiness.state';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const held: ClosedPort[] = [];

/** A URL that refuses connections for the rest of this file (a port held closed, no race). */
async function closedUrl(scheme: string): Promise<string> {
  const port = await holdClosedPort();
  held.push(port);
  return port.url(scheme);
}

async function makeApp(health: HealthOptions, database = true): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ObservabilityModule.forRoot({
        serviceName: 'health-spec',
        version: '0.0.0',
        logLevel: 'silent',
        logFormat: 'json',
        health,
      }),
      ...(database
        ? [TypeOrmModule.forRoot({ type: 'better-sqlite3', database: ':memory:' })]
        : []),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

describe(HealthController.name, () => {
  let upstream: Server;
  let upstreamUrl: string;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      res.statusCode = req.url === '/health/live' ? 200 : 404;
      res.end('{}');
    });
    upstreamUrl = await listen(upstream);
  });

  afterAll(async () => {
    for (const app of apps) {
      await app.close();
    }
    await new Promise((resolve) => upstream.close(resolve));
    await Promise.all(held.map((port) => port.release()));
  });

  async function app(health: HealthOptions, database = true): Promise<INestApplication> {
    const created = await makeApp(health, database);
    apps.push(created);
    return created;
  }

  it('answers live, and ready with the database and upstreams up', async () => {
    const server = (
      await app({ upstreams: [{ name: 'auth-service', url: upstreamUrl }] })
    ).getHttpServer();
    await request(server).get('/health/live').expect(200, { status: 'ok' });
    const ready = await request(server).get('/health/ready').expect(200);
    expect(ready.body).toMatchObject({
      status: 'ok',
      details: { database: { status: 'up' }, 'auth-service': { status: 'up' } },
    });
  });

  it('turns 503 naming an upstream that does not answer', async () => {
    const down = await closedUrl('http');
    const server = (
      await app({ upstreams: [{ name: 'users-service', url: down }] }, false)
    ).getHttpServer();
    const res = await request(server).get('/health/ready').expect(503);
    expect(res.body).toMatchObject({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'Not ready: users-service down',
      details: { 'users-service': { status: 'down' } },
    });
    expect(typeof res.body.requestId).toBe('string');
  });

  it('turns 503 naming Redis when the configured Redis is unreachable', async () => {
    const server = (await app({ redisUrl: await closedUrl('redis') })).getHttpServer();
    const res = await request(server).get('/health/ready').expect(503);
    expect(res.body.message).toBe('Not ready: redis down');
    expect(res.body.details).toMatchObject({
      database: { status: 'up' },
      redis: { status: 'down' },
    });
  });

  it('turns 503 naming the database while it is gone, 200 when it is back', async () => {
    const nest = await app({});
    const server = nest.getHttpServer();
    const dataSource = nest.get(DataSource);
    await request(server).get('/health/ready').expect(200);
    await dataSource.destroy();
    const res = await request(server).get('/health/ready').expect(503);
    expect(res.body.details.database).toMatchObject({ status: 'down' });
    await dataSource.initialize();
    await request(server).get('/health/ready').expect(200);
  });

  it('turns 503 once the process starts draining, while live stays 200', async () => {
    const nest = await app({});
    nest.get(ReadinessState).onDrainStart();
    const res = await request(nest.getHttpServer()).get('/health/ready').expect(503);
    expect(res.body.message).toBe('Not ready: shutdown down');
    await request(nest.getHttpServer()).get('/health/live').expect(200);
  });

  describeWithRedis()('with Redis', () => {
    it('is ready when the configured Redis answers', async () => {
      const server = (await app({ redisUrl })).getHttpServer();
      // The health connection opens at start: wait for it, not for a fixed time.
      const res = await waitFor(
        async () => {
          const reply = await request(server).get('/health/ready');
          return reply.status === 200 ? reply : undefined;
        },
        { what: 'readiness 200 with the configured Redis' },
      );
      expect(res.body.details.redis).toEqual({ status: 'up' });
    });
  });
});
