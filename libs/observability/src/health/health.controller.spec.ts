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

  /** `keel_dependency_up` by dependency, from the app's own `/metrics`. */
  async function dependencyGauge(server: Server): Promise<Record<string, number>> {
    const text = (await request(server).get('/metrics').expect(200)).text;
    const values: Record<string, number> = {};
    for (const match of text.matchAll(/^keel_dependency_up\{([^}]*)\} (\S+)$/gm)) {
      const dependency = /dependency="([^"]*)"/.exec(match[1])?.[1];
      if (dependency) {
        values[dependency] = Number(match[2]);
      }
    }
    return values;
  }

  it('answers live, and ready with the database up, reporting upstreams apart', async () => {
    const server = (
      await app({ upstreams: [{ name: 'auth-service', url: upstreamUrl }] })
    ).getHttpServer();
    await request(server).get('/health/live').expect(200, { status: 'ok' });
    const ready = await request(server).get('/health/ready').expect(200);
    expect(ready.body).toMatchObject({
      status: 'ok',
      details: { database: { status: 'up' } },
      dependencies: { 'auth-service': { status: 'up' } },
    });
    expect(Object.keys(ready.body.details)).toEqual(['database']);
    expect(await dependencyGauge(server)).toEqual({ database: 1, 'auth-service': 1 });
  });

  it('stays ready when an upstream does not answer, reporting it down in body and gauge', async () => {
    const down = await closedUrl('http');
    const server = (
      await app({ upstreams: [{ name: 'users-service', url: down }] }, false)
    ).getHttpServer();
    const res = await request(server).get('/health/ready').expect(200);
    expect(res.body).toMatchObject({
      status: 'ok',
      dependencies: { 'users-service': { status: 'down' } },
    });
    expect(typeof res.body.dependencies['users-service'].message).toBe('string');
    expect(await dependencyGauge(server)).toEqual({ 'users-service': 0 });
  });

  it('stays ready when the configured Redis is unreachable, reporting it down', async () => {
    const server = (await app({ redisUrl: await closedUrl('redis') })).getHttpServer();
    const res = await request(server).get('/health/ready').expect(200);
    expect(res.body.details).toEqual({ database: { status: 'up' } });
    expect(res.body.dependencies).toMatchObject({ redis: { status: 'down' } });
    expect(await dependencyGauge(server)).toEqual({ database: 1, redis: 0 });
  });

  it('turns 503 naming the database while it is gone, 200 when it is back', async () => {
    const nest = await app({});
    const server = nest.getHttpServer();
    const dataSource = nest.get(DataSource);
    await request(server).get('/health/ready').expect(200);
    await dataSource.destroy();
    const res = await request(server).get('/health/ready').expect(503);
    expect(res.body).toMatchObject({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'Not ready: database down',
      details: { database: { status: 'down' } },
    });
    expect(typeof res.body.requestId).toBe('string');
    expect((await dependencyGauge(server)).database).toBe(0);
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
          const reply = await request(server).get('/health/ready').expect(200);
          return reply.body.dependencies.redis?.status === 'up' ? reply : undefined;
        },
        { what: 'readiness reporting the configured Redis up' },
      );
      expect(res.body.dependencies.redis).toEqual({ status: 'up' });
    });
  });
});
