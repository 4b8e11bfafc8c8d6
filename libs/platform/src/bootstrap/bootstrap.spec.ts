import { request as httpRequest } from 'node:http';
import { type AddressInfo } from 'node:net';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ObservabilityModule } from '@keel/observability';
import { installGracefulDrain } from './bootstrap';
import { ShutdownOwner } from './shutdown';

let entered: (() => void) | undefined;
/** The slow handler answers when the test says so, not after a time the test races. */
let finish: () => void = () => undefined;

@Controller('slow')
class SlowController {
  @Get()
  async slow(): Promise<{ done: true }> {
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    entered?.();
    await finished;
    return { done: true };
  }
}

function get(base: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

describe(installGracefulDrain.name, () => {
  let app: INestApplication;
  let base: string;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ObservabilityModule.forRoot({
          serviceName: 'drain-spec',
          version: '0.0.0',
          logLevel: 'silent',
          logFormat: 'json',
        }),
      ],
      controllers: [SlowController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  it('turns readiness 503 first, lets in-flight requests finish, then closes', async () => {
    // The delay only has to outlast one local request on a busy machine.
    const drain = installGracefulDrain(app, { delayMs: 1000 }, new ShutdownOwner());
    await get(base, '/health/ready').then((res) => expect(res.status).toBe(200));
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const slow = get(base, '/slow');
    await inside;
    let closed = false;
    const draining = drain().then(() => {
      closed = true;
    });
    // During the delay the listener still accepts, and says it is not ready.
    const ready = await get(base, '/health/ready');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ message: 'Not ready: shutdown down' });
    expect(closed).toBe(false);
    finish();
    const answer = await slow;
    expect(answer).toEqual({ status: 200, body: JSON.stringify({ done: true }) });
    await draining;
    expect(app.getHttpServer().listening).toBe(false);
    await expect(get(base, '/health/live')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('gives up on requests still running after the timeout', async () => {
    const drain = installGracefulDrain(app, { timeoutMs: 50 }, new ShutdownOwner());
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const slow = get(base, '/slow').then(
      (res) => res.status,
      (error: Error) => error.message,
    );
    await inside;
    await drain();
    expect(await slow).toMatch(/socket hang up|ECONNRESET/);
    finish();
  });
});
