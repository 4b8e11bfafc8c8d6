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
    this.expected = digest(config.internalToken);
  }

  canActivate(context: ExecutionContext): boolean {
    const presented = context.switchToHttp().getRequest<Request>().headers[INTERNAL_TOKEN_HEADER];
    if (presented === undefined || presented === '') {
      throw new UnauthorizedException('Missing internal token');
    }
    // A repeated header arrives as an array (or joined); it is never the token.
    if (typeof presented !== 'string' || !timingSafeEqual(digest(presented), this.expected)) {
      throw new ForbiddenException('Invalid internal token');
    }
    return true;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
