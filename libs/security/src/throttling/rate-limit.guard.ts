import { type ExecutionContext, Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerException,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerOptions,
  type ThrottlerRequest,
} from '@nestjs/throttler';
import { isOperationalPath } from '@keel/platform';
import { AccessTokenVerifier } from '../auth/access-token.verifier';
import { internalTokenDigest } from '../internal/internal-token.guard';
import { clientTracker, ipTracker, rateLimitKey, vouchedClientIp } from './client-key';
import { RateLimitMetrics } from './rate-limit.metrics';
import { type RateLimitStore } from './rate-limit.store';
import {
  SKIP_ALL_THROTTLERS_KEY,
  THROTTLER_LIMIT,
  THROTTLER_TTL,
  THROTTLING_OPTIONS,
} from './throttling.constants';
import {
  type RateLimitedRequest,
  type RateLimiterDefinition,
  type ThrottlingOptions,
} from './throttling-options.interface';

interface HttpResponse {
  statusCode: number;
  writableFinished: boolean;
  setHeader(name: string, value: string | number): unknown;
  once(event: 'close', listener: () => void): unknown;
}

/** What the response headers currently report: the most restrictive limit so far. */
interface ReportedLimit {
  remaining: number;
}

const reported = new WeakMap<object, ReportedLimit>();
const trackers = new WeakMap<object, Promise<string>>();

/**
 * The platform's throttler guard: `@nestjs/throttler`'s guard with the contract's rules.
 * Limits count per client across routes, not per route; each limiter covers the routes it
 * names, matched on the route template (every spelling that reached the handler is the same
 * route); operational routes are never limited; the headers report the most restrictive
 * limit; limiters with `countStatuses` (failed logins) reserve a slot before the request is
 * served and give it back unless the answer is one they count, so concurrent requests cannot
 * overshoot; a gateway's `x-keel-client-ip` names the client when the internal token vouches
 * for it; every 429 counts in `rate_limit_rejections_total{limiter,route}`.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard implements OnModuleInit {
  private verifier: AccessTokenVerifier | undefined;
  private readonly internalDigest: Buffer | undefined;

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() protected readonly store: RateLimitStore,
    reflector: Reflector,
    @Inject(THROTTLING_OPTIONS)
    private readonly throttling: Required<
      Omit<ThrottlingOptions, 'registry' | 'redisUrl' | 'internalToken' | 'onRejected'>
    > &
      Pick<ThrottlingOptions, 'internalToken' | 'onRejected'>,
    private readonly metrics: RateLimitMetrics,
    private readonly moduleRef: ModuleRef,
  ) {
    super(options, store, reflector);
    this.internalDigest =
      throttling.internalToken === undefined
        ? undefined
        : internalTokenDigest(throttling.internalToken);
  }

  override async onModuleInit(): Promise<void> {
    await super.onModuleInit();
    try {
      // Found wherever the app provides it (SecurityModule or the app's own module).
      this.verifier = this.moduleRef.get(AccessTokenVerifier, { strict: false });
    } catch {
      this.verifier = undefined;
    }
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http' || (await this.shouldSkip(context))) {
      return true;
    }
    await super.canActivate(context);
    for (const limiter of this.throttling.limiters) {
      if (limiter.countStatuses && this.applies(limiter, context)) {
        await this.reserveCounted(limiter, context);
      }
    }
    return true;
  }

  /** The throttler options of the limiters that count every request. */
  static throttlersOf(options: ThrottlingOptions): ThrottlerOptions[] {
    return options.limiters
      .filter((limiter) => !limiter.countStatuses)
      .map((limiter) => ({ name: limiter.name, limit: limiter.limit, ttl: limiter.windowMs }));
  }

  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<RateLimitedRequest>();
    if (isOperationalPath(req.path)) {
      return true;
    }
    return (
      this.reflector.getAllAndOverride<boolean | undefined>(SKIP_ALL_THROTTLERS_KEY, [
        context.getHandler(),
        context.getClass(),
      ]) === true
    );
  }

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const { context, limit, ttl, blockDuration } = props;
    const name = props.throttler.name ?? 'default';
    const limiter = this.limiter(name);
    if (!limiter || !this.applies(limiter, context)) {
      return true;
    }
    const req = context.switchToHttp().getRequest<RateLimitedRequest>();
    const tracker = await this.trackerFor(limiter, req);
    if (tracker === undefined) {
      return true;
    }
    const key = rateLimitKey(this.throttling.keyPrefix, name, tracker);
    const record = await this.store.increment(key, ttl, limit, blockDuration, name);
    if (record.isBlocked) {
      this.reject(context, name, limit, record.timeToBlockExpire);
    }
    this.report(context, limit, Math.max(0, limit - record.totalHits), record.timeToExpire);
    return true;
  }

  /**
   * Reserves one of the client's slots before the request is served, refusing it when none
   * is left; the slot is given back when the answer is not one the limiter counts. A client
   * that hangs up before the answer keeps its slot spent: its outcome is unknown.
   */
  private async reserveCounted(
    limiter: RateLimiterDefinition,
    context: ExecutionContext,
  ): Promise<void> {
    const req = context.switchToHttp().getRequest<RateLimitedRequest>();
    const res = context.switchToHttp().getResponse<HttpResponse>();
    const tracker = await this.trackerFor(limiter, req);
    if (tracker === undefined) {
      return;
    }
    const key = rateLimitKey(this.throttling.keyPrefix, limiter.name, tracker);
    const limit = (await this.override<number>(THROTTLER_LIMIT, limiter, context)) ?? limiter.limit;
    const ttl = (await this.override<number>(THROTTLER_TTL, limiter, context)) ?? limiter.windowMs;
    const reservation = await this.store.reserve(key, limit, ttl);
    if (!reservation.granted) {
      this.reject(context, limiter.name, limit, reservation.resetSeconds);
    }
    const statuses = limiter.countStatuses ?? [];
    res.once('close', () => {
      const counted = !res.writableFinished || statuses.includes(res.statusCode);
      void this.store.settle(key, counted, limit, ttl).catch(() => undefined);
    });
  }

  private reject(
    context: ExecutionContext,
    limiter: string,
    limit: number,
    retryAfter: number,
  ): never {
    const req = context
      .switchToHttp()
      .getRequest<RateLimitedRequest & { route?: { path?: string } }>();
    const res = context.switchToHttp().getResponse<HttpResponse>();
    const seconds = Math.max(1, retryAfter);
    res.setHeader('Retry-After', seconds);
    res.setHeader('X-RateLimit-Limit', limit);
    res.setHeader('X-RateLimit-Remaining', 0);
    res.setHeader('X-RateLimit-Reset', seconds);
    const route = req.route?.path ?? 'unmatched';
    this.metrics.rejections.inc({ limiter, route });
    this.throttling.onRejected?.({ limiter, route, method: req.method });
    throw new ThrottlerException(`Too many requests: retry in ${seconds} s`);
  }

  /** Sets the rate-limit headers unless a more restrictive limiter already set them. */
  private report(context: ExecutionContext, limit: number, remaining: number, reset: number): void {
    const req = context.switchToHttp().getRequest<object>();
    const current = reported.get(req);
    if (current && current.remaining <= remaining) {
      return;
    }
    reported.set(req, { remaining });
    const res = context.switchToHttp().getResponse<HttpResponse>();
    res.setHeader('X-RateLimit-Limit', limit);
    res.setHeader('X-RateLimit-Remaining', remaining);
    res.setHeader('X-RateLimit-Reset', Math.max(0, reset));
  }

  private limiter(name: string): RateLimiterDefinition | undefined {
    return this.throttling.limiters.find((limiter) => limiter.name === name);
  }

  /** A limiter covers a route that opts in with `@Throttle`, or that its `routes` name. */
  private applies(limiter: RateLimiterDefinition, context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (
      this.reflector.getAllAndOverride<unknown>(THROTTLER_LIMIT + limiter.name, targets) !==
      undefined
    ) {
      return true;
    }
    if (limiter.routes === undefined) {
      return true;
    }
    const req = context
      .switchToHttp()
      .getRequest<RateLimitedRequest & { route?: { path?: unknown } }>();
    // The matched route's template, not the raw path: every spelling that reached this
    // handler is the same route to the limiter.
    const path = typeof req.route?.path === 'string' ? req.route.path : req.path;
    return limiter.routes.some(
      (route) =>
        (route.method === undefined || route.method.toUpperCase() === req.method) &&
        (typeof route.path === 'string' ? route.path === path : route.path.test(path)),
    );
  }

  private async override<T>(
    metadataKey: string,
    limiter: RateLimiterDefinition,
    context: ExecutionContext,
  ): Promise<T | undefined> {
    const value = this.reflector.getAllAndOverride<
      T | ((context: ExecutionContext) => T | Promise<T>) | undefined
    >(metadataKey + limiter.name, [context.getHandler(), context.getClass()]);
    return typeof value === 'function'
      ? (value as (c: ExecutionContext) => T | Promise<T>)(context)
      : value;
  }

  private async trackerFor(
    limiter: RateLimiterDefinition,
    req: RateLimitedRequest,
  ): Promise<string | undefined> {
    const by = limiter.by ?? 'client';
    if (by === 'ip') {
      return ipTracker(req, vouchedClientIp(req, this.internalDigest));
    }
    if (by === 'client') {
      let tracker = trackers.get(req);
      if (!tracker) {
        tracker = clientTracker(req, this.verifier, vouchedClientIp(req, this.internalDigest));
        trackers.set(req, tracker);
      }
      return tracker;
    }
    const own = by(req);
    return own === undefined ? undefined : `${limiter.name}:${own}`;
  }
}
