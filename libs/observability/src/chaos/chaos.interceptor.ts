import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  Logger,
  type NestInterceptor,
} from '@nestjs/common';
import { type Request } from 'express';
import { defer, mergeMap, type Observable, timer } from 'rxjs';
import { isOperationalPath } from '@keel/platform';
import { type ObservabilityModuleOptions } from '../observability-options.interface';
import { OBSERVABILITY_OPTIONS } from '../observability.module-definition';
import { CHAOS_HEADER } from './chaos.constants';
import { ChaosException } from './chaos.exception';
import { type ChaosPlan, parseChaosHeader } from './chaos-plan';

/**
 * Fails or slows this app on demand (CONTRACT §7) when `chaosEnabled` (CHAOS_ENABLED=true,
 * which the config loader refuses in production). Runs after the guards, so the caller is
 * authenticated and rate limited as usual, and before the handler, so a failed request
 * changes nothing. The header names apps by service name; operational routes ignore it.
 */
@Injectable()
export class ChaosInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Chaos');

  constructor(
    @Inject(OBSERVABILITY_OPTIONS) private readonly options: ObservabilityModuleOptions,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (this.options.chaosEnabled !== true || context.getType() !== 'http') {
      return next.handle();
    }
    const req = context.switchToHttp().getRequest<Request>();
    if (isOperationalPath(req.url)) {
      return next.handle();
    }
    const plan = parseChaosHeader(req.headers[CHAOS_HEADER], this.options.serviceName);
    if (!plan) {
      return next.handle();
    }
    if (plan.ignored.length > 0) {
      this.logger.warn({ ignored: plan.ignored }, 'x-chaos entries ignored');
    }
    if (plan.latencyMs === 0 && plan.fault === undefined) {
      return next.handle();
    }
    const { latencyMs, fault } = plan;
    this.logger.warn({ chaos: { latencyMs, fault } }, 'x-chaos applied');
    const run = defer(() => this.apply(plan, req, next));
    return plan.latencyMs > 0 ? timer(plan.latencyMs).pipe(mergeMap(() => run)) : run;
  }

  /**
   * Hook deciding what a fault does; the default throws (a 500). No mode ends the process:
   * the header comes from anonymous clients.
   */
  protected apply(plan: ChaosPlan, _req: Request, next: CallHandler): Observable<unknown> {
    if (plan.fault === 'error') {
      throw new ChaosException(this.options.serviceName, 'error');
    }
    return next.handle();
  }
}
