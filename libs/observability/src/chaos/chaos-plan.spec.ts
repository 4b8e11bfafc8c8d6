import { MAX_CHAOS_ENTRIES, MAX_CHAOS_LATENCY_MS } from './chaos.constants';
import { parseChaosHeader } from './chaos-plan';

describe(parseChaosHeader.name, () => {
  it('finds the fault addressed to the app', () => {
    expect(parseChaosHeader('users-service=error', 'users-service')).toEqual({
      latencyMs: 0,
      fault: 'error',
      ignored: [],
    });
  });

  it('ignores entries for other apps', () => {
    expect(parseChaosHeader('auth-service=error', 'users-service')).toBeUndefined();
    expect(parseChaosHeader('users-service-2=error', 'users-service')).toBeUndefined();
  });

  it('reads a latency in milliseconds', () => {
    expect(parseChaosHeader('users-service=latency:250', 'users-service')).toEqual({
      latencyMs: 250,
      fault: undefined,
      ignored: [],
    });
  });

  it('caps a latency at the maximum', () => {
    expect(parseChaosHeader('users-service=latency:999999999', 'users-service')?.latencyMs).toBe(
      MAX_CHAOS_LATENCY_MS,
    );
  });

  it('reads several apps, tolerating spaces and case in app names', () => {
    const header = ' api-gateway=latency:100 , Users-Service=error,auth-service=latency:5';
    expect(parseChaosHeader(header, 'api-gateway')).toMatchObject({
      latencyMs: 100,
      fault: undefined,
    });
    expect(parseChaosHeader(header, 'users-service')).toMatchObject({
      latencyMs: 0,
      fault: 'error',
    });
    expect(parseChaosHeader(header, 'auth-service')).toMatchObject({
      latencyMs: 5,
      fault: undefined,
    });
  });

  it('combines a delay and a fault for the same app', () => {
    expect(
      parseChaosHeader('users-service=latency:50,users-service=error', 'users-service'),
    ).toEqual({ latencyMs: 50, fault: 'error', ignored: [] });
  });

  it('knows no process-ending faults: other modes are ignored and listed', () => {
    for (const mode of ['reject', 'crash', 'exit', 'oom']) {
      expect(parseChaosHeader(`users-service=${mode}`, 'users-service')).toEqual({
        latencyMs: 0,
        fault: undefined,
        ignored: [`users-service=${mode}`],
      });
    }
  });

  it('caps a latency at 10 s', () => {
    expect(MAX_CHAOS_LATENCY_MS).toBe(10_000);
  });

  it('joins repeated headers', () => {
    expect(
      parseChaosHeader(['auth-service=error', 'users-service=latency:7'], 'users-service'),
    ).toEqual({ latencyMs: 7, fault: undefined, ignored: [] });
  });

  it.each([
    'users-service',
    'users-service=',
    'users-service=explode',
    'users-service=latency',
    'users-service=latency:',
    'users-service=latency:-5',
    'users-service=latency:1e3',
    'users-service=latency:abc',
    'users-service=error:5',
    '=error',
    'users service=error',
  ])('ignores the malformed entry %j, listing it', (header) => {
    expect(parseChaosHeader(header, 'users-service')).toEqual({
      latencyMs: 0,
      fault: undefined,
      ignored: [header],
    });
  });

  it('ignores an empty header', () => {
    expect(parseChaosHeader('', 'users-service')).toBeUndefined();
  });

  it('keeps the valid entries beside malformed ones', () => {
    expect(parseChaosHeader('garbage,users-service=error,,=', 'users-service')?.fault).toBe(
      'error',
    );
  });

  it('reads no more than the first entries of a long header', () => {
    const filler = Array.from({ length: MAX_CHAOS_ENTRIES }, () => 'auth-service=error');
    expect(parseChaosHeader([...filler, 'users-service=error'].join(','), 'users-service')).toBe(
      undefined,
    );
  });

  it('returns nothing without a header', () => {
    expect(parseChaosHeader(undefined, 'users-service')).toBeUndefined();
  });
});
