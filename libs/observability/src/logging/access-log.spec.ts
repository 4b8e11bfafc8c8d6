import { type IncomingMessage, type ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import pino from 'pino';
import { AccessLog } from './access-log';
import { accessLoggerOptions } from './logger-params.factory';
import { REDACTED } from './redaction.constants';

function capture(level = 'info'): { access: AccessLog; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      out.push(chunk.toString());
      done();
    },
  });
  const logger = pino(
    {
      ...accessLoggerOptions({ serviceName: 'svc', version: '0', logLevel: 'info', logFormat: 'json' }),
      level,
    },
    stream,
  );
  return {
    access: new AccessLog(logger),
    lines: () => out.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

const req = (url: string) => ({ method: 'GET', url }) as IncomingMessage;
const res = (statusCode: number, writableFinished = true) =>
  ({ statusCode, writableFinished }) as ServerResponse;
const ids = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) };

describe(AccessLog.name, () => {
  it('writes the fields CONTRACT §5 asks of an access line', () => {
    const { access, lines } = capture();
    access.write(req('/users/1'), res(200), 'rid-1', ids, 12.4);
    expect(lines()).toEqual([
      {
        level: 'info',
        time: expect.any(String),
        service: 'svc',
        msg: 'request completed',
        requestId: 'rid-1',
        trace_id: ids.traceId,
        span_id: ids.spanId,
        req: { method: 'GET', url: '/users/1' },
        res: { statusCode: 200 },
        responseTime: 12,
      },
    ]);
  });

  it('logs 4xx as warn, 5xx and unfinished responses as error, and no trace ids outside a trace', () => {
    const { access, lines } = capture();
    access.write(req('/a'), res(404), 'r1', undefined, 1);
    access.write(req('/a'), res(503), 'r2', undefined, 1);
    access.write(req('/a'), res(200, false), 'r3', undefined, 1);
    expect(lines().map((line) => [line.level, line.msg])).toEqual([
      ['warn', 'request completed'],
      ['error', 'request failed'],
      ['error', 'request failed'],
    ]);
    expect(lines().some((line) => 'trace_id' in line || 'span_id' in line)).toBe(false);
  });

  it('censors sensitive query parameters and writes nothing below the level', () => {
    const { access, lines } = capture();
    access.write(req('/x?password=S3cret&lang=en'), res(200), 'r', undefined, 1);
    expect(JSON.stringify(lines())).not.toContain('S3cret');
    expect((lines()[0].req as { url: string }).url).toBe(
      `/x?password=${encodeURIComponent(REDACTED)}&lang=en`,
    );
    const quiet = capture('warn');
    quiet.access.write(req('/a'), res(200), 'r', undefined, 1);
    expect(quiet.lines()).toEqual([]);
  });

  it('logs the path as requested when Express rewrote url inside mounted middleware', () => {
    const { access, lines } = capture();
    const mounted = { method: 'POST', url: '/', originalUrl: '/api/v1/auth/register' };
    access.write(mounted as unknown as IncomingMessage, res(201), 'r', undefined, 1);
    expect(lines()[0].req).toEqual({ method: 'POST', url: '/api/v1/auth/register' });
  });
});
