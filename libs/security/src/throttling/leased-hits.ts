import { type RateLimitRecord } from './rate-limit.store';

/** What a lease request to the shared store answers (times in ms). */
export interface LeaseGrant {
  /** Slots granted (0 when the key is blocked or its window is full). */
  taken: number;
  /** The window's count after the grant: the granted slots are `hits - taken + 1 … hits`. */
  hits: number;
  /** Time left in the window (ms), when slots were granted. */
  windowMs: number;
  /** Time left blocked (ms), when nothing was granted. */
  blockedMs: number;
}

/** Fetches a lease of up to `want` slots of `key`'s window from the shared store. */
export type LeaseSource = (
  key: string,
  throttlerName: string,
  want: number,
  ttl: number,
  limit: number,
  blockDuration: number,
) => Promise<LeaseGrant>;

/** One key's slots held by this process, or the block it learnt. */
interface Lease {
  /** The next slot to hand out, and the last one held. */
  next: number;
  last: number;
  /** When the window the slots belong to ends (epoch ms). */
  windowEnd: number;
  /** When the key's block ends (epoch ms; 0 when not blocked). */
  blockedUntil: number;
  /** The lease request in flight, which concurrent requests for the key wait for. */
  pending: Promise<void> | undefined;
}

/**
 * Slots of a limit taken from the shared store a batch at a time (how many: {@link leaseSize}).
 *
 * Each replica asks Redis for several slots of a key's window at once and hands them out from
 * memory, so a client's requests cost one Redis round trip per batch instead of one each.
 * A slot is counted in Redis when it is leased, never later, so across all replicas no more
 * than `limit` requests are admitted per window: the error is only on the strict side, a
 * client refused while another replica still holds unused slots of its window, at most
 * `(replicas - 1) × lease` per window. A block learnt from Redis is kept until it ends, so a
 * blocked client costs no round trip either. Counts of one process (e.g. `X-RateLimit-
 * Remaining`) are the slot's position in the window, exact with one replica.
 */
export class LeasedHits {
  private readonly leases = new Map<string, Lease>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly source: LeaseSource) {
    // Finished windows and blocks are dropped once a second, so idle clients cost no memory.
    this.sweeper = setInterval(() => this.sweep(Date.now()), 1_000).unref();
  }

  /** Counts one hit of `key` under `throttlerName`, as the throttler storage's `increment`. */
  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
    want: number,
  ): Promise<RateLimitRecord> {
    const id = `${key}\u0000${throttlerName}`;
    for (;;) {
      const now = Date.now();
      let lease = this.leases.get(id);
      if (lease?.pending) {
        await lease.pending;
        continue;
      }
      if (lease && lease.blockedUntil > now) {
        return blocked(limit, lease.blockedUntil - now);
      }
      if (lease && lease.next <= lease.last && now < lease.windowEnd) {
        const hit = lease.next;
        lease.next += 1;
        return {
          totalHits: hit,
          timeToExpire: Math.ceil((lease.windowEnd - now) / 1000),
          isBlocked: false,
          timeToBlockExpire: 0,
        };
      }
      if (!lease) {
        lease = { next: 1, last: 0, windowEnd: 0, blockedUntil: 0, pending: undefined };
        this.leases.set(id, lease);
      }
      const target = lease;
      // Times count from the request, not the answer: the lease never outlives Redis's window.
      const asked = Date.now();
      const refill = this.source(key, throttlerName, want, ttl, limit, blockDuration).then(
        (grant) => {
          if (grant.taken > 0) {
            target.next = grant.hits - grant.taken + 1;
            target.last = grant.hits;
            target.windowEnd = asked + grant.windowMs;
            target.blockedUntil = 0;
          } else {
            target.next = 1;
            target.last = 0;
            target.blockedUntil = asked + Math.max(1, grant.blockedMs);
          }
        },
      );
      target.pending = refill;
      try {
        await refill;
      } finally {
        target.pending = undefined;
      }
    }
  }

  /** Forgets every lease (the store fell back to memory, or is closing). */
  clear(): void {
    this.leases.clear();
  }

  close(): void {
    clearInterval(this.sweeper);
    this.leases.clear();
  }

  private sweep(now: number): void {
    for (const [id, lease] of this.leases) {
      if (!lease.pending && lease.windowEnd <= now && lease.blockedUntil <= now) {
        this.leases.delete(id);
      }
    }
  }
}

/**
 * Slots leased per round trip for a limit: a twentieth of it, at most `max`, at least one.
 * One means no lease (every hit goes to Redis): small limits (login, registration) stay exact.
 */
export function leaseSize(limit: number, max: number): number {
  return Math.max(1, Math.min(max, Math.floor(limit / 20)));
}

function blocked(limit: number, remainingMs: number): RateLimitRecord {
  const seconds = Math.ceil(remainingMs / 1000);
  return {
    totalHits: limit + 1,
    timeToExpire: seconds,
    isBlocked: true,
    timeToBlockExpire: seconds,
  };
}
