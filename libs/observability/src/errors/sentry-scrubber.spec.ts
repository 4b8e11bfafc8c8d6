import { performance } from 'node:perf_hooks';
import { type Breadcrumb, type ErrorEvent } from '@sentry/nestjs';
import { REDACTED } from '../logging/redaction.constants';
import { MAX_SCRUBBED_STRING_LENGTH, SentryScrubber } from './sentry-scrubber';

const JWT =
  'eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1MSIsImV4cCI6MTc2NDIzMDQwMH0.c2lnbmF0dXJlLXBhcnQ';
const INTERNAL = 'internal-secret-value-1234567890';
const PASSWORD = 'correct horse battery staple';

function event(overrides: Partial<ErrorEvent> = {}): ErrorEvent {
  return {
    type: undefined,
    event_id: 'e1',
    tags: { service: 'users-service', request_id: 'req-1', trace_id: 'a'.repeat(32) },
    contexts: { trace: { trace_id: 'a'.repeat(32), span_id: 'b'.repeat(16) } },
    user: { id: 'user-1' },
    ...overrides,
  };
}

describe(SentryScrubber.name, () => {
  const scrubber = new SentryScrubber([INTERNAL]);

  it('removes request bodies and cookies and redacts secret headers', () => {
    const out = scrubber.scrubEvent(
      event({
        request: {
          method: 'POST',
          url: 'http://127.0.0.1/auth/login',
          data: { email: 'a@x.io', password: PASSWORD },
          cookies: { session: 'abc' },
          headers: {
            Authorization: `Bearer ${JWT}`,
            cookie: 'session=abc',
            'x-internal-token': INTERNAL,
            'x-request-id': 'req-1',
          },
        },
      }),
    );
    expect(out.request?.data).toBeUndefined();
    expect(out.request?.cookies).toBeUndefined();
    expect(out.request?.headers).toEqual({
      Authorization: REDACTED,
      cookie: REDACTED,
      'x-internal-token': REDACTED,
      'x-request-id': 'req-1',
    });
  });

  it('scrubs secrets inside strings: bearer tokens, JWTs, pairs, query strings', () => {
    const out = scrubber.scrubEvent(
      event({
        message: `login failed for body {"email":"a@x.io","password":"${PASSWORD.split(' ')[0]}"}`,
        exception: {
          values: [
            { type: 'Error', value: `upstream said: Authorization: Bearer ${JWT} was refused` },
            { type: 'Error', value: `token ${JWT} expired; refreshToken=opaque-value-123` },
          ],
        },
        request: { url: `http://h/x?access_token=${JWT}&page=2`, query_string: 'token=t0k3n&a=1' },
      }),
    );
    const text = JSON.stringify(out);
    expect(text).not.toContain(JWT);
    expect(text).not.toContain('correct');
    expect(text).not.toContain('opaque-value-123');
    expect(text).not.toContain('t0k3n');
    expect(out.request?.url).toBe(`http://h/x?access_token=${REDACTED}&page=2`);
    expect(out.exception?.values?.[0].value).toBe(
      `upstream said: Authorization: Bearer ${REDACTED} was refused`,
    );
  });

  it('redacts sensitive keys at any depth in extra and contexts', () => {
    const out = scrubber.scrubEvent(
      event({
        extra: { dto: { user: { password: PASSWORD, email: 'a@x.io' } }, list: [{ token: 'x' }] },
        contexts: {
          trace: { trace_id: 'a'.repeat(32), span_id: 'b'.repeat(16) },
          upstream: { headers: [['authorization', 'Bearer abc.def']], accessToken: 'at' },
        },
      }),
    );
    expect(out.extra).toEqual({
      dto: { user: { password: REDACTED, email: 'a@x.io' } },
      list: [{ token: REDACTED }],
    });
    expect(out.contexts?.upstream).toEqual({
      headers: [['authorization', REDACTED]],
      accessToken: REDACTED,
    });
  });

  it('replaces known secret values wherever they appear', () => {
    const out = scrubber.scrubEvent(
      event({ message: `calling with ${INTERNAL} failed`, extra: { note: `k=${INTERNAL}` } }),
    );
    expect(JSON.stringify(out)).not.toContain(INTERNAL);
    expect(out.message).toBe(`calling with ${REDACTED} failed`);
  });

  it('keeps what correlates the event', () => {
    const original = event();
    const out = scrubber.scrubEvent(event());
    expect(out.tags).toEqual(original.tags);
    expect(out.contexts).toEqual(original.contexts);
    expect(out.user).toEqual({ id: 'user-1' });
  });

  it('scrubs breadcrumbs in events and on their own', () => {
    const crumb: Breadcrumb = {
      category: 'http',
      message: `GET /x?password=${PASSWORD.split(' ')[0]}`,
      data: { url: 'http://h/y', headers: { authorization: `Bearer ${JWT}` } },
    };
    const alone = scrubber.scrubBreadcrumb(crumb);
    expect(alone.message).toBe(`GET /x?password=${REDACTED}`);
    expect(alone.data).toEqual({ url: 'http://h/y', headers: { authorization: REDACTED } });
    const inEvent = scrubber.scrubEvent(event({ breadcrumbs: [crumb] }));
    expect(JSON.stringify(inEvent)).not.toContain(JWT);
  });

  it('bounds the depth it walks', () => {
    let deep: Record<string, unknown> = { password: 'p' };
    for (let i = 0; i < 50; i += 1) {
      deep = { next: deep };
    }
    expect(JSON.stringify(scrubber.scrubEvent(event({ extra: deep })))).toContain('[Truncated]');
  });

  it('ignores short or empty secrets instead of shredding every string', () => {
    const lenient = new SentryScrubber(['', undefined, 'ab']);
    expect(lenient.scrubString('about a tab')).toBe('about a tab');
  });

  describe('on hostile 64 KB strings (a client controls paths and queries)', () => {
    const N = 64 * 1024;
    const hostile: Record<string, string> = {
      'a run of letters': 'a'.repeat(N),
      'repeated JWT starts': 'eyJ'.repeat(N / 3),
      'repeated token names': 'x_token'.repeat(N / 7),
      'a long path': `/api/v1/users/${'a-'.repeat(N / 2)}`,
      'repeated pairs': 'password='.repeat(N / 9),
      'JSON-ish pairs': '"token": "'.repeat(N / 10),
      'bearer then spaces': `Bearer ${' '.repeat(N)}`,
      'words and equals': 'secret ='.repeat(N / 8),
      mixed: `${'Bearer eyJ'.repeat(N / 20)}${'api-key:'.repeat(N / 16)}`,
    };

    it.each(Object.keys(hostile))('scrubs %s in linear time', (name) => {
      const value = hostile[name];
      expect(value.length).toBeGreaterThanOrEqual(N - 16);
      const started = performance.now();
      scrubber.scrubString(value);
      scrubber.scrubEvent(event({ request: { url: `http://h${value}`, query_string: value } }));
      // Quadratic scanning took 7.7-15 s on this input; linear takes tens of ms. The bound
      // sits far from both, so a loaded CI machine cannot fail it and a regression cannot pass.
      expect(performance.now() - started).toBeLessThan(2000);
    });

    it('still finds the secrets around hostile runs', () => {
      const out = scrubber.scrubString(`${'a'.repeat(N / 2)} password=hunter22 Bearer ${JWT}`);
      expect(out).not.toContain('hunter22');
      expect(out).not.toContain(JWT);
      expect(out.length).toBeLessThan(N);
    });

    it('cuts strings past the bound', () => {
      const out = scrubber.scrubString('b'.repeat(MAX_SCRUBBED_STRING_LENGTH * 4));
      expect(out.length).toBeLessThan(MAX_SCRUBBED_STRING_LENGTH + 32);
      expect(out.endsWith('[Truncated]')).toBe(true);
    });
  });
});
