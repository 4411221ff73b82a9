import { createHash, KeyObject } from 'node:crypto';
import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { LRUCache } from 'lru-cache';
import { BearerAuthException } from './bearer-auth.exception';
import { JwtVerifier, VerifiedJwt, VerifierIssuer } from './core/jwt-verifier';
import { lruCache, ttlUntil } from './core/lru';
import { GuardRequest, guardRequestOf } from './guard-request';
import { JWT_GUARD_OPTIONS, JwtGuardModuleOptions, NormalizedGuardOptions, SenderConstraintCheck } from './jwt-guard.options';
import { TokenError } from './token-errors';
import { extractToken, refuseRepeatedAuthorization } from './token-extraction';
import type { TokenPrincipal } from './token-principal';

/** A verified token remembered by the raw credential it arrived as (Authorization header value or cookie token). */
interface VerifiedEntry {
  principal: TokenPrincipal;
  issuer: VerifierIssuer;
  /** The token's kid, alg and the key that verified it: a hit is served only while the issuer's key source still holds that key NOW. */
  kid: string | undefined;
  alg: string;
  key: KeyObject;
  token: string;
  /** SHA-256 (base64url) of the token, computed on the miss when the issuer has a revocation check. */
  tokenHash: string | undefined;
}

interface RevocationRuntime {
  isRevoked: NonNullable<NormalizedGuardOptions['issuers'][number]['revocation']>['isRevoked'];
  cacheTtlMs: number;
  /** Per-jti answers: "revoked" until exp, "not revoked" for cacheTtlMs. */
  answers: LRUCache<string, boolean>;
}

const REVOCATION_ENTRIES = 10_000;

/**
 * The guard's fast path. Per request, without passport and without any I/O until a key is
 * missing:
 *
 * - verified-token cache, keyed by the raw `Authorization` value (or cookie token) the token
 *   came in: a hit costs one map lookup — no parsing, no hashing, no signature check, nothing
 *   allocated but what the revocation hook needs — and is served only while the issuer's key
 *   source still holds the key that verified the token NOW (JWKS: same KeyObject in a fresh set;
 *   keyResolver: the resolver asked again, synchronously when it answers synchronously);
 * - on a miss: extractToken → the core (JwtVerifier: inspect once, issuer, alg, typ, times,
 *   pinned key, one signature, iss/aud);
 * - then the revocation check (also on hits) and the optional sender-constraint check (also on
 *   hits; the seam for DPoP, RFC 9449).
 */
@Injectable()
export class JwtGuardService implements OnModuleDestroy {
  private readonly logger = new Logger('JwtGuard');
  /** The verification core this guard runs (also used by the passport strategy). */
  readonly verifier: JwtVerifier;
  readonly options: NormalizedGuardOptions;
  private readonly verified: LRUCache<string, VerifiedEntry> | undefined;
  private readonly revocations = new Map<VerifierIssuer['options'], RevocationRuntime>();
  private readonly senderConstraint: SenderConstraintCheck | undefined;
  /** Authorization schemes besides Bearer read for the sender-constraint check (e.g. `DPoP `), as cache-key prefixes. */
  private readonly extraSchemes: readonly string[];

  constructor(@Inject(JWT_GUARD_OPTIONS) options: JwtGuardModuleOptions) {
    this.verifier = new JwtVerifier(options, {
      // Once per failed fetch, which the rate limit bounds; never a token.
      onJwksFailure: (uri, error) =>
        this.logger.warn(
          `JWKS fetch from ${uri} failed: ${error instanceof Error ? error.message : 'unknown error'}; cached keys stay in use`,
        ),
    });
    this.options = this.verifier.options;
    this.senderConstraint = options.senderConstraint;
    this.extraSchemes = (options.senderConstraint?.authorizationSchemes ?? []).map((s) => s.toLowerCase());
    this.verified =
      this.options.verifiedCacheSize > 0 && this.options.verifiedCacheTtlMs > 0
        ? lruCache<VerifiedEntry>(this.options.verifiedCacheSize)
        : undefined;
    for (const issuer of this.options.issuers) {
      if (issuer.revocation) this.revocations.set(issuer, { ...issuer.revocation, answers: lruCache<boolean>(REVOCATION_ENTRIES) });
    }
  }

  onModuleDestroy(): void {
    this.verified?.clear();
  }

  /** The token of the request (Authorization: Bearer, else the configured cookie); throws MISSING_TOKEN / MALFORMED_TOKEN. */
  tokenOf(request: { headers?: Record<string, unknown> }): string {
    return extractToken(request, this.options.cookieName, this.options.maxTokenBytes, this.extraSchemes);
  }

  /**
   * Verifies the request's token and returns its claims: synchronously on a verified-cache hit
   * whose checks all answer synchronously, else a promise. Throws (or rejects with) TokenError, or
   * BearerAuthException (503 when the revocation check cannot answer, or the sender-constraint
   * check's own refusal).
   */
  authenticate(request: object): TokenPrincipal | Promise<TokenPrincipal> {
    refuseRepeatedAuthorization(request);
    const headers = (request as { headers?: Record<string, unknown> }).headers;
    const authorization = headers?.authorization;
    // Only a Bearer value (or one of the sender constraint's schemes, e.g. DPoP: its check runs on
    // hits too) is a cache key: another scheme (Basic…) falls through to the cookie.
    let cacheKey =
      typeof authorization === 'string' && (authorization.startsWith('Bearer ') || this.isExtraScheme(authorization))
        ? authorization
        : undefined;
    if (cacheKey === undefined && this.verified && this.options.cookieName !== undefined) cacheKey = this.cookieCacheKey(request);
    if (this.verified && cacheKey !== undefined) {
      const hit = this.verified.get(cacheKey);
      if (hit) {
        const held = hit.issuer.keys.holds(hit.kid, hit.key, hit.alg, Date.now());
        if (held === true) return this.afterVerification(hit, cacheKey, request);
        if (held !== false) return held.then((ok) => (ok ? this.afterVerification(hit, cacheKey, request) : this.miss(request, cacheKey)));
        // The key left the issuer's key set, or the set is due for a refresh: verify again.
        this.verified.delete(cacheKey);
      }
    }
    return this.miss(request, cacheKey);
  }

  /** The core alone (no cache, no revocation, no sender constraint): for callers that verify tokens outside a request. */
  verify(token: string): Promise<VerifiedJwt> {
    return this.verifier.verify(token);
  }

  private isExtraScheme(authorization: string): boolean {
    if (this.extraSchemes.length === 0) return false;
    const space = authorization.indexOf(' ');
    return space > 0 && this.extraSchemes.includes(authorization.slice(0, space).toLowerCase());
  }

  /** A cookie token is its own cache key (a JWT never contains a space; a Bearer header value always does). */
  private cookieCacheKey(request: object): string | undefined {
    try {
      const token = this.tokenOf(request as { headers?: Record<string, unknown> });
      return token.indexOf(' ') < 0 ? token : undefined;
    } catch {
      return undefined; // miss() extracts again and throws the TokenError
    }
  }

  private async miss(request: object, cacheKey: string | undefined): Promise<TokenPrincipal> {
    const token = this.tokenOf(request as { headers?: Record<string, unknown> });
    const now = Date.now();
    const verified = await this.verifier.verify(token, now);
    const entry: VerifiedEntry = {
      principal: verified.claims,
      issuer: verified.issuer,
      kid: verified.kid,
      alg: verified.alg,
      key: verified.key,
      token,
      tokenHash: this.revocations.has(verified.issuer.options) ? createHash('sha256').update(token).digest('base64url') : undefined,
    };
    const principal = await this.afterVerification(entry, undefined, request);
    const ttl = ttlUntil(Math.min(entry.principal.exp * 1000, now + this.options.verifiedCacheTtlMs), now);
    if (this.verified && cacheKey !== undefined && ttl !== undefined) this.verified.set(cacheKey, entry, { ttl, start: now });
    return principal;
  }

  /** Revocation, then the sender constraint; synchronous while both answer synchronously. */
  private afterVerification(entry: VerifiedEntry, cacheKey: string | undefined, request: object): TokenPrincipal | Promise<TokenPrincipal> {
    const revoked = this.checkRevocation(entry, cacheKey);
    if (revoked !== undefined) return revoked.then(() => this.checkSenderConstraint(entry, request));
    return this.checkSenderConstraint(entry, request);
  }

  private checkSenderConstraint(entry: VerifiedEntry, request: object): TokenPrincipal | Promise<TokenPrincipal> {
    const check = this.senderConstraint;
    if (!check) return entry.principal;
    const outcome = check.check(entry.principal, guardRequestOf(request), entry.token);
    return outcome === undefined ? entry.principal : Promise.resolve(outcome).then(() => entry.principal);
  }

  /** undefined when the token passes synchronously; a promise when the hook answers asynchronously. Throws when refused. */
  private checkRevocation(entry: VerifiedEntry, cacheKey: string | undefined): Promise<void> | undefined {
    const runtime = this.revocations.get(entry.issuer.options);
    if (!runtime) return undefined;
    const { principal } = entry;
    const jti = typeof principal.jti === 'string' ? principal.jti : undefined;
    const known = jti === undefined ? undefined : runtime.answers.get(jti);
    if (known !== undefined) return this.settleRevocation(known, runtime, entry, jti, cacheKey, true);
    let answer: boolean | Promise<boolean>;
    try {
      answer = runtime.isRevoked(principal, entry.token, entry.tokenHash as string);
    } catch {
      // Fail closed: a token whose status cannot be learned is not let through.
      throw BearerAuthException.revocationUnavailable();
    }
    if (typeof answer === 'boolean') return this.settleRevocation(answer, runtime, entry, jti, cacheKey, false);
    return Promise.resolve(answer).then(
      (revoked) => this.settleRevocation(revoked === true, runtime, entry, jti, cacheKey, false),
      () => {
        throw BearerAuthException.revocationUnavailable();
      },
    );
  }

  private settleRevocation(
    revoked: boolean,
    runtime: RevocationRuntime,
    entry: VerifiedEntry,
    jti: string | undefined,
    cacheKey: string | undefined,
    cached: boolean,
  ): undefined {
    if (!cached && jti !== undefined) {
      // A revocation is final: remember it until the token expires. "Not revoked" is only reused briefly.
      const now = Date.now();
      const ttl = ttlUntil(revoked ? entry.principal.exp * 1000 : now + runtime.cacheTtlMs, now);
      if (ttl !== undefined) runtime.answers.set(jti, revoked, { ttl, start: now });
    }
    if (revoked) {
      if (cacheKey !== undefined) this.verified?.delete(cacheKey);
      throw new TokenError('TOKEN_REVOKED', 'Token has been revoked');
    }
    return undefined;
  }
}

export type { GuardRequest };
