import { MAX_CHAOS_ENTRIES, MAX_CHAOS_LATENCY_MS } from './chaos.constants';
import { parseChaosHeader } from './chaos-plan';

describe(parseChaosHeader.name, () => {
  it('finds the fault addressed to the app', () => {
    expect(parseChaosHeader('users-service=error', 'users-service')).toEqual({
      latencyMs: 0,
      fault: 'error',
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
    });
  });

  it('caps a latency at the maximum', () => {
    expect(parseChaosHeader('users-service=latency:999999999', 'users-service')?.latencyMs).toBe(
      MAX_CHAOS_LATENCY_MS,
    );
  });

  it('reads several apps, tolerating spaces and case in app names', () => {
    const header = ' api-gateway=latency:100 , Users-Service=error,auth-service=latency:5';
    expect(parseChaosHeader(header, 'api-gateway')).toEqual({ latencyMs: 100, fault: undefined });
    expect(parseChaosHeader(header, 'users-service')).toEqual({ latencyMs: 0, fault: 'error' });
    expect(parseChaosHeader(header, 'auth-service')).toEqual({ latencyMs: 5, fault: undefined });
  });

  it('combines a delay and a fault for the same app', () => {
    expect(
      parseChaosHeader('users-service=latency:50,users-service=error', 'users-service'),
    ).toEqual({ latencyMs: 50, fault: 'error' });
  });

  it('accepts the process-ending faults', () => {
    expect(parseChaosHeader('users-service=reject', 'users-service')?.fault).toBe('reject');
    expect(parseChaosHeader('users-service=crash', 'users-service')?.fault).toBe('crash');
  });

  it('joins repeated headers', () => {
    expect(
      parseChaosHeader(['auth-service=error', 'users-service=latency:7'], 'users-service'),
    ).toEqual({ latencyMs: 7, fault: undefined });
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
    '',
  ])('ignores the malformed entry %j', (header) => {
    expect(parseChaosHeader(header, 'users-service')).toBeUndefined();
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
