import { type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import {
  BadRequestException,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { ThrottlerException } from '@nestjs/throttler';
import { AllExceptionsFilter } from '@keel/observability';
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
  RequestSecurityMiddleware,
  SECURITY_OPTIONS,
  type SecurityModuleOptions,
} from '@keel/security';
import { type Express, type Request, type Response } from 'express';
import { appendVary } from '../compression/buffered-compression';
import { type GatewayConfig } from '../config/gateway-config';
import { ProxyService } from '../proxy/proxy.service';
import { GatewayMetrics } from './gateway-metrics';
import { type RouteMatch, type RouteTable } from './route-table';
import { ROUTE_TABLE } from './routing.constants';

type RoutedRequest = Request & { user?: AuthenticatedUser; body?: unknown };
type Handle = (req: IncomingMessage, res: ServerResponse, done?: (error?: unknown) => void) => void;

/**
 * The gateway's forwarding path, in front of Express's router. Express's entry (`app.handle`)
 * first asks the precompiled {@link RouteTable}; a request it matches is served here, and
 * only the rest (operational routes, 404s, preflights) goes through Express's router and
 * Nest's middleware. Serving here is what the middleware stack did, step for step, without
 * its layers: Express's request/response objects, the security headers, CORS, the JSON body
 * parser, then the edge's checks and the forward. Compression is the proxy's, on the whole
 * buffered body. Anything thrown becomes the contract's error body through the app's
 * {@link AllExceptionsFilter}, Sentry included.
 *
 * What came before, in the server's `request` listener, stays: request id and context, load
 * shedding, metrics, access log and the server span. Order per request, as the guards had it:
 * limits (429, headers), bearer token and revocation (401), roles (403), typed params (400),
 * chaos, then the upstream call. The route template becomes `req.route.path`, which the
 * metrics, the access log, the server span (`http.route`, its name) and Sentry read.
 */
@Injectable()
export class GatewayEdge implements OnApplicationBootstrap {
  private readonly logger = new Logger('Chaos');
  private readonly chaosEnabled: boolean;
  private readonly serviceName: string;
  private limiter!: RequestLimiter;
  private verifier!: AccessTokenVerifier;
  private filter!: AllExceptionsFilter;
  private security!: RequestSecurityMiddleware;
  private app: Express | undefined;

  constructor(
    @Inject(ROUTE_TABLE) private readonly table: RouteTable,
    private readonly proxy: ProxyService,
    private readonly metrics: GatewayMetrics,
    private readonly moduleRef: ModuleRef,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(APP_CONFIG) config: GatewayConfig,
  ) {
    this.chaosEnabled = config.chaosEnabled === true;
    this.serviceName = config.serviceName;
  }

  onApplicationBootstrap(): void {
    const app = this.adapterHost.httpAdapter?.getInstance<Express>();
    if (app === undefined || this.app === app) {
      return;
    }
    // SecurityModule's and ObservabilityModule's, found where the root module provides them.
    this.limiter = this.moduleRef.get(RequestLimiter, { strict: false });
    this.verifier = this.moduleRef.get(AccessTokenVerifier, { strict: false });
    this.filter = this.moduleRef.get(AllExceptionsFilter, { strict: false });
    const options = this.moduleRef.get<SecurityModuleOptions>(SECURITY_OPTIONS, {
      strict: false,
    });
    this.security = new RequestSecurityMiddleware(options);
    // Express calls `app.handle` for every request: the edge takes the routes it knows.
    const entry = app as unknown as { handle: Handle };
    const routerHandle = entry.handle;
    entry.handle = (req, res, done) => {
      if (!this.serve(app, req, res)) {
        routerHandle.call(app, req, res, done);
      }
    };
    this.app = app;
  }

  /** Serves `req` when it is one of the table's routes; `false` leaves it to Express. */
  private serve(app: Express, req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const found = this.table.match(req.method ?? 'GET', query === -1 ? url : url.slice(0, query));
    if (found === undefined) {
      return false;
    }
    // What Express's own entry does before routing: its request/response API (req.ip,
    // req.protocol, res.status) for the code below, filters and Sentry.
    const request = req as RoutedRequest;
    const response = res as Response;
    request.res = response;
    response.req = request;
    Object.setPrototypeOf(req, app.request);
    Object.setPrototypeOf(res, app.response);
    request.originalUrl = url;
    request.baseUrl = '';
    (request as { route?: unknown }).route = { path: found.route.template };
    // The security headers, CORS and the JSON body, as on every other route, then the route.
    try {
      this.security.use(req, res, (error?: unknown) => {
        if (error !== undefined && error !== null) {
          this.fail(error, request, response);
          return;
        }
        this.route(request, response, found).catch((thrown: unknown) =>
          this.fail(thrown, request, response),
        );
      });
    } catch (thrown) {
      this.fail(thrown, request, response);
    }
    return true;
  }

  private async route(req: RoutedRequest, res: Response, found: RouteMatch): Promise<void> {
    const { route } = found;
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

  /** The error answer, as Nest's middleware pipeline would give it: the global filter's. */
  private fail(error: unknown, req: Request, res: Response): void {
    if (!res.headersSent) {
      // The compression middleware's header on JSON answers, kept for the edge's errors.
      appendVary(res, 'Accept-Encoding');
    }
    this.filter.catch(error, new ExecutionContextHost([req, res, () => undefined]));
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
