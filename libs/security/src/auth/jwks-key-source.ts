import {
  createLocalJWKSet,
  errors,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type KeyLike,
} from 'jose';

/** Tuning of {@link JwksKeySource}. */
export interface JwksKeySourceOptions {
  /** Keys older than this are refetched (the old ones stay in use until that works), ms. */
  maxAgeMs?: number;
  /** After a successful fetch, an unknown `kid` waits this long before another fetch, ms. */
  cooldownMs?: number;
  /** First wait after a failed fetch, doubled per failure up to `maxBackoffMs`, ms. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Longest a fetch may take, ms. */
  timeoutMs?: number;
}

type LocalKeySet = ReturnType<typeof createLocalJWKSet>;

/**
 * A remote JWKS that keeps its last good keys: when a refetch fails (the signer down or
 * refusing), tokens signed with the known keys still verify, and fetching backs off
 * exponentially instead of hammering the signer on every request. An unknown `kid` triggers
 * a refetch at most once per cooldown, so key rotation is picked up without letting forged
 * `kid`s cause a fetch per request.
 */
export class JwksKeySource {
  private keys: LocalKeySet | undefined;
  private fetchedAt = 0;
  private nextFetchAt = 0;
  private failures = 0;
  private loading: Promise<void> | undefined;
  private readonly options: Required<JwksKeySourceOptions>;

  constructor(
    private readonly url: string,
    options: JwksKeySourceOptions = {},
  ) {
    this.options = {
      maxAgeMs: 600_000,
      cooldownMs: 30_000,
      backoffMs: 1_000,
      maxBackoffMs: 60_000,
      timeoutMs: 2_000,
      ...options,
    };
  }

  /** jose's key lookup: `jwtVerify(token, source.getKey)`. */
  readonly getKey = async (
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ): Promise<KeyLike> => {
    if (!this.keys || Date.now() - this.fetchedAt > this.options.maxAgeMs) {
      await this.load();
    }
    if (!this.keys) {
      throw new errors.JWKSNoMatchingKey('no signing keys available yet');
    }
    try {
      return await this.keys(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || Date.now() < this.nextFetchAt) {
        throw error;
      }
      await this.load();
      return await this.keys(header, token);
    }
  };

  /** Fetches once unless backing off; concurrent callers share one fetch. Never throws. */
  private load(): Promise<void> {
    if (Date.now() < this.nextFetchAt) {
      return Promise.resolve();
    }
    this.loading ??= this.fetchKeys().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async fetchKeys(): Promise<void> {
    try {
      const res = await fetch(this.url, { signal: AbortSignal.timeout(this.options.timeoutMs) });
      if (res.status !== 200) {
        throw new Error(`JWKS answered ${res.status}`);
      }
      const jwks = (await res.json()) as JSONWebKeySet;
      this.keys = createLocalJWKSet(jwks);
      this.fetchedAt = Date.now();
      this.failures = 0;
      this.nextFetchAt = this.fetchedAt + this.options.cooldownMs;
    } catch {
      this.failures += 1;
      const wait = Math.min(
        this.options.maxBackoffMs,
        this.options.backoffMs * 2 ** Math.min(this.failures - 1, 16),
      );
      this.nextFetchAt = Date.now() + wait;
    }
  }
}
