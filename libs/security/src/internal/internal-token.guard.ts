import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { APP_CONFIG, type BaseConfig, INTERNAL_TOKEN_HEADER } from '@keel/platform';
import { type Request } from 'express';

/**
 * Guards `/internal/*`: the caller must send the shared `x-internal-token`. Missing is 401,
 * wrong is 403. Tokens are compared as SHA-256 digests with `timingSafeEqual`, so neither
 * the content nor the length of the secret leaks through response times.
 */
@Injectable()
export class InternalTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(APP_CONFIG) config: Pick<BaseConfig, 'internalToken'>) {
    this.expected = internalTokenDigest(config.internalToken);
  }

  canActivate(context: ExecutionContext): boolean {
    const presented = context.switchToHttp().getRequest<Request>().headers[INTERNAL_TOKEN_HEADER];
    if (presented === undefined || presented === '') {
      throw new UnauthorizedException('Missing internal token');
    }
    if (!internalTokenMatches(presented, this.expected)) {
      throw new ForbiddenException('Invalid internal token');
    }
    return true;
  }
}

/** SHA-256 of a token, the form {@link internalTokenMatches} compares. */
export function internalTokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * Whether a presented `x-internal-token` header is the expected token (given as its
 * {@link internalTokenDigest}), in constant time. A repeated header arrives as an array; it
 * is never the token.
 */
export function internalTokenMatches(
  presented: string | string[] | undefined,
  expected: Buffer,
): boolean {
  return (
    typeof presented === 'string' &&
    presented !== '' &&
    timingSafeEqual(internalTokenDigest(presented), expected)
  );
}
