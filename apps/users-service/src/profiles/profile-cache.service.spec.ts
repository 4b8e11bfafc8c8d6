import { type PublicProfileDto } from './dto/profile.dto';
import { ProfileCache } from './profile-cache.service';

const profile = (id: string, displayName = `user ${id}`): PublicProfileDto => ({
  id,
  displayName,
  bio: null,
});

describe(ProfileCache.name, () => {
  const newCache = (ttlMs = 1000, maxEntries = 3): ProfileCache =>
    new ProfileCache({ profileCache: { ttlMs, maxEntries } });

  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2025-11-27T10:00:00Z') });
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('returns what was set and counts a hit; an unknown id is a miss', () => {
    const cache = newCache();
    cache.set(profile('a'));

    expect(cache.get('a')).toEqual(profile('a'));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.stats()).toEqual({ hits: 1, misses: 1, size: 1 });
  });

  it('serves an entry until its TTL has passed, then misses and drops it', () => {
    const cache = newCache(1000);
    cache.set(profile('a'));

    jest.advanceTimersByTime(999);
    expect(cache.get('a')).toEqual(profile('a'));

    jest.advanceTimersByTime(1);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.stats()).toEqual({ hits: 1, misses: 1, size: 0 });
  });

  it('restarts the TTL when an entry is set again', () => {
    const cache = newCache(1000);
    cache.set(profile('a', 'old'));
    jest.advanceTimersByTime(800);
    cache.set(profile('a', 'new'));
    jest.advanceTimersByTime(800);

    expect(cache.get('a')).toEqual(profile('a', 'new'));
  });

  it('holds at most maxEntries, evicting the least recently used', () => {
    const cache = newCache(60_000, 3);
    cache.set(profile('a'));
    cache.set(profile('b'));
    cache.set(profile('c'));
    cache.get('a'); // a is now more recent than b and c
    cache.set(profile('d'));

    expect(cache.stats().size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    expect(cache.get('d')).toBeDefined();
  });

  it('forgets an invalidated entry at once', () => {
    const cache = newCache();
    cache.set(profile('a'));
    cache.set(profile('b'));

    cache.invalidate('a');

    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toEqual(profile('b'));
  });

  it('counts every lookup through record(), the hook metrics attach to', () => {
    const results: string[] = [];
    class RecordingCache extends ProfileCache {
      protected override record(result: 'hit' | 'miss'): void {
        super.record(result);
        results.push(result);
      }
    }
    const cache = new RecordingCache({ profileCache: { ttlMs: 1000, maxEntries: 3 } });
    cache.get('a');
    cache.set(profile('a'));
    cache.get('a');
    jest.advanceTimersByTime(1000);
    cache.get('a');

    expect(results).toEqual(['miss', 'hit', 'miss']);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2 });
  });
});
