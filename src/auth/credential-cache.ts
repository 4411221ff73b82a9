import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { Clock } from '../common/clock';
import { CacheLoader, fetchCurrent, loadingCache } from './cache-fetch';
import { CredentialChange, CredentialChanges } from './credential-changes.service';

/**
 * How long a replica reuses a credential it found live (an API key, an OAuth client) — never
 * one it did not find. It saves a database round trip on every authenticated request, which
 * measured as the largest single cost of issuing a token here (bench/RESULTS.md). A change
 * ends the reuse at once on the replica that made it and within a second elsewhere (through
 * CredentialChanges); this time is only the backstop.
 */
export const CREDENTIAL_CACHE_TTL_MS = 1000;
/** Credentials held per replica; the least recently used goes first. */
export const CREDENTIAL_CACHE_MAX = 10_000;

export type CredentialKind = 'api-key' | 'client';

/** Every cached credential names its tenant. */
interface Credential {
  tenantId: string;
}

@Injectable()
export class CredentialCache {
  private readonly cache: LRUCache<string, Credential, CacheLoader<Credential>>;

  constructor(clock: Clock, changes: CredentialChanges) {
    this.cache = loadingCache<Credential>({ max: CREDENTIAL_CACHE_MAX, ttlMs: CREDENTIAL_CACHE_TTL_MS, clock });
    changes.subscribe((change) => this.apply(change));
  }

  /** The cached credential (an API key by prefix, a client by id), or what `load` finds (cached only when found). */
  async get<T extends Credential>(kind: CredentialKind, id: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    return (await fetchCurrent(this.cache, `${kind}:${id}`, load)) as T | undefined;
  }

  private apply(change: CredentialChange): void {
    switch (change.t) {
      case 'api_key':
        this.cache.delete(`api-key:${change.prefix}`);
        return;
      case 'client':
        this.cache.delete(`client:${change.clientId}`);
        return;
      case 'registered_key':
        return;
      default:
        // A tenant change touches all its credentials, and loads in flight cannot be told apart
        // by tenant: start afresh (tenant changes are rare).
        this.cache.clear();
    }
  }
}
