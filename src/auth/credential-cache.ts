import { Injectable } from '@nestjs/common';

/**
 * How long a replica reuses a credential it found live (an API key, an OAuth client) — never
 * one it did not find. A change made on this replica (revocation, deletion, tenant disabled
 * or deleted) applies at once through `forget()`; one made on another replica within this
 * time. It saves a database round trip on every authenticated request, which measured as
 * the largest single cost of issuing a token here (bench/RESULTS.md).
 */
const CACHE_MS = 1000;
const CACHE_MAX = 10_000;

@Injectable()
export class CredentialCache {
  private readonly entries = new Map<string, { value: unknown; until: number }>();

  /** The cached value of `key`, or what `load` finds (cached only when found). */
  async get<T>(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const cached = this.entries.get(key);
    if (cached && cached.until > Date.now()) return cached.value as T;
    const value = await load();
    if (value === undefined) {
      this.entries.delete(key);
    } else {
      if (this.entries.size >= CACHE_MAX) this.entries.clear();
      this.entries.set(key, { value, until: Date.now() + CACHE_MS });
    }
    return value;
  }

  /** Drops everything; call it after a change is committed, so no request caches the state before it. */
  forget(): void {
    this.entries.clear();
  }
}
