import { type Registry } from 'prom-client';

/** A request as the limiters see it (express's `Request`, loosely typed). */
export interface RateLimitedRequest {
  method: string;
  path: string;
  ip?: string;
  body?: unknown;
  headers: Record<string, string | string[] | undefined>;
  user?: { id: string };
}

/** A route a limiter applies to: a method (any when omitted) and a path pattern. */
export interface RouteMatcher {
  method?: string;
  /** A regular expression tested against the path, or a path that must match exactly. */
  path: RegExp | string;
}

/** One named limit, as `<count>/<window>`. */
export interface RateLimiterDefinition {
  /** The limiter's name: `@Throttle({ [name]: … })` and `@SkipThrottle([name])` use it. */
  name: string;
  limit: number;
  windowMs: number;
  /**
   * Routes the limiter applies to; omitted means every route except the operational ones,
   * `[]` means only routes that opt in with `@Throttle({ [name]: … })`.
   */
  routes?: RouteMatcher[];
  /**
   * What tells clients apart: `client` (default) is the user id of a valid bearer token,
   * else the IP; `ip` is always the IP; a function returns its own key (`undefined`: skip).
   */
  by?: 'client' | 'ip' | ((req: RateLimitedRequest) => string | undefined);
  /**
   * When set, only responses with these statuses count (e.g. `[401]` for failed logins),
   * and requests are refused once that count reached the limit within the window.
   */
  countStatuses?: number[];
}

/** Options of the rate limiting part of {@link SecurityModule}. */
export interface ThrottlingOptions {
  limiters: RateLimiterDefinition[];
  /** `redis://…` to share counts between replicas; unset keeps them in process memory. */
  redisUrl?: string;
  /** Prefix of Redis keys (default `keel:rl:`). */
  keyPrefix?: string;
  /** Longest wait for Redis per request before answering from memory (default 200 ms). */
  redisCommandTimeoutMs?: number;
  /**
   * Most slots of a limit's window taken from Redis per round trip (default 50): a twentieth
   * of the limit, at most this; 1 counts every request in Redis. See `LeasedHits`.
   */
  redisLeaseMax?: number;
  /** How long to stay on memory after a Redis error before trying Redis again (default 1 s). */
  redisRetryAfterMs?: number;
  /** Where the two rate-limit metrics are registered (default: prom-client's registry). */
  registry?: Registry;
  /**
   * The shared `INTERNAL_TOKEN`: requests carrying it may name the client they forward for
   * in `x-keel-client-ip` (the gateway does), and are counted by that address.
   */
  internalToken?: string;
  /**
   * Called with every 429 after it is counted in `rate_limit_rejections_total`: an app counts
   * its own metrics of refused requests here (e.g. rate-limited logins).
   */
  onRejected?: (rejection: RateLimitRejection) => void;
}

/** A request refused by a limiter, as {@link ThrottlingOptions.onRejected} hears of it. */
export interface RateLimitRejection {
  limiter: string;
  /** The route template (`/users/:id`), `unmatched` when none. */
  route: string;
  method: string;
}
