import { createPublicKey, KeyObject } from 'node:crypto';
import { JwksClient } from 'jwks-rsa';
import { keyFamily } from '../core/jws-algorithms';
import { lruCache } from '../core/lru';
import { DEFAULT_JWKS_MAX_STALE_MS, NormalizedIssuer } from '../jwt-guard.options';
import { TokenError } from '../token-errors';
import type { KeySource } from './key-sources';
import { checkPinnedKey, PinnedKey } from './pinned-key';

/** After a failed JWKS fetch, cached keys are served without another attempt for this long. */
const FAILURE_BACKOFF_MS = 5000;
const MAX_JWKS_BYTES = 512 * 1024;
const UNKNOWN_KID_ENTRIES = 1000;
const UNKNOWN_KID_TTL_MS = 60_000;

interface CachedKey extends PinnedKey {
  /** The JWK as fetched, to reuse the parsed KeyObject while the key does not change. */
  jwkText: string;
}

/**
 * Keys of one issuer's JWKS, as parsed KeyObjects cached per kid (no PEM, nothing parsed per
 * request). jwks-rsa's client (one per issuer: its cache and rate limit only work when shared)
 * does the lookups; its `fetcher` hook hands us every JWKS document it fetches, and each
 * successful document replaces the whole key set, so a key removed from the JWKS is gone at
 * the next fetch and nothing can bring it back but a later document that lists it.
 *
 * - fresh set (younger than jwksCacheMaxAgeMs): answered from memory;
 * - stale set: re-fetched before use; if the fetch fails (outage) or the budget is spent,
 *   the cached key keeps working (a key is only dropped on a document that lacks it) until
 *   jwksMaxStaleMs after the last successful fetch: past that, a source that keeps failing
 *   (404, 5xx, timeout, bad document) verifies nothing (UNKNOWN_KEY) until a fetch succeeds —
 *   a JWKS taken down (a disabled tenant, a retired issuer) does not leave its keys trusted forever;
 * - unknown kid: negatively cached; lookups are limited to jwksRequestsPerMinute and fail
 *   fast beyond that, so a storm of random kids never waits and never touches a known key.
 */
export class JwksKeySource implements KeySource {
  readonly requiresKid = true;
  private keys = new Map<string, CachedKey>();
  private lastSuccessAtMs = Number.NEGATIVE_INFINITY;
  private lastFailureAtMs = Number.NEGATIVE_INFINITY;
  private successfulFetches = 0;
  private readonly unknownKids = lruCache<true>(UNKNOWN_KID_ENTRIES);
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly budget: LookupBudget;
  private readonly client: JwksClient;
  private readonly maxAgeMs: number;
  private readonly maxStaleMs: number;
  private readonly timeoutMs: number;

  constructor(
    issuer: NormalizedIssuer,
    private readonly onFailure: (uri: string, error: unknown) => void,
    /** The transport of JWKS fetches (default: the global fetch), e.g. one that refuses internal addresses. */
    private readonly fetchImpl?: typeof fetch,
  ) {
    this.maxAgeMs = issuer.jwksCacheMaxAgeMs;
    this.maxStaleMs = Math.max(issuer.jwksMaxStaleMs ?? DEFAULT_JWKS_MAX_STALE_MS, issuer.jwksCacheMaxAgeMs);
    this.timeoutMs = issuer.jwksTimeoutMs;
    this.budget = new LookupBudget(issuer.jwksRequestsPerMinute);
    this.client = new JwksClient({
      jwksUri: issuer.jwksUri as string,
      cache: true,
      cacheMaxEntries: 100,
      // Shorter than ours so that a lookup of a stale key set really fetches; our key map is the cache that answers.
      cacheMaxAge: Math.max(1, Math.floor(issuer.jwksCacheMaxAgeMs / 2)),
      rateLimit: true,
      jwksRequestsPerMinute: issuer.jwksRequestsPerMinute,
      timeout: issuer.jwksTimeoutMs,
      fetcher: (uri: string) => this.fetchJwks(uri),
    });
  }

  async resolve(kid: string | undefined, alg: string): Promise<PinnedKey> {
    if (kid === undefined) throw new TokenError('UNKNOWN_KEY', 'Token header has no key id');
    const now = Date.now();
    const cached = this.keys.get(kid);
    if (cached && now - this.lastSuccessAtMs < this.maxAgeMs) return checkPinnedKey(cached, alg);
    if (!cached && this.unknownKids.get(kid)) throw unknownKey();
    // Kept through failed fetches only until jwksMaxStaleMs after the last good one.
    const usable = cached !== undefined && now - this.lastSuccessAtMs < this.maxStaleMs ? cached : undefined;
    if (cached && now - this.lastFailureAtMs < FAILURE_BACKOFF_MS) {
      // Failed moments ago: no new attempt yet.
      if (usable) return checkPinnedKey(usable, alg);
      throw unknownKey();
    }

    let lookup = this.inFlight.get(kid);
    if (!lookup) {
      if (!this.budget.take(now)) {
        if (usable) return checkPinnedKey(usable, alg);
        throw unknownKey();
      }
      const fetchesBefore = this.successfulFetches;
      lookup = this.client
        .getSigningKey(kid)
        .then(
          () => undefined,
          () => undefined, // not found, rate limited or unreachable: decided below from the key set
        )
        .then(() => {
          this.inFlight.delete(kid);
          if (!this.keys.has(kid) && this.successfulFetches > fetchesBefore)
            this.unknownKids.set(kid, true, { ttl: Math.min(this.maxAgeMs, UNKNOWN_KID_TTL_MS) });
        });
      this.inFlight.set(kid, lookup);
    }
    await lookup;
    const current = this.keys.get(kid);
    // Still too old: every fetch failed since (the key would only be trusted on an outage's word).
    if (current && Date.now() - this.lastSuccessAtMs < this.maxStaleMs) return checkPinnedKey(current, alg);
    throw unknownKey();
  }

  /**
   * A verified-cache hit is served only while `key` is still this kid's key in a set that is
   * fresh (or kept through an outage, as resolve() would keep it). Once the set is stale the hit
   * goes through resolve(), which re-fetches; a key the new document lacks is then refused, so
   * a removed key's tokens fail within jwksCacheMaxAgeMs whatever verifiedCacheTtlMs is. Past
   * jwksMaxStaleMs without a successful fetch no hit is served at all.
   */
  holds(kid: string | undefined, key: KeyObject, alg: string, nowMs: number): boolean {
    const cached = kid === undefined ? undefined : this.keys.get(kid);
    if (cached === undefined || cached.keyObject !== key || (cached.alg !== undefined && cached.alg !== alg)) return false;
    const age = nowMs - this.lastSuccessAtMs;
    return age < this.maxAgeMs || (age < this.maxStaleMs && nowMs - this.lastFailureAtMs < FAILURE_BACKOFF_MS);
  }

  /** jwks-rsa's transport: fetch, check, and make the document the new key set. */
  private async fetchJwks(uri: string): Promise<{ keys: unknown[] }> {
    try {
      const response = await (this.fetchImpl ?? fetch)(uri, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (!response.ok) throw new Error(`JWKS endpoint answered ${response.status}`);
      const text = await response.text();
      if (text.length > MAX_JWKS_BYTES) throw new Error('JWKS document is too large');
      const document = JSON.parse(text) as { keys?: unknown };
      if (!document || !Array.isArray(document.keys)) throw new Error('JWKS document has no "keys" array');
      this.replaceKeys(document.keys);
      return { keys: document.keys };
    } catch (error) {
      this.lastFailureAtMs = Date.now();
      this.onFailure(uri, error);
      throw error;
    }
  }

  private replaceKeys(jwks: unknown[]): void {
    const next = new Map<string, CachedKey>();
    for (const jwk of jwks) {
      const jwkText = JSON.stringify(jwk);
      const kid = (jwk as { kid?: unknown })?.kid;
      if (typeof kid !== 'string' || next.has(kid)) continue;
      const previous = this.keys.get(kid);
      const key = previous?.jwkText === jwkText ? previous : toCachedKey(jwk as Record<string, unknown>, jwkText);
      if (key) next.set(kid, key);
    }
    this.keys = next;
    this.lastSuccessAtMs = Date.now();
    this.successfulFetches++;
    for (const kid of next.keys()) this.unknownKids.delete(kid);
  }
}

/** A public signature key from a JWK, or undefined when it must not verify signatures. */
function toCachedKey(jwk: Record<string, unknown>, jwkText: string): CachedKey | undefined {
  if (!jwk || typeof jwk !== 'object' || typeof jwk.kid !== 'string' || jwk.kid.length === 0) return undefined;
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined; // RFC 7517 §4.2: an encryption key
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return undefined;
  if (jwk.kty !== 'RSA' && jwk.kty !== 'EC' && !(jwk.kty === 'OKP' && (jwk.crv === 'Ed25519' || jwk.crv === 'Ed448'))) return undefined;
  if ('d' in jwk) return undefined; // private material is never used, even published by mistake
  if (jwk.alg !== undefined && typeof jwk.alg !== 'string') return undefined;
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({ key: jwk as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
  return { keyObject, family: keyFamily(keyObject), alg: jwk.alg as string | undefined, jwkText };
}

function unknownKey(): TokenError {
  return new TokenError('UNKNOWN_KEY', 'Token was signed with an unknown key');
}

/**
 * Token bucket of JWKS lookups (capacity and refill: jwksRequestsPerMinute). It sits in front
 * of jwks-rsa's own limiter, which would queue callers when its bucket runs dry; ours answers
 * "no" at once, so an unknown-kid storm costs no waiting requests.
 */
class LookupBudget {
  private tokens: number;
  private lastRefillMs = Date.now();

  constructor(private readonly perMinute: number) {
    this.tokens = perMinute;
  }

  take(nowMs: number): boolean {
    const elapsed = Math.max(0, nowMs - this.lastRefillMs);
    this.lastRefillMs = nowMs;
    this.tokens = Math.min(this.perMinute, this.tokens + (elapsed * this.perMinute) / 60_000);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
