import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import pino, { type LoggerOptions } from 'pino';
import { redactAttributes } from '../tracing/redacting-span.exporter';
import { loggerOptions } from './logger-params.factory';
import {
  isSensitiveKey,
  PINO_REDACT_PATHS,
  REDACTED,
  redactDeep,
  SENSITIVE_KEYS,
} from './redaction.constants';

const SECRET = 'S3cr3t-value-that-must-not-leak';

/** A pino logger configured with the platform's redaction, writing lines to an array. */
function capturingLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const options: LoggerOptions = loggerOptions({
    serviceName: 'test',
    version: '0.0.0',
    logLevel: 'info',
    logFormat: 'json',
  });
  return { logger: pino({ redact: options.redact }, stream), lines };
}

describe('redaction', () => {
  it('covers the names CONTRACT §5 forbids, case-insensitively', () => {
    for (const key of [
      'Authorization',
      'COOKIE',
      'set-cookie',
      'X-Internal-Token',
      'password',
      'accesstoken',
      'refreshToken',
    ]) {
      expect(isSensitiveKey(key)).toBe(true);
    }
    expect(isSensitiveKey('email')).toBe(false);
    expect(SENSITIVE_KEYS).toHaveLength(7);
  });

  describe(redactDeep.name, () => {
    it('replaces sensitive values at any depth and keeps the rest', () => {
      const input = {
        email: 'a@b.io',
        password: SECRET,
        nested: {
          headers: { Authorization: `Bearer ${SECRET}` },
          items: [{ refreshToken: SECRET }],
        },
      };

      const output = redactDeep(input);

      expect(JSON.stringify(output)).not.toContain(SECRET);
      expect(output).toEqual({
        email: 'a@b.io',
        password: REDACTED,
        nested: { headers: { Authorization: REDACTED }, items: [{ refreshToken: REDACTED }] },
      });
      expect(input.password).toBe(SECRET);
    });

    it('stops at a bounded depth', () => {
      let deep: Record<string, unknown> = { password: SECRET };
      for (let i = 0; i < 20; i++) {
        deep = { next: deep };
      }
      expect(JSON.stringify(redactDeep(deep))).not.toContain(SECRET);
    });
  });

  describe('log lines (pino redact paths)', () => {
    it.each([
      ['a top-level key', { password: SECRET }],
      ['a request body', { body: { password: SECRET, email: 'a@b.io' } }],
      ['a DTO one level down', { dto: { refreshToken: SECRET } }],
      [
        'request headers',
        { req: { headers: { authorization: `Bearer ${SECRET}`, cookie: SECRET } } },
      ],
      ['response headers', { res: { headers: { 'set-cookie': SECRET } } }],
      ['an HTTP client error', { err: { config: { headers: { 'x-internal-token': SECRET } } } }],
      ['a failed query', { err: { message: 'insert failed', parameters: ['a@b.io', SECRET] } }],
    ])('censors %s', (_case, payload) => {
      const { logger, lines } = capturingLogger();

      logger.info(payload, 'message');

      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toContain(SECRET);
      expect(lines[0]).toContain(REDACTED);
    });

    it('has one path per place a key appears, all valid for pino', () => {
      expect(new Set(PINO_REDACT_PATHS).size).toBe(PINO_REDACT_PATHS.length);
      expect(() => pino({ redact: [...PINO_REDACT_PATHS] })).not.toThrow();
    });
  });

  describe(redactAttributes.name, () => {
    it('censors header attributes and sensitive query parameters in URLs', () => {
      const attributes = {
        'http.request.header.authorization': [`Bearer ${SECRET}`],
        'http.request.header.x-internal-token': [SECRET],
        'url.full': `http://h/auth/reset?password=${SECRET}&lang=en`,
        'url.query': `refreshToken=${SECRET}`,
        'http.route': '/auth/login',
      };

      const output = redactAttributes(attributes);

      expect(JSON.stringify(output)).not.toContain(SECRET);
      expect(output['url.full']).toBe('http://h/auth/reset?password=%5BRedacted%5D&lang=en');
      expect(output['http.route']).toBe('/auth/login');
      expect(attributes['url.query']).toContain(SECRET);
    });

    it('returns the same object when nothing is sensitive', () => {
      const attributes = { 'http.route': '/users/:id', 'url.full': 'http://h/users?limit=5' };
      expect(redactAttributes(attributes)).toBe(attributes);
    });
  });
});

describe('redaction on hostile 64 KB input', () => {
  const N = 64 * 1024;

  it('runs in linear time over long keys, long values and long URLs', () => {
    const longKey = 'k'.repeat(N);
    const value = {
      [longKey]: 'v'.repeat(N),
      nested: { password: SECRET, [`${'a'.repeat(N)}password`]: 'x' },
      list: Array.from({ length: 1024 }, () => ({ authorization: SECRET, note: 'n'.repeat(64) })),
    };
    const started = performance.now();
    const out = JSON.stringify(redactDeep(value));
    redactAttributes({
      'url.full': `http://h/${'p'.repeat(N)}?${'q=1&'.repeat(N / 4)}password=${SECRET}`,
      'http.target': '?'.repeat(N),
      [`x.${'h'.repeat(N)}`]: 'v',
    });
    const { logger, lines } = capturingLogger();
    logger.info({ body: { password: SECRET, text: 'a'.repeat(N) }, [longKey]: 1 }, 'long');
    // Quadratic scanning took 7.7-15 s on this input; linear takes tens of ms. The bound
    // sits far from both, so a loaded CI machine cannot fail it and a regression cannot pass.
    expect(performance.now() - started).toBeLessThan(2000);
    expect(out).not.toContain(SECRET);
    expect(lines.join('')).not.toContain(SECRET);
  });
});
