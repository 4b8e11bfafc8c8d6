import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { isOperationalPath, RequestContext } from '@keel/platform';
import { type Request } from 'express';
import { AccessTokenVerifier } from './access-token.verifier';
import { IS_PUBLIC_KEY, ROLES_KEY } from './auth.constants';
import { type AuthenticatedUser } from './authenticated-user';

export type RequestWithUser = Request & { user?: AuthenticatedUser };

/** Bearer token from an `Authorization` header, or `undefined`. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer ([A-Za-z0-9._~+/=-]{1,4096})$/.exec(header ?? '');
  return match?.[1];
}

/**
 * The edge's decision once a token was checked, shared by this guard and by handlers that
 * route requests themselves (the gateway): 401 without a user, the user on the request and
 * in the request context, 403 when `roles` are named and the user holds none of them.
 */
export function admitBearer(
  req: RequestWithUser,
  user: AuthenticatedUser | undefined,
  roles: readonly string[] | undefined,
): AuthenticatedUser {
  if (!user) {
    throw new UnauthorizedException('Missing or invalid bearer token');
  }
  req.user = user;
  const store = RequestContext.current();
  if (store) {
    store.userId = user.id;
  }
  if (roles && roles.length > 0 && !roles.some((role) => user.roles.includes(role))) {
    throw new ForbiddenException('Insufficient role');
  }
  return user;
}

/**
 * Global guard: every route needs a valid access token unless marked `@Public()`;
 * `@Roles()` narrows further. Operational routes (`/health/*`, `/metrics`) are always open.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(AccessTokenVerifier) private readonly verifier: AccessTokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') {
      return true;
    }
    const req = context.switchToHttp().getRequest<RequestWithUser>();
    if (this.isPublic(context, req)) {
      return true;
    }
    const token = bearerToken(req.headers.authorization);
    const user = token ? await this.verifier.verify(token) : undefined;
    const roles = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    admitBearer(req, user, roles);
    return true;
  }

  protected isPublic(context: ExecutionContext, req: Request): boolean {
    if (isOperationalPath(req.path)) {
      return true;
    }
    return (
      this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [
        context.getHandler(),
        context.getClass(),
      ]) === true
    );
  }
}
