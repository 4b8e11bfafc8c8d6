import { type ExecutionContext, ForbiddenException, UnauthorizedException } from '@nestjs/common';
import { InternalTokenGuard } from './internal-token.guard';

const TOKEN = 'a-shared-internal-secret-0123456789';

function contextWith(headers: Record<string, string | string[] | undefined>): ExecutionContext {
  return {
    switchToHttp: () => ({ getRequest: () => ({ headers }) }),
  } as unknown as ExecutionContext;
}

describe(InternalTokenGuard.name, () => {
  const guard = new InternalTokenGuard({ internalToken: TOKEN });

  it('lets the right token through', () => {
    expect(guard.canActivate(contextWith({ 'x-internal-token': TOKEN }))).toBe(true);
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
  ])('answers 401 when the token is %s', (_name, value) => {
    expect(() => guard.canActivate(contextWith({ 'x-internal-token': value }))).toThrow(
      UnauthorizedException,
    );
  });

  it.each([
    ['wrong', 'not-the-shared-internal-secret-0000'],
    ['a prefix of the token', TOKEN.slice(0, -1)],
    ['the token with more after it', `${TOKEN}x`],
    ['differently cased', TOKEN.toUpperCase()],
    ['repeated', [TOKEN, TOKEN]],
  ])('answers 403 when the token is %s', (_name, value) => {
    expect(() => guard.canActivate(contextWith({ 'x-internal-token': value }))).toThrow(
      ForbiddenException,
    );
  });

  it('does not accept a bearer token in place of the internal token', () => {
    expect(() => guard.canActivate(contextWith({ authorization: `Bearer ${TOKEN}` }))).toThrow(
      UnauthorizedException,
    );
  });
});
