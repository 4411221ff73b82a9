import { LRUCache } from 'lru-cache';
import type { Clock } from '../common/clock';

/** What a cache entry is loaded with: passed per call, so one cache serves several queries. */
export type CacheLoader<V> = () => Promise<V | undefined>;

export interface LoadingCacheOptions {
  max: number;
  ttlMs: number;
  /** Entries age with the app's clock, which tests move or stop. */
  clock: Clock;
}

/** A load that failed (database error, 404…), told apart from lru-cache aborting a load. */
class LoadFailure {
  constructor(readonly cause: unknown) {}
}

/**
 * An lru-cache (ttl + max) whose `fetch` runs the loader it is given: concurrent misses of
 * one key share one load. Undefined is never stored.
 */
export function loadingCache<V extends object>({ max, ttlMs, clock }: LoadingCacheOptions): LRUCache<string, V, CacheLoader<V>> {
  return new LRUCache<string, V, CacheLoader<V>>({
    max,
    ttl: ttlMs,
    // Read the clock on every check (no 1 ms memo), so a test that moves it sees the move at once.
    ttlResolution: 0,
    perf: { now: () => clock.now().getTime() },
    fetchMethod: async (_key, _stale, { context }) => {
      try {
        return await context();
      } catch (error) {
        throw new LoadFailure(error);
      }
    },
  });
}

/**
 * The entry for `key`, loaded with `load` on a miss. When the entry is deleted while its
 * load runs (a change was committed meanwhile), lru-cache aborts that load and rejects every
 * caller waiting on it: they read again instead, so no caller fails and none gets the state
 * from before the change. After three such aborts in a row the value is read without the cache.
 */
export async function fetchCurrent<V extends object>(
  cache: LRUCache<string, V, CacheLoader<V>>,
  key: string,
  load: CacheLoader<V>,
): Promise<V | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await cache.fetch(key, { context: load });
    } catch (error) {
      if (error instanceof LoadFailure) throw error.cause;
      // Anything else is the cache's own abort ('deleted', 'evicted'): load again.
    }
  }
  return load();
}
