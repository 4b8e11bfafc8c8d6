import { MemoryRateLimitStore } from './memory-rate-limit.store';

describe(MemoryRateLimitStore.name, () => {
  it('grants exactly the limit to concurrent reservations and takes back released slots', async () => {
    const store = new MemoryRateLimitStore();
    const all = await Promise.all(Array.from({ length: 10 }, () => store.reserve('k', 5, 60_000)));
    expect(all.filter((r) => r.granted)).toHaveLength(5);
    await store.settle('k', false, 5, 60_000);
    expect((await store.reserve('k', 5, 60_000)).granted).toBe(true);
    expect((await store.reserve('k', 5, 60_000)).granted).toBe(false);
    store.onApplicationShutdown();
  });

  it('starts a new window once the old one ended', async () => {
    const store = new MemoryRateLimitStore();
    expect((await store.reserve('k', 1, 50)).granted).toBe(true);
    expect((await store.reserve('k', 1, 50)).granted).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect((await store.reserve('k', 1, 50)).granted).toBe(true);
    store.onApplicationShutdown();
  });
});
