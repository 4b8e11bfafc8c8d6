import { parseRate } from '@keel/platform';
import { gatewayRateLimiters, loginEmail, serviceRateLimiters } from './contract-rate-limiters';

const rates = {
  global: parseRate('300/60s')!,
  auth: parseRate('10/1m')!,
  loginAccount: parseRate('5/300s')!,
  service: parseRate('1000/60s')!,
};

describe(gatewayRateLimiters.name, () => {
  it('turns the contract rates into limits in milliseconds', () => {
    const limiters = gatewayRateLimiters(rates);
    expect(limiters.map(({ name, limit, windowMs }) => ({ name, limit, windowMs }))).toEqual([
      { name: 'global', limit: 300, windowMs: 60_000 },
      { name: 'auth', limit: 10, windowMs: 60_000 },
      { name: 'login-account', limit: 5, windowMs: 300_000 },
    ]);
  });

  it('limits /api routes globally, login and register per IP, failed logins per e-mail', () => {
    const [global, auth, account] = gatewayRateLimiters(rates);
    expect(global.routes).toEqual([{ path: /^\/api\// }]);
    expect(auth.by).toBe('ip');
    expect(auth.routes?.map((r) => `${r.method} ${String(r.path)}`)).toEqual([
      'POST /api/v1/auth/login',
      'POST /api/v1/auth/register',
    ]);
    expect(account.countStatuses).toEqual([401]);
    expect(account.by).toBe(loginEmail);
  });
});

describe(serviceRateLimiters.name, () => {
  it('is one per-caller limit over every route but the internal ones', () => {
    const [service] = serviceRateLimiters(rates);
    expect(service).toMatchObject({ name: 'service', limit: 1000, windowMs: 60_000 });
    const path = service.routes![0].path as RegExp;
    expect(['/auth/login', '/users/me', '/users/internal'].every((p) => path.test(p))).toBe(true);
    expect(['/internal/users', '/internal'].some((p) => path.test(p))).toBe(false);
  });
});

describe(loginEmail.name, () => {
  const req = (body: unknown) => ({
    method: 'POST',
    path: '/api/v1/auth/login',
    headers: {},
    body,
  });

  it('normalises case and spaces, as auth-service compares e-mails', () => {
    expect(loginEmail(req({ email: '  Alice@Example.COM ' }))).toBe('alice@example.com');
  });

  it('ignores bodies without a usable e-mail', () => {
    expect(loginEmail(req(undefined))).toBeUndefined();
    expect(loginEmail(req({ email: 42 }))).toBeUndefined();
    expect(loginEmail(req({ email: '   ' }))).toBeUndefined();
    expect(loginEmail(req({ email: `${'a'.repeat(300)}@x.io` }))).toBeUndefined();
  });
});
