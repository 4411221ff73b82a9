import type { LRUCache } from 'lru-cache';
import { lruCache } from '../core/lru';

/**
 * Where proof `jti`s are remembered so each is used once within its window (RFC 9449 §11.1).
 * `use` records the pair and answers true, or answers false when it was already used.
 * `expiresAtMs` is when the proof stops being acceptable anyway: the entry may go then.
 * A store shared by every replica (a database table with a unique key) makes the rule hold
 * across them; the in-memory default holds it within one process.
 */
export interface DpopJtiStore {
  use(jkt: string, jti: string, expiresAtMs: number): boolean | Promise<boolean>;
}

/** The default store: an LRU of recently seen (jkt, jti) pairs, each kept until its proof expires. */
export class MemoryDpopJtiStore implements DpopJtiStore {
  private readonly seen: LRUCache<string, true>;

  constructor(maxEntries = 100_000) {
    this.seen = lruCache<true>(maxEntries);
  }

  use(jkt: string, jti: string, expiresAtMs: number): boolean {
    const key = `${jkt} ${jti}`;
    if (this.seen.has(key)) return false;
    const ttl = Math.max(1, Math.ceil(expiresAtMs - Date.now()));
    this.seen.set(key, true, { ttl });
    return true;
  }
}
