import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import { type PrivateRedis, startRedisServer } from '../../../../test/support/redis-server';
import { waitFor } from '../../../../test/support/wait';
import { FailOpenRedisStore } from './fail-open-redis.store';
import { RateLimitMetrics } from './rate-limit.metrics';

const WINDOW = 60_000;

describe(FailOpenRedisStore.name, () => {
  let redis: PrivateRedis;
  let registry: Registry;
  let stores: FailOpenRedisStore[];
  let warnings: string[];

  const newStore = async (leaseMax = 1): Promise<FailOpenRedisStore> => {
    const store = new FailOpenRedisStore({
      url: redis.url,
      commandTimeoutMs: 200,
      retryAfterMs: 100,
      leaseMax,
      metrics: new RateLimitMetrics(registry),
    });
    await store.onModuleInit();
    stores.push(store);
    return store;
  };
  const errors = async (): Promise<number> =>
    (await registry.getSingleMetric('rate_limit_store_errors_total')!.get()).values[0]?.value ?? 0;
  const hit = (store: FailOpenRedisStore, key = 'k') =>
    store.increment(key, WINDOW, 3, WINDOW, 'global');

  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis.stop();
  });
  beforeEach(() => {
    registry = new Registry();
    stores = [];
    warnings = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => {
      warnings.push(String(message));
    });
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    for (const store of stores) {
      store.onApplicationShutdown();
    }
    jest.restoreAllMocks();
    if (!redis.running()) {
      await redis.start();
    }
  });

  it('shares one count between stores (replicas) through Redis', async () => {
    const [a, b] = [await newStore(), await newStore()];
    const key = `shared-${Date.now()}`;
    expect((await hit(a, key)).totalHits).toBe(1);
    expect((await hit(b, key)).totalHits).toBe(2);
    expect((await hit(a, key)).totalHits).toBe(3);
    const fourth = await hit(b, key);
    expect(fourth.isBlocked).toBe(true);
    expect(fourth.timeToBlockExpire).toBeGreaterThan(0);
    expect(a.status()).toEqual({ backend: 'redis', healthy: true });
    expect(await errors()).toBe(0);
  });

  it('sends each script once and then only its SHA, and survives a SCRIPT FLUSH', async () => {
    const store = await newStore();
    const admin = new Redis(redis.url);
    try {
      const calls = async (): Promise<Record<string, number>> => {
        const info = await admin.info('commandstats');
        const count = (name: string): number =>
          Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
        return { eval: count('eval'), evalsha: count('evalsha') };
      };
      await admin.config('RESETSTAT');
      const key = `sha-${Date.now()}`;
      for (let i = 0; i < 10; i += 1) {
        await hit(store, `${key}-hit`);
        await store.reserve(`${key}-reserve`, 100, WINDOW);
        await store.settle(`${key}-reserve`, false, 100, WINDOW);
      }
      const before = await calls();
      // At most one EVAL per script (the first use answers NOSCRIPT), every call an EVALSHA.
      expect(before.eval).toBeLessThanOrEqual(3);
      expect(before.evalsha).toBeGreaterThanOrEqual(27);

      await admin.script('FLUSH');
      expect((await hit(store, `${key}-hit`)).totalHits).toBe(11);
      expect((await store.reserve(`${key}-reserve`, 100, WINDOW)).granted).toBe(true);
      const after = await calls();
      expect(after.eval - before.eval).toBe(2);
      expect(await errors()).toBe(0);
    } finally {
      admin.disconnect();
    }
  });

  describe('leasing slots (RATE_LIMIT_LEASE_MAX)', () => {
    let admin: Redis;
    const roundTrips = async (): Promise<number> => {
      // A script's first call is an EVAL (ioredis sends its text after NOSCRIPT), then EVALSHA.
      const info = await admin.info('commandstats');
      const calls = (name: string): number =>
        Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
      return calls('eval') + calls('evalsha');
    };
    beforeEach(async () => {
      admin = new Redis(redis.url);
      await admin.config('RESETSTAT');
    });
    afterEach(() => admin.disconnect());

    it('counts exactly on one replica with one round trip per lease, concurrent hits included', async () => {
      const store = await newStore(10);
      const key = `lease-${Date.now()}`;
      // A limit of 200 leases min(10, 200 / 20) = 10 slots at a time.
      const first = await Promise.all(
        Array.from({ length: 50 }, () => store.increment(key, WINDOW, 200, WINDOW, 'global')),
      );
      const rest = [];
      for (let i = 0; i < 50; i += 1) {
        rest.push(await store.increment(key, WINDOW, 200, WINDOW, 'global'));
      }
      const hits = [...first, ...rest].map((record) => record.totalHits);
      expect(new Set(hits).size).toBe(100);
      expect(Math.min(...hits)).toBe(1);
      expect(Math.max(...hits)).toBe(100);
      expect(rest.at(-1)).toMatchObject({ totalHits: 100, isBlocked: false });
      expect(await roundTrips()).toBe(10);
      expect(Number(await admin.get(`{${key}:global}:hits`))).toBe(100);
      expect(await errors()).toBe(0);
    });

    it('never admits more than the limit across replicas, and answers a block from memory', async () => {
      const replicas = [await newStore(5), await newStore(5), await newStore(5)];
      const key = `lease-shared-${Date.now()}`;
      // A limit of 100 leases 5 at a time; 300 hits in bursts spread over three replicas.
      let admitted = 0;
      for (let burst = 0; burst < 30; burst += 1) {
        const records = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            replicas[(burst + i * 7) % 3].increment(key, WINDOW, 100, WINDOW, 'global'),
          ),
        );
        admitted += records.filter((record) => !record.isBlocked).length;
      }
      expect(admitted).toBeLessThanOrEqual(100);
      // Refused early only for slots the other two replicas still held: at most 2 × 5.
      expect(admitted).toBeGreaterThanOrEqual(90);

      const before = await roundTrips();
      for (const replica of replicas) {
        const record = await replica.increment(key, WINDOW, 100, WINDOW, 'global');
        expect(record.isBlocked).toBe(true);
        expect(record.timeToBlockExpire).toBeGreaterThan(50);
      }
      expect(await roundTrips()).toBe(before);
      expect(await errors()).toBe(0);
    });

    it('keeps small limits exact: a lease of one slot is the throttler script itself', async () => {
      const store = await newStore(50);
      const key = `lease-small-${Date.now()}`;
      const records = [];
      for (let i = 0; i < 12; i += 1) {
        records.push(await store.increment(key, WINDOW, 10, WINDOW, 'auth'));
      }
      expect(records.filter((record) => !record.isBlocked)).toHaveLength(10);
      expect(await roundTrips()).toBe(12);
    });
  });

  it('reserves atomically: 20 concurrent reservations on two stores take exactly the limit', async () => {
    const [a, b] = [await newStore(), await newStore()];
    const key = `reserve-${Date.now()}`;
    const all = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).reserve(key, 5, WINDOW)),
    );
    expect(all.filter((r) => r.granted)).toHaveLength(5);
    // A slot given back can be taken again; a kept slot that fills the limit keeps it full.
    await a.settle(key, false, 5, WINDOW);
    expect((await b.reserve(key, 5, WINDOW)).granted).toBe(true);
    await b.settle(key, true, 5, WINDOW);
    const refused = await a.reserve(key, 5, WINDOW);
    expect(refused).toMatchObject({ granted: false, count: 5 });
    expect(refused.resetSeconds).toBeGreaterThan(50);
    expect(await errors()).toBe(0);
  });

  it('keeps limiting from memory while Redis is down, warns once, counts errors, then goes back', async () => {
    const store = await newStore();
    const key = `outage-${Date.now()}`;
    await redis.kill();

    const started = Date.now();
    const results = [];
    for (let i = 0; i < 5; i += 1) {
      results.push(await hit(store, key));
    }
    expect(Date.now() - started).toBeLessThan(5 * 200 + 500);
    expect(results.map((r) => r.isBlocked)).toEqual([false, false, false, true, true]);
    expect(store.status()).toEqual({ backend: 'memory', healthy: false });
    expect(await errors()).toBe(5);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/Redis failed/);

    await redis.start();
    await waitFor(
      async () => {
        await hit(store, `probe-${Date.now()}`);
        return store.isHealthy();
      },
      { what: 'the store to go back to Redis after the restart', interval: 100 },
    );
    expect(store.status()).toEqual({ backend: 'redis', healthy: true });
    // Back on Redis: another replica sees the same count again.
    const other = await newStore();
    const fresh = `after-${Date.now()}`;
    await hit(store, fresh);
    expect((await hit(other, fresh)).totalHits).toBe(2);
    expect(warnings).toHaveLength(1);
  });

  it('keeps reserving from memory while Redis is down, never past the limit', async () => {
    const store = await newStore();
    await redis.kill();
    const key = `reserve-outage-${Date.now()}`;
    const all = await Promise.all(Array.from({ length: 8 }, () => store.reserve(key, 3, WINDOW)));
    expect(all.filter((r) => r.granted)).toHaveLength(3);
    expect(await errors()).toBe(8);
  });

  it('answers within the command timeout when Redis hangs', async () => {
    const store = await newStore();
    // The child process's own pid: never 0 or negative, which would signal a whole process
    // group (this test run included).
    const pid = redis.pid();
    if (pid === undefined || pid <= 1 || pid === process.pid) {
      throw new Error(`redis-server has no process of its own to stop (pid ${pid})`);
    }
    process.kill(pid, 'SIGSTOP');
    try {
      const started = Date.now();
      const record = await hit(store, `hung-${Date.now()}`);
      expect(Date.now() - started).toBeLessThan(200 + 300);
      expect(record.totalHits).toBe(1);
      expect(await errors()).toBe(1);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });
});
