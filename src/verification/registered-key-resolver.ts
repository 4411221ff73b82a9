import { Injectable } from '@nestjs/common';
import { KeyObject } from 'node:crypto';
import { AppException } from '../common/errors/app.exception';
import { Clock } from '../common/clock';
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

/** How long an answer (key found or not) is kept: also the bound on how long a deleted key keeps verifying. */
export const REGISTERED_KEY_CACHE_TTL_MS = 5_000;
/** Most kids held in the cache; the oldest entry is dropped first. */
export const REGISTERED_KEY_CACHE_MAX_ENTRIES = 10_000;
/** Database look-ups per second for kids never seen valid before; beyond it, such a kid is UNKNOWN_KEY without a query. */
export const UNKNOWN_KID_LOOKUPS_PER_SECOND = 50;
/** Kids found valid at least once are remembered this long, so a storm of random kids cannot starve them. */
const KNOWN_KID_MEMORY_MS = 60 * 60_000;

// Registered kids are RFC 7638 thumbprints (SHA-256, base64url): anything else cannot name one.
const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

interface Entry {
  key: ResolvedRegisteredKey | undefined;
  expiresAtMs: number;
}

/**
 * Resolves a kid to an active registered key of a live, enabled tenant, with a short cache.
 *
 * - Positive and negative answers live REGISTERED_KEY_CACHE_TTL_MS (5 s): a DELETE or
 *   deactivation stops the key's tokens within that bound on every replica.
 * - Kids that cannot be a thumbprint are refused without a query.
 * - Concurrent look-ups of one kid share one query.
 * - A storm of random, never-seen kids costs at most UNKNOWN_KID_LOOKUPS_PER_SECOND queries
 *   a second; kids seen valid in the last hour are always looked up, so real keys keep
 *   working during the storm. A key registered during a storm may be refused for its first
 *   requests (UNKNOWN_KEY, retried successfully once the storm passes).
 */
@Injectable()
export class RegisteredKeyResolver {
  private readonly cache = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<ResolvedRegisteredKey | undefined>>();
  private readonly knownKids = new Map<string, number>();
  private budget = { second: 0, used: 0 };
  /** Bumped on every key change made here, so that a look-up that read before it is not cached. */
  private generation = 0;

  constructor(
    private readonly registeredKeys: RegisteredKeysService,
    private readonly tenants: TenantsService,
    private readonly clock: Clock,
  ) {
    // A key deactivated, deleted or displaced (another tenant proved it) on this replica stops here on the next request.
    registeredKeys.onKeyChanged((kid) => {
      this.generation++;
      this.cache.delete(kid);
      this.inFlight.delete(kid);
    });
  }

  async resolve(kid: string): Promise<ResolvedRegisteredKey | undefined> {
    if (!THUMBPRINT.test(kid)) return undefined;
    const nowMs = this.clock.now().getTime();
    const cached = this.cache.get(kid);
    if (cached && cached.expiresAtMs > nowMs) return cached.key;

    const pending = this.inFlight.get(kid);
    if (pending) return pending;
    if (!this.isKnown(kid, nowMs) && !this.takeBudget(nowMs)) return undefined;

    const generation = this.generation;
    const lookup = this.load(kid).finally(() => {
      if (this.inFlight.get(kid) === lookup) this.inFlight.delete(kid);
    });
    this.inFlight.set(kid, lookup);
    const key = await lookup;
    if (generation === this.generation) this.remember(this.cache, kid, { key, expiresAtMs: nowMs + REGISTERED_KEY_CACHE_TTL_MS });
    if (key) this.remember(this.knownKids, kid, nowMs);
    return key;
  }

  private async load(kid: string): Promise<ResolvedRegisteredKey | undefined> {
    const key = await this.registeredKeys.findActiveKey(kid);
    if (!key) return undefined;
    let registeredTokenMaxTtl: number;
    try {
      ({ registeredTokenMaxTtl } = await this.tenants.settings(key.tenantId));
    } catch (error) {
      // The tenant was deleted between the two reads: the key no longer counts.
      if (error instanceof AppException) return undefined;
      throw error;
    }
    return { kid: key.kid, tenantId: key.tenantId, algorithm: key.algorithm, keyObject: key.keyObject, registeredTokenMaxTtl };
  }

  private isKnown(kid: string, nowMs: number): boolean {
    const seen = this.knownKids.get(kid);
    return seen !== undefined && nowMs - seen < KNOWN_KID_MEMORY_MS;
  }

  private takeBudget(nowMs: number): boolean {
    const second = Math.floor(nowMs / 1000);
    if (second !== this.budget.second) this.budget = { second, used: 0 };
    if (this.budget.used >= UNKNOWN_KID_LOOKUPS_PER_SECOND) return false;
    this.budget.used++;
    return true;
  }

  /** Insert as newest; drop the oldest entry past the bound (Map keeps insertion order). */
  private remember<V>(map: Map<string, V>, kid: string, value: V): void {
    map.delete(kid);
    map.set(kid, value);
    if (map.size > REGISTERED_KEY_CACHE_MAX_ENTRIES) map.delete(map.keys().next().value as string);
  }
}
