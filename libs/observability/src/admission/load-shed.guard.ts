import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { SHED_DECISION, type ShedRequest } from './load-shed.middleware';

/**
 * Throws the refusal {@link LoadShedMiddleware} decided, before any other guard spends work
 * on the request (registered first, by `ObservabilityModule`).
 */
@Injectable()
export class LoadShedGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const refusal = context.switchToHttp().getRequest<ShedRequest>()[SHED_DECISION];
    if (refusal) {
      throw refusal;
    }
    return true;
  }
}
