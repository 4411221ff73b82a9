import { LRUCache } from 'lru-cache';

// Entry lifetimes follow Date.now() (as the tokens' exp and the tests' clocks do), not performance.now().
const WALL_CLOCK = { now: () => Date.now() };

/** The package's one cache: lru-cache bounded by `max`, with a TTL per entry (`set(key, value, { ttl })`). */
export function lruCache<V extends NonNullable<unknown>>(max: number): LRUCache<string, V> {
  // ttlResolution 0: read the clock on every check (a Date.now() costs nanoseconds; a cached one can be stale).
  return new LRUCache<string, V>({ max, perf: WALL_CLOCK, ttlResolution: 0 });
}

/**
 * Pass `start: nowMs` to `set` with it: the TTL then counts from the same instant as `nowMs`, not
 * from lru-cache's own later clock read (a millisecond apart on a busy machine, which kept an
 * entry one tick past `expiresAtMs`).
 * The `ttl` that keeps an entry until just before `expiresAtMs` (lru-cache serves an entry while
 * its age is ≤ ttl, and 0 would mean "forever"), or undefined when it should not be stored.
 */
export function ttlUntil(expiresAtMs: number, nowMs: number): number | undefined {
  const ttl = Math.floor(expiresAtMs - nowMs) - 1;
  return ttl > 0 ? ttl : undefined;
}
