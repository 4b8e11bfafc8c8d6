import { setTimeout as delay } from 'node:timers/promises';
import {
  BadRequestException,
  Inject,
  Injectable,
  Logger,
  type NestMiddleware,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ThrottlerException } from '@nestjs/throttler';
import { CHAOS_HEADER } from '@keel/observability/chaos/chaos.constants';
import { ChaosException } from '@keel/observability/chaos/chaos.exception';
import { parseChaosHeader } from '@keel/observability/chaos/chaos-plan';
import { APP_CONFIG } from '@keel/platform';
import {
  AccessTokenVerifier,
  type AuthenticatedUser,
  admitBearer,
  bearerToken,
  RequestLimiter,
} from '@keel/security';
import { type NextFunction, type Request, type Response } from 'express';
import { type GatewayConfig } from '../config/gateway-config';
import { ProxyService } from '../proxy/proxy.service';
import { GatewayMetrics } from './gateway-metrics';
import { ROUTE_TABLE } from './routing.constants';
import { type RouteTable } from './route-table';

type RoutedRequest = Request & { user?: AuthenticatedUser };

/**
 * The gateway's forwarding path: one precompiled {@link RouteTable} lookup, then exactly the
 * edge's checks and the forward, without Nest's router, guards, pipes or interceptors. It runs
 * as the last middleware, after request context, admission, access log, compression, helmet,
 * CORS and the JSON body parser; anything it throws becomes the contract's error body through
 * the global exception filter (Sentry included). A path no route matches goes on to Nest's
 * router: the operational routes, else 404.
 *
 * Load shedding happened before Express (the request listener answers refusals). Order
 * per request, as the guards had it: limits (429, headers), bearer
 * token and revocation (401), roles (403), typed params (400), then the upstream call. The
 * route template becomes `req.route.path`, which the metrics, the access log, the server
 * span (`http.route`, its name) and Sentry read: never the raw path.
 */
@Injectable()
export class GatewayRouterMiddleware implements NestMiddleware {
  private readonly logger = new Logger('Chaos');
  private readonly chaosEnabled: boolean;
  private readonly serviceName: string;
  private limiter!: RequestLimiter;
  private verifier!: AccessTokenVerifier;

  constructor(
    @Inject(ROUTE_TABLE) private readonly table: RouteTable,
    private readonly proxy: ProxyService,
    private readonly metrics: GatewayMetrics,
    private readonly moduleRef: ModuleRef,
    @Inject(APP_CONFIG) config: GatewayConfig,
  ) {
    this.chaosEnabled = config.chaosEnabled === true;
    this.serviceName = config.serviceName;
  }

  async use(req: RoutedRequest, res: Response, next: NextFunction): Promise<void> {
    if (this.limiter === undefined) {
      // SecurityModule's, found where the root module provides them.
      this.limiter = this.moduleRef.get(RequestLimiter, { strict: false });
      this.verifier = this.moduleRef.get(AccessTokenVerifier, { strict: false });
    }
    const url = req.originalUrl;
    const query = url.indexOf('?');
    const found = this.table.match(req.method, query === -1 ? url : url.slice(0, query));
    if (found === undefined) {
      next();
      return;
    }
    const { route } = found;
    (req as { route?: unknown }).route = { path: route.template };
    req.baseUrl = '';
    // Limits count a client by its token's user, so the token is checked once, first.
    const token = bearerToken(req.headers.authorization);
    const user = token === undefined ? undefined : await this.verifier.verify(token);
    try {
      await this.limiter.apply(route.limiters, req, res, route.template, user?.id);
    } catch (error) {
      if (route.countsLogins && error instanceof ThrottlerException) {
        this.metrics.loginAttempts.inc({ result: 'rate_limited' });
      }
      throw error;
    }
    if (route.auth === 'bearer') {
      admitBearer(req, user, route.roles);
    }
    if (found.badParam !== undefined) {
      throw new BadRequestException(found.badParam);
    }
    if (this.chaosEnabled) {
      await this.chaos(req);
    }
    await this.proxy.forward(req, res, route.upstream, found.upstreamPath);
  }

  /**
   * `x-chaos` for the gateway (CONTRACT §7), where the chaos interceptor would run: after the
   * edge's checks, before the forward, so a failed request changes nothing upstream.
   */
  private async chaos(req: Request): Promise<void> {
    const plan = parseChaosHeader(req.headers[CHAOS_HEADER], this.serviceName);
    if (!plan) {
      return;
    }
    if (plan.ignored.length > 0) {
      this.logger.warn({ ignored: plan.ignored }, 'x-chaos entries ignored');
    }
    if (plan.latencyMs === 0 && plan.fault === undefined) {
      return;
    }
    const { latencyMs, fault } = plan;
    this.logger.warn({ chaos: { latencyMs, fault } }, 'x-chaos applied');
    if (latencyMs > 0) {
      await delay(latencyMs);
    }
    if (fault === 'error') {
      throw new ChaosException(this.serviceName, 'error');
    }
  }
}
