import { Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { JwksKeySource, PinnedKey } from '@tessera/nest-guard';
import { Clock } from '../common/clock';
import { OutboundHttp } from '../common/http/outbound-http';

/** How long one fetched JWKS answers before a fresh fetch is made: a key removed upstream stops within this. */
export const JWKS_REFRESH_MS = 5 * 60_000;
/** During a JWKS outage the last keys fetched are served until this long after their fetch; then refused (invalid_client). */
export const JWKS_MAX_STALE_MS = 15 * 60_000;
/** While an issuer's JWKS fails, a new fetch is tried at most this often (besides the key source's own budget). */
const RETRY_MS = 10_000;
const JWKS_REQUESTS_PER_MINUTE = 10;
const JWKS_TIMEOUT_MS = 5000;
const MAX_KEY_SETS = 1000;

type KeySourceOptions = ConstructorParameters<typeof JwksKeySource>[0];

/** The JWKS could not be fetched and the keys held are older than JWKS_MAX_STALE_MS (or there are none). */
export class JwksUnavailableError extends Error {
  override readonly name = 'JwksUnavailableError';
}

interface Generation {
  source: JwksKeySource;
  fetchedAtMs: number;
  failures: number;
}

/**
 * The keys of one external JWKS, fetched through the guard package's JwksKeySource (jwks-rsa:
 * cache, rate limit, negative-kid budget; keys as KeyObjects per kid). That source bounds an
 * outage itself (jwksMaxStaleMs, UNKNOWN_KEY past it), but here the refusal must say the JWKS is
 * unavailable (JwksUnavailableError → invalid_client) and follow the injected Clock, so it is used
 * in generations: every
 * JWKS_REFRESH_MS a new source fetches the set again and replaces the old one only once that
 * fetch succeeded. While fetches fail the previous generation keeps answering, until
 * JWKS_MAX_STALE_MS after its fetch; past that the set is refused (docs/adr/0018).
 */
export class RemoteKeySet {
  private current?: Generation;
  private refreshing?: Promise<void>;
  private retryAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly uri: string,
    private readonly clock: Clock,
    private readonly onFailure: (uri: string, error: unknown) => void,
    /** The JWKS transport: OutboundHttp's fetch in the app (internal addresses refused at connect, docs/adr/0020). */
    private readonly fetchImpl?: typeof fetch,
  ) {}

  /** The pinned key for kid (TokenError from the source), or JwksUnavailableError. */
  async resolve(kid: string, alg: string): Promise<PinnedKey> {
    const now = this.clock.now().getTime();
    const before = this.current;
    if (before && now - before.fetchedAtMs < JWKS_REFRESH_MS) return before.source.resolve(kid, alg);
    if (!this.refreshing && now >= this.retryAtMs) {
      this.refreshing = this.refresh(kid, alg, now).finally(() => (this.refreshing = undefined));
    }
    if (this.refreshing) await this.refreshing;
    const after = this.current;
    if (!after || now - after.fetchedAtMs >= JWKS_MAX_STALE_MS) {
      throw new JwksUnavailableError('The issuer’s JWKS cannot be fetched and no recent keys are held');
    }
    return after.source.resolve(kid, alg);
  }

  /** One fetch through a new source (its first lookup always fetches); promoted only if it succeeded. */
  private async refresh(kid: string, alg: string, now: number): Promise<void> {
    const generation: Generation = { fetchedAtMs: now, failures: 0, source: undefined as unknown as JwksKeySource };
    generation.source = new JwksKeySource(
      keySourceOptions(this.uri),
      (uri, error) => {
        generation.failures++;
        this.onFailure(uri, error);
      },
      this.fetchImpl,
    );
    // Not found, wrong algorithm, or a fetch failure: which one is told by `failures`.
    await generation.source.resolve(kid, alg).catch(() => undefined);
    if (generation.failures === 0) this.current = generation;
    else this.retryAtMs = now + RETRY_MS;
  }
}

/** One RemoteKeySet per JWKS URL, shared by every client and trusted issuer that names it. */
@Injectable()
export class RemoteKeySets {
  private readonly logger = new Logger('RemoteJwks');
  private readonly sets = new LRUCache<string, RemoteKeySet>({ max: MAX_KEY_SETS });

  constructor(
    private readonly clock: Clock,
    private readonly outbound: OutboundHttp,
  ) {}

  forUri(uri: string): RemoteKeySet {
    let set = this.sets.get(uri);
    if (!set) {
      const warn = (failed: string, error: unknown) =>
        this.logger.warn(`JWKS fetch from ${failed} failed: ${String((error as Error)?.message ?? error)}`);
      set = new RemoteKeySet(uri, this.clock, warn, this.outbound.fetch);
      this.sets.set(uri, set);
    }
    return set;
  }
}

function keySourceOptions(uri: string): KeySourceOptions {
  return {
    issuer: uri,
    audience: [uri],
    algorithms: [],
    keySource: 'jwks',
    jwksUri: uri,
    clockToleranceSec: 0,
    jwksRequestsPerMinute: JWKS_REQUESTS_PER_MINUTE,
    // Longer than a generation lives: generations decide when keys are fetched again, and a kid
    // the set lacks is still looked up (within the source's budget) as soon as it appears.
    jwksCacheMaxAgeMs: JWKS_MAX_STALE_MS + 60_000,
    // The source's own outage bound, never reached first: a generation is refused at JWKS_MAX_STALE_MS.
    jwksMaxStaleMs: JWKS_MAX_STALE_MS + 60_000,
    jwksTimeoutMs: JWKS_TIMEOUT_MS,
    acceptedTyps: null,
  };
}
