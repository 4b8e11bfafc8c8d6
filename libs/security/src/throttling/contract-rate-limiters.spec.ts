import { parseRate } from '@keel/platform';
import { serviceRateLimiters } from './contract-rate-limiters';

const rates = {
  global: parseRate('300/60s')!,
  auth: parseRate('10/1m')!,
  loginAccount: parseRate('5/300s')!,
  service: parseRate('1000/60s')!,
};

describe(serviceRateLimiters.name, () => {
  it('is one per-caller limit over every route but the internal ones', () => {
    const [service] = serviceRateLimiters(rates);
    expect(service).toMatchObject({ name: 'service', limit: 1000, windowMs: 60_000 });
    const path = service.routes![0].path as RegExp;
    expect(['/auth/login', '/users/me', '/users/internal'].every((p) => path.test(p))).toBe(true);
    expect(['/internal/users', '/internal'].some((p) => path.test(p))).toBe(false);
  });
});
