import { KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { CacheLoader, fetchCurrent, loadingCache } from '../auth/cache-fetch';
import { CredentialChanges } from '../auth/credential-changes.service';
import { Clock } from '../common/clock';
import { AppException } from '../common/errors/app.exception';
import { RegisteredKeysService } from '../registered-keys/registered-keys.service';
import { TenantsService } from '../tenants/tenants.service';

/** What verification needs about a tenant-registered key, read once per cache period. */
export interface ResolvedRegisteredKey {
  kid: string;
  tenantId: string;
  algorithm: string;
  keyObject: KeyObject;
  /** The tenant's longest accepted `exp − iat`, in seconds. */
  registeredTokenMaxTtl: number;
}

/**
 * How long an answer (key found or not) is kept. A deactivation or deletion ends it at once on
 * the replica that made it and within a second on the others (CredentialChanges); this is
 * the backstop should a notification be missed.
 */
export const REGISTERED_KEY_CACHE_TTL_MS = 5_000;
/** Most kids held in the cache; the least recently used entry is dropped first. */
export const REGISTERED_KEY_CACHE_MAX_ENTRIES = 10_000;
/** Database look-ups per second for kids never seen valid before; beyond it, such a kid is UNKNOWN_KEY without a query. */
export const UNKNOWN_KID_LOOKUPS_PER_SECOND = 50;
/** Kids found valid at least once are remembered this long, so a storm of random kids cannot starve them. */
const KNOWN_KID_MEMORY_MS = 60 * 60_000;

// Registered kids are RFC 7638 thumbprints (SHA-256, base64url): anything else cannot name one.
const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

/** A cached answer: `key` is absent for a kid that names no usable key (negative answers are cached too). */
interface Entry {
  key?: ResolvedRegisteredKey;
}

/**
 * Resolves a kid to an active registered key of a live, enabled tenant, with a short cache
 * (lru-cache: ttl, max, shared in-flight loads).
 *
 * - A key deactivated, deleted or displaced on this replica is forgotten before that request
 *   answers (RegisteredKeysService.onKeyChanged); on another replica, or by a tenant change,
 *   within a second through NOTIFY (CredentialChanges). A look-up that was reading while the
 *   change committed is discarded and read again, never cached.
 * - Positive and negative answers otherwise live REGISTERED_KEY_CACHE_TTL_MS (5 s).
 * - Kids that cannot be a thumbprint are refused without a query.
 * - Concurrent look-ups of one kid share one query.
 * - A storm of random, never-seen kids costs at most UNKNOWN_KID_LOOKUPS_PER_SECOND queries
 *   a second; kids seen valid in the last hour are always looked up, so real keys keep
 *   working during the storm. A key registered during a storm may be refused for its first
 *   requests (UNKNOWN_KEY, retried successfully once the storm passes).
 */
@Injectable()
export class RegisteredKeyResolver {
  private readonly cache: LRUCache<string, Entry, CacheLoader<Entry>>;
  private readonly knownKids: LRUCache<string, true>;
  /** Kids whose look-up is running: a second caller joins it without spending budget. */
  private readonly loading = new Set<string>();
  private budget = { second: 0, used: 0 };

  constructor(
    private readonly registeredKeys: RegisteredKeysService,
    private readonly tenants: TenantsService,
    private readonly clock: Clock,
    changes: CredentialChanges,
  ) {
    this.cache = loadingCache<Entry>({ max: REGISTERED_KEY_CACHE_MAX_ENTRIES, ttlMs: REGISTERED_KEY_CACHE_TTL_MS, clock });
    this.knownKids = new LRUCache<string, true>({
      max: REGISTERED_KEY_CACHE_MAX_ENTRIES,
      ttl: KNOWN_KID_MEMORY_MS,
      ttlResolution: 0,
      perf: { now: () => clock.now().getTime() },
    });
    // A key deactivated, deleted or displaced (another tenant proved it) on this replica stops here on the next request.
    registeredKeys.onKeyChanged((kid) => this.cache.delete(kid));
    changes.subscribe((change) => {
      if (change.t === 'registered_key') this.cache.delete(change.kid);
      // A tenant disabled or deleted: its keys stop verifying (loads in flight cannot be told apart by tenant).
      else if (change.t === 'tenant' || change.t === 'all') this.cache.clear();
    });
  }

  async resolve(kid: string): Promise<ResolvedRegisteredKey | undefined> {
    if (!THUMBPRINT.test(kid)) return undefined;
    const cached = this.cache.get(kid);
    if (cached) return cached.key;
    if (!this.loading.has(kid) && !this.knownKids.has(kid) && !this.takeBudget(this.clock.now().getTime())) return undefined;

    const entry = await fetchCurrent(this.cache, kid, () => this.load(kid));
    if (entry?.key) this.knownKids.set(kid, true);
    return entry?.key;
  }

  private async load(kid: string): Promise<Entry> {
    this.loading.add(kid);
    try {
      const key = await this.registeredKeys.findActiveKey(kid);
      if (!key) return {};
      let registeredTokenMaxTtl: number;
      try {
        ({ registeredTokenMaxTtl } = await this.tenants.settings(key.tenantId));
      } catch (error) {
        // The tenant was deleted between the two reads: the key no longer counts.
        if (error instanceof AppException) return {};
        throw error;
      }
      return { key: { kid: key.kid, tenantId: key.tenantId, algorithm: key.algorithm, keyObject: key.keyObject, registeredTokenMaxTtl } };
    } finally {
      this.loading.delete(kid);
    }
  }

  private takeBudget(nowMs: number): boolean {
    const second = Math.floor(nowMs / 1000);
    if (second !== this.budget.second) this.budget = { second, used: 0 };
    if (this.budget.used >= UNKNOWN_KID_LOOKUPS_PER_SECOND) return false;
    this.budget.used++;
    return true;
  }
}
