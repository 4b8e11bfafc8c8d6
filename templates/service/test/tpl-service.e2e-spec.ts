import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { configureApp } from '@keel/platform';
import request from 'supertest';
import { type AuthStub, startAuthStub } from '../../../test/support/auth-stub';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database';
import { parseExposition, sampleValue } from '../../../test/support/exposition';
import { errorBody } from '../../../test/support/http';
import { describeWithPostgres, postgresUrl } from '../../../test/support/services';
import { AppModule } from '../src/app.module';
import { loadAppConfig } from '../src/config/app-config';

const drivers: [string, () => typeof describe][] = [
  ['SQLite', () => describe],
  ['PostgreSQL', describeWithPostgres],
];

describe.each(drivers)('tpl-service on %s', (driver, pick) => {
  pick()('', () => {
    let auth: AuthStub;
    let app: INestApplication;
    let dataDir: string;
    let database: TestDatabase | undefined;

    beforeAll(async () => {
      auth = await startAuthStub();
      dataDir = mkdtempSync(join(tmpdir(), 'keel-tpl-service-'));
      const env: Record<string, string> = {
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        KEEL_DATA_DIR: dataDir,
        AUTH_SERVICE_URL: auth.url,
      };
      if (driver === 'PostgreSQL') {
        database = await createTestDatabase(postgresUrl!);
        env.DATABASE_URL = database.url;
      }
      const config = loadAppConfig(env);
      const moduleRef = await Test.createTestingModule({
        imports: [AppModule.forRoot(config)],
      }).compile();
      app = moduleRef.createNestApplication({ bodyParser: false, bufferLogs: true });
      configureApp(app, config);
      await app.init();
    });

    afterAll(async () => {
      await app?.close();
      await auth?.stop();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const http = () => request(app.getHttpServer());

    it('creates, lists and reads the caller’s own records', async () => {
      const token = await auth.token(randomUUID());
      const created = await http()
        .post('/tpl-items')
        .set('authorization', `Bearer ${token}`)
        .send({ name: '  first  ' })
        .expect(201);
      expect(created.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'first',
        createdAt: expect.any(String),
      });
      const id = created.body.id as string;
      await http()
        .get(`/tpl-items/${id.toUpperCase()}`)
        .set('authorization', `Bearer ${token}`)
        .expect(200, created.body);
      await http()
        .get('/tpl-items')
        .set('authorization', `Bearer ${token}`)
        .expect(200, [created.body]);

      // Someone else's record does not exist for them.
      const stranger = await auth.token(randomUUID());
      const hidden = await http()
        .get(`/tpl-items/${id}`)
        .set('authorization', `Bearer ${stranger}`)
        .expect(404);
      expect(hidden.body).toEqual(errorBody(404));
      await http().get('/tpl-items').set('authorization', `Bearer ${stranger}`).expect(200, []);
    });

    it('answers 401 without a token and 400 on invalid input, with the error body', async () => {
      const token = await auth.token(randomUUID());
      const cases: [request.Test, number][] = [
        [http().get('/tpl-items'), 401],
        [http().post('/tpl-items').send({ name: 'x' }), 401],
        [http().post('/tpl-items').set('authorization', `Bearer ${token}`).send({}), 400],
        [
          http()
            .post('/tpl-items')
            .set('authorization', `Bearer ${token}`)
            .send({ name: 'x', extra: 1 }),
          400,
        ],
        [http().get('/tpl-items/not-a-uuid').set('authorization', `Bearer ${token}`), 400],
      ];
      for (const [pending, status] of cases) {
        const res = await pending;
        expect({ status: res.status, body: res.body as unknown }).toEqual({
          status,
          body: errorBody(status),
        });
      }
    });

    it('reports its database in readiness and its routes in the metrics', async () => {
      const ready = await http().get('/health/ready').expect(200);
      expect(ready.body.details.database.status).toBe('up');
      const token = await auth.token(randomUUID());
      await http()
        .get(`/tpl-items/${randomUUID()}`)
        .set('authorization', `Bearer ${token}`)
        .expect(404);
      const families = parseExposition(
        (await http().get('/metrics').expect(200)).text,
        'prometheus',
      );
      expect(
        sampleValue(families, 'http_server_request_duration_seconds_count', {
          method: 'GET',
          route: '/tpl-items/:id',
          status_code: '404',
        }),
      ).toBeGreaterThanOrEqual(1);
    });
  });
});
