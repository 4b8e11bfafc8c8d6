import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import Redis from 'ioredis';
import { LeasedHits, leaseSize } from './leased-hits';
import { MemoryRateLimitStore } from './memory-rate-limit.store';
import { type RateLimitMetrics } from './rate-limit.metrics';
import {
  type RateLimitRecord,
  type RateLimitStore,
  type RateLimitStoreStatus,
  type Reservation,
} from './rate-limit.store';

/**
 * Takes a slot of a fixed window unless the window is full; one script, so the check and the
 * increment are one atomic step for every replica sharing the Redis.
 * Returns `{granted (0|1), count, pttl}`.
 */
const RESERVE_SCRIPT = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[1]) then
  return {0, count, redis.call('PTTL', KEYS[1])}
end
count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return {1, count, redis.call('PTTL', KEYS[1])}
`;

/** Gives a slot back (ARGV[1] = 0), or keeps it and restarts the window once it is full. */
const SETTLE_SCRIPT = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count == 0 then
  return 0
end
if ARGV[1] == '0' then
  redis.call('DECR', KEYS[1])
elseif count >= tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
`;

/**
 * Leases up to ARGV[4] slots of a throttler window (the throttler script's keys and block):
 * none while the block key lives; none, and the block set, when the window is full; else
 * `min(want, limit - hits)` slots, counted at once. Returns `{taken, hits, windowPttl,
 * blockPttl}`.
 */
const LEASE_SCRIPT = `
local ttl = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local blockDuration = tonumber(ARGV[3])
local want = tonumber(ARGV[4])
local blockPttl = redis.call('PTTL', KEYS[2])
if blockPttl > 0 then
  return {0, 0, 0, blockPttl}
end
local hits = tonumber(redis.call('GET', KEYS[1]) or '0')
if hits >= limit then
  redis.call('SET', KEYS[2], 1, 'PX', blockDuration)
  return {0, hits, 0, blockDuration}
end
local taken = math.min(want, limit - hits)
hits = redis.call('INCRBY', KEYS[1], taken)
local pttl = redis.call('PTTL', KEYS[1])
if pttl <= 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  pttl = ttl
end
return {taken, hits, pttl, 0}
`;

/**
 * The scripts as ioredis commands: each call sends EVALSHA and the arguments, and ioredis sends
 * the script text once more only when Redis answers NOSCRIPT (after a restart or SCRIPT
 * FLUSH). `redis.eval(text)` sent the whole text with every request, and Redis hashed it each
 * time: the gateway's profile showed 7 % of its CPU in encoding that string.
 */
interface ScriptedRedis extends Redis {
  keelThrottle(
    hitKey: string,
    blockKey: string,
    throttlerName: string,
    ttl: number,
    limit: number,
    blockDuration: number,
  ): Promise<unknown>;
  keelLease(
    hitKey: string,
    blockKey: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    want: number,
  ): Promise<[number, number, number, number]>;
  keelReserve(key: string, limit: number, windowMs: number): Promise<[number, number, number]>;
  keelSettle(key: string, counted: 0 | 1, limit: number, windowMs: number): Promise<number>;
}

/**
 * The hit and block keys of `key` under a throttler: `@nest-lab/throttler-storage-redis`'s
 * layout, which the throttler script and the lease script share, so old and new replicas (and
 * leased and exact counting) count the same keys during a rolling update.
 */
function throttlerKeys(key: string, throttlerName: string): [hitKey: string, blockKey: string] {
  return [`{${key}:${throttlerName}}:hits`, `{${key}:${throttlerName}}:blocked`];
}

/**
 * `@nest-lab/throttler-storage-redis` with its own script, keys and answer, sent as EVALSHA
 * (see {@link ScriptedRedis}); the library's `increment` sends `EVAL <script>` every time.
 */
class ScriptCachedThrottlerStorage extends ThrottlerStorageRedisService {
  constructor(private readonly scripted: ScriptedRedis) {
    super(scripted);
    scripted.defineCommand('keelThrottle', { numberOfKeys: 2, lua: this.scriptSrc });
  }

  override async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<RateLimitRecord> {
    const results = await this.scripted.keelThrottle(
      ...throttlerKeys(key, throttlerName),
      throttlerName,
      ttl,
      limit,
      blockDuration,
    );
    if (!Array.isArray(results) || !results.every((value) => typeof value === 'number')) {
      throw new TypeError(`unexpected throttler script answer: ${JSON.stringify(results)}`);
    }
    const [totalHits, timeToExpire, isBlocked, timeToBlockExpire] = results;
    return {
      totalHits,
      timeToExpire: Math.ceil(timeToExpire / 1000),
      isBlocked: isBlocked === 1,
      timeToBlockExpire: Math.ceil(timeToBlockExpire / 1000),
    };
  }
}

/** Tuning of {@link FailOpenRedisStore}. */
export interface FailOpenRedisStoreOptions {
  url: string;
  /** Longest wait for one Redis command (ms). */
  commandTimeoutMs: number;
  /** After an error, how long to answer from memory before trying Redis again (ms). */
  retryAfterMs: number;
  /**
   * Most slots of a window leased per Redis round trip ({@link leaseSize}: a twentieth of the
   * limit, at most this); 1 counts every hit in Redis.
   */
  leaseMax: number;
  metrics: RateLimitMetrics;
}

/**
 * Redis-backed throttler storage that fails open, like Kong's `fault_tolerant` and Envoy's
 * `failure_mode_deny=false`: no offline queue and a short command timeout, so a dead or
 * hung Redis costs a request at most the timeout; then the same limits are counted in
 * process memory, every such decision counts `rate_limit_store_errors_total`, one warning
 * is logged per outage, and counting returns to Redis once it answers again.
 */
export class FailOpenRedisStore implements RateLimitStore, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RateLimitStore');
  private readonly redis: ScriptedRedis;
  private readonly shared: ScriptCachedThrottlerStorage;
  private readonly memory = new MemoryRateLimitStore();
  private readonly leased: LeasedHits;
  /** Set while Redis is considered down; the time of the next attempt. */
  private downUntil: number | undefined;

  constructor(private readonly options: FailOpenRedisStoreOptions) {
    this.redis = new Redis(options.url, {
      commandTimeout: options.commandTimeoutMs,
      connectTimeout: Math.max(1_000, options.commandTimeoutMs),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Keep reconnecting for as long as the process lives; never give up on Redis.
      retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    }) as ScriptedRedis;
    this.redis.defineCommand('keelReserve', { numberOfKeys: 1, lua: RESERVE_SCRIPT });
    this.redis.defineCommand('keelSettle', { numberOfKeys: 1, lua: SETTLE_SCRIPT });
    this.redis.defineCommand('keelLease', { numberOfKeys: 2, lua: LEASE_SCRIPT });
    // ioredis logs unhandled 'error' events itself, once per reconnect attempt; the
    // outage warning below replaces that noise.
    this.redis.on('error', () => undefined);
    this.redis.on('ready', () => {
      if (this.downUntil !== undefined) {
        this.downUntil = 0;
      }
    });
    this.shared = new ScriptCachedThrottlerStorage(this.redis);
    this.leased = new LeasedHits(async (key, name, want, ttl, limit, blockDuration) => {
      const [taken, hits, windowMs, blockedMs] = await this.redis.keelLease(
        ...throttlerKeys(key, name),
        ttl,
        limit,
        blockDuration,
        want,
      );
      return { taken, hits, windowMs, blockedMs };
    });
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<RateLimitRecord> {
    const want = leaseSize(limit, this.options.leaseMax);
    return this.withFallback(
      () =>
        want > 1
          ? this.leased.increment(key, ttl, limit, blockDuration, throttlerName, want)
          : this.shared.increment(key, ttl, limit, blockDuration, throttlerName),
      () => this.memory.increment(key, ttl, limit, blockDuration, throttlerName),
    );
  }

  async reserve(key: string, limit: number, windowMs: number): Promise<Reservation> {
    return this.withFallback(
      async () => {
        const [granted, count, pttl] = await this.redis.keelReserve(key, limit, windowMs);
        return { granted: granted === 1, count, resetSeconds: Math.max(1, Math.ceil(pttl / 1000)) };
      },
      () => this.memory.reserve(key, limit, windowMs),
    );
  }

  async settle(key: string, counted: boolean, limit: number, windowMs: number): Promise<void> {
    await this.withFallback(
      async () => {
        await this.redis.keelSettle(key, counted ? 1 : 0, limit, windowMs);
      },
      () => this.memory.settle(key, counted, limit, windowMs),
    );
  }

  /** `healthy` is false while limits are counted in memory because Redis failed. */
  status(): RateLimitStoreStatus {
    const healthy = this.redis.status === 'ready' && this.downUntil === undefined;
    return { backend: healthy ? 'redis' : 'memory', healthy };
  }

  /** Shorthand for `status().healthy`. */
  isHealthy(): boolean {
    return this.status().healthy;
  }

  /** Waits briefly for the first connection, so the first requests are counted in Redis. */
  async onModuleInit(): Promise<void> {
    if (this.redis.status === 'ready') {
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(1_000, this.options.commandTimeoutMs));
      this.redis.once('ready', done);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  onApplicationShutdown(): void {
    this.leased.close();
    this.redis.disconnect(false);
    this.memory.onApplicationShutdown();
  }

  private async withFallback<T>(shared: () => Promise<T>, local: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const skipRedis =
      this.redis.status !== 'ready' || (this.downUntil !== undefined && now < this.downUntil);
    if (!skipRedis) {
      try {
        const result = await shared();
        if (this.downUntil !== undefined) {
          this.downUntil = undefined;
          this.logger.log('Redis answers again: rate limits are shared again');
        }
        return result;
      } catch (error) {
        this.markDown(error);
      }
    } else {
      this.markDown(undefined);
    }
    this.options.metrics.storeErrors.inc();
    return local();
  }

  private markDown(error: unknown): void {
    const firstError = this.downUntil === undefined;
    if (error !== undefined || firstError) {
      this.downUntil = Date.now() + this.options.retryAfterMs;
    }
    if (firstError) {
      // Slots leased before the outage may belong to windows a restarted Redis forgot.
      this.leased.clear();
      const reason = error instanceof Error ? error.message : `connection ${this.redis.status}`;
      this.logger.warn(
        `Redis failed (${reason}): rate limits are counted in process memory until it recovers`,
      );
    }
  }
}
