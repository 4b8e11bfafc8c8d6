import { Inject, Injectable } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { internalTokenDigest } from '../internal/internal-token.guard';
import { ipTracker, rateLimitKey, vouchedClientIp } from './client-key';
import { RateLimitMetrics } from './rate-limit.metrics';
import { type RateLimitStore } from './rate-limit.store';
import { RATE_LIMIT_STORE, THROTTLING_OPTIONS } from './throttling.constants';
import {
  type RateLimitedRequest,
  type RateLimiterDefinition,
  type ThrottlingOptions,
} from './throttling-options.interface';

/** The response as the limiter needs it (node's `ServerResponse` fits). */
export interface LimitedResponse {
  statusCode: number;
  writableFinished: boolean;
  setHeader(name: string, value: string | number): unknown;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * The platform's limits outside Nest's guards, for a handler that routes requests itself
 * (the gateway's forwarding path): the same store, keys, headers, reservations and metrics
 * as {@link RateLimitGuard}, applied to the limiters the caller names for a route it has
 * already matched. Knows no route: the caller passes the limiters and the route template.
 */
@Injectable()
export class RequestLimiter {
  private readonly internalDigest: Buffer | undefined;
  private readonly keyPrefix: string;

  constructor(
    @Inject(RATE_LIMIT_STORE) private readonly store: RateLimitStore,
    private readonly metrics: RateLimitMetrics,
    @Inject(THROTTLING_OPTIONS) private readonly options: ThrottlingOptions,
  ) {
    this.internalDigest =
      options.internalToken === undefined ? undefined : internalTokenDigest(options.internalToken);
    this.keyPrefix = options.keyPrefix ?? '';
  }

  /**
   * Counts the request against each limiter in order, and sets the rate-limit headers of the
   * most restrictive one. A limiter with `countStatuses` reserves a slot before the request
   * is served and gives it back when the answer is not one it counts (a client that hangs up
   * keeps its slot spent). Throws a 429 `ThrottlerException`, with `Retry-After` and the
   * headers set, at the first limiter that refuses.
   *
   * @param userId the id of the caller's verified bearer token: `client` limiters count per
   *   user when given, per IP otherwise.
   */
  async apply(
    limiters: readonly RateLimiterDefinition[],
    req: RateLimitedRequest,
    res: LimitedResponse,
    route: string,
    userId: string | undefined,
  ): Promise<void> {
    let lowest = Number.POSITIVE_INFINITY;
    let vouched: string | undefined | null = null;
    for (const limiter of limiters) {
      const by = limiter.by ?? 'client';
      let tracker: string | undefined;
      if (typeof by === 'function') {
        const own = by(req);
        tracker = own === undefined ? undefined : `${limiter.name}:${own}`;
      } else if (by === 'client' && userId !== undefined) {
        tracker = `user:${userId}`;
      } else {
        if (vouched === null) {
          vouched = vouchedClientIp(req, this.internalDigest);
        }
        tracker = ipTracker(req, vouched);
      }
      if (tracker === undefined) {
        continue;
      }
      const key = rateLimitKey(this.keyPrefix, limiter.name, tracker);
      const { limit, windowMs } = limiter;
      if (limiter.countStatuses) {
        const reservation = await this.store.reserve(key, limit, windowMs);
        if (!reservation.granted) {
          this.reject(req, res, limiter.name, route, limit, reservation.resetSeconds);
        }
        const statuses = limiter.countStatuses;
        res.once('close', () => {
          const counted = !res.writableFinished || statuses.includes(res.statusCode);
          void this.store.settle(key, counted, limit, windowMs).catch(() => undefined);
        });
        continue;
      }
      const record = await this.store.increment(key, windowMs, limit, windowMs, limiter.name);
      if (record.isBlocked) {
        this.reject(req, res, limiter.name, route, limit, record.timeToBlockExpire);
      }
      const remaining = Math.max(0, limit - record.totalHits);
      if (remaining < lowest) {
        lowest = remaining;
        res.setHeader('X-RateLimit-Limit', limit);
        res.setHeader('X-RateLimit-Remaining', remaining);
        res.setHeader('X-RateLimit-Reset', Math.max(0, record.timeToExpire));
      }
    }
  }

  private reject(
    req: RateLimitedRequest,
    res: LimitedResponse,
    limiter: string,
    route: string,
    limit: number,
    retryAfter: number,
  ): never {
    const seconds = Math.max(1, retryAfter);
    res.setHeader('Retry-After', seconds);
    res.setHeader('X-RateLimit-Limit', limit);
    res.setHeader('X-RateLimit-Remaining', 0);
    res.setHeader('X-RateLimit-Reset', seconds);
    this.metrics.rejections.inc({ limiter, route });
    this.options.onRejected?.({ limiter, route, method: req.method });
    throw new ThrottlerException(`Too many requests: retry in ${seconds} s`);
  }
}
