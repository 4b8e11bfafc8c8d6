import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';

/** A revoked session: its access tokens are refused until `expiresAt` (epoch ms). */
export interface RevokedSession {
  sid: string;
  expiresAt: number;
}

/** One answer of a revocation feed: the sessions revoked since the asked time. */
export interface RevocationFeedPage {
  /** The feed's clock when it answered, epoch ms; the next call asks from about here. */
  now: number;
  revoked: RevokedSession[];
}

/** Where revocations come from: the session owner's database, or its HTTP feed. */
export type RevocationFeed = (since: number) => Promise<RevocationFeedPage>;

/** How far back each poll looks again, so a revocation committed late is not missed. */
const OVERLAP_MS = 5_000;

/** Default time between polls: revocations take effect within this plus one round trip. */
export const DEFAULT_REVOCATION_POLL_MS = 300;

/**
 * The sessions (`sid` claims) whose access tokens must be refused, held in process memory and
 * kept current by polling a {@link RevocationFeed}; each entry lives as long as the longest
 * access token of that session could. A failed poll keeps the list as it is (tokens are
 * still checked for signature and expiry) and is logged once per outage.
 */
export class RevocationList implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RevocationList');
  private readonly revoked = new Map<string, number>();
  private since = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private failing = false;

  constructor(
    private readonly feed: RevocationFeed | undefined,
    private readonly pollMs = DEFAULT_REVOCATION_POLL_MS,
  ) {}

  /** Records a revocation made in this process, effective at once. */
  add(sid: string, expiresAt: number): void {
    const current = this.revoked.get(sid) ?? 0;
    this.revoked.set(sid, Math.max(current, expiresAt));
  }

  isRevoked(sid: string): boolean {
    const until = this.revoked.get(sid);
    if (until === undefined) {
      return false;
    }
    if (until <= Date.now()) {
      this.revoked.delete(sid);
      return false;
    }
    return true;
  }

  /** Asks the feed once (a poll already running is awaited instead of doubled). */
  refresh(): Promise<void> {
    this.polling ??= this.poll().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  async onModuleInit(): Promise<void> {
    if (!this.feed) {
      return;
    }
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.pollMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    if (!this.feed) {
      return;
    }
    try {
      const page = await this.feed(this.since);
      for (const entry of page.revoked) {
        this.add(entry.sid, entry.expiresAt);
      }
      this.since = Math.max(0, page.now - OVERLAP_MS);
      this.prune(page.now);
      if (this.failing) {
        this.failing = false;
        this.logger.log('revocation feed answers again');
      }
    } catch (error) {
      if (!this.failing) {
        this.failing = true;
        const reason = error instanceof Error ? error.message : String(error);
        this.logger.warn(`revocation feed failed (${reason}); keeping the last known list`);
      }
    }
  }

  private prune(now: number): void {
    for (const [sid, until] of this.revoked) {
      if (until <= now) {
        this.revoked.delete(sid);
      }
    }
  }
}
