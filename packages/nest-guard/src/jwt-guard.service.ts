import { createHash, KeyObject } from 'node:crypto';
import { CanActivate, ExecutionContext, Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import passport from 'passport';
import { Strategy as JwtStrategy, StrategyOptionsWithRequest } from 'passport-jwt';
import { BearerAuthException } from './bearer-auth.exception';
import { BoundedCache } from './bounded-cache';
import { JWT_GUARD_OPTIONS, JwtGuardModuleOptions, NormalizedGuardOptions, NormalizedIssuer, normalizeGuardOptions } from './jwt-guard.options';
import { createEddsaStrategy } from './eddsa.strategy';
import { createKeySource, KeySource } from './keys/key-sources';
import { TokenError } from './token-errors';
import { InspectedJwt, inspectJwt } from './token-inspection';
import type { TokenPrincipal } from './token-principal';
import { extractToken } from './token-extraction';

/** What the guard hands passport-jwt through the request: the token it already inspected. */
const PENDING = Symbol('tessera.guard.pending');
const UNTYPED_TYPS = new Set(['jwt', 'application/jwt', 'at+jwt', 'application/at+jwt']);

interface PendingVerification {
  token: string;
  inspected: InspectedJwt;
  issuer: IssuerRuntime;
  /** The key that verified the token, set by the strategy. */
  key?: KeyObject;
}

interface IssuerRuntime {
  options: NormalizedIssuer;
  keys: KeySource;
  strategyNames: string[];
  /** passport-jwt (jsonwebtoken) for RS*, PS*, ES*, HS*. */
  passportGuard: CanActivate;
  /** The guard's own strategy for EdDSA, when the issuer lists it. */
  eddsaGuard?: CanActivate;
  revocations: BoundedCache<boolean>;
}

interface VerifiedEntry {
  principal: TokenPrincipal;
  issuer: IssuerRuntime;
  /** The token's kid and the key that verified it: a hit is served only while the issuer's key source still holds that key. */
  kid: string | undefined;
  key: KeyObject;
}

let instances = 0;

/**
 * Verification behind JwtAuthGuard. Per request, in this order and without any I/O until
 * a key is missing: verified-token cache (a hit counts only while the issuer's key source still
 * holds the key that verified it) → structural checks (inspectJwt) → issuer by `iss`
 * (unknown: refused, no fetch) → alg allowed for the issuer → typ → key (KeyObject cached per
 * kid) → passport-jwt/jsonwebtoken (signature, exp/nbf with tolerance, aud, iss; EdDSA, which
 * jsonwebtoken 9 lacks, through eddsa.strategy.ts with the same checks) → revocation.
 */
@Injectable()
export class JwtGuardService implements OnModuleDestroy {
  private readonly logger = new Logger('JwtGuard');
  private readonly options: NormalizedGuardOptions;
  private readonly issuers = new Map<string, IssuerRuntime>();
  private readonly verified: BoundedCache<VerifiedEntry>;

  constructor(@Inject(JWT_GUARD_OPTIONS) options: JwtGuardModuleOptions) {
    this.options = normalizeGuardOptions(options);
    this.verified = new BoundedCache(this.options.verifiedCacheSize);
    const instance = ++instances;
    this.options.issuers.forEach((issuer, index) => {
      this.issuers.set(issuer.issuer, this.createIssuer(issuer, `tessera-jwt:${instance}:${index}`));
    });
  }

  onModuleDestroy(): void {
    for (const issuer of this.issuers.values()) for (const name of issuer.strategyNames) passport.unuse(name);
    this.verified.clear();
  }

  /** The token of the request (Authorization: Bearer, else the configured cookie); throws MISSING_TOKEN / MALFORMED_TOKEN. */
  tokenOf(request: { headers?: Record<string, unknown> }): string {
    return extractToken(request, this.options.cookieName, this.options.maxTokenBytes);
  }

  /** Verifies the request's token and returns its claims. Throws TokenError or BearerAuthException (503). */
  async authenticate(context: ExecutionContext, request: Record<PropertyKey, unknown>): Promise<TokenPrincipal> {
    const token = this.tokenOf(request as { headers?: Record<string, unknown> });
    const now = Date.now();
    const cacheKey = createHash('sha256').update(token).digest('base64url');
    const hit = this.verified.get(cacheKey, now);
    if (hit) {
      if (hit.issuer.keys.holds(hit.kid, hit.key, now)) {
        await this.checkRevocation(hit.issuer, hit.principal, now, token, cacheKey);
        return hit.principal;
      }
      // The key left the issuer's key set, or the set is due for a refresh: verify again.
      this.verified.delete(cacheKey);
    }

    const inspected = inspectJwt(token, this.options.maxTokenBytes, { requireKid: false });
    const { header, payload } = inspected;
    const issuer = typeof payload.iss === 'string' ? this.issuers.get(payload.iss) : undefined;
    if (!issuer) throw new TokenError('INVALID_ISSUER', 'Token issuer is not accepted');
    if (!issuer.options.algorithms.includes(header.alg as string)) throw new TokenError('ALGORITHM_NOT_ALLOWED', 'Token algorithm is not allowed');
    if (issuer.keys.requiresKid && header.kid === undefined) throw new TokenError('UNKNOWN_KEY', 'Token header has no key id');
    checkTyp(header.typ, issuer.options.acceptedTyps);
    if (payload.exp === undefined) throw new TokenError('MALFORMED_TOKEN', 'Token has no expiry');

    const pending: PendingVerification = { token, inspected, issuer };
    request[PENDING] = pending;
    try {
      await (header.alg === 'EdDSA' && issuer.eddsaGuard ? issuer.eddsaGuard : issuer.passportGuard).canActivate(context);
    } finally {
      delete request[PENDING];
    }
    const principal = Object.freeze({ ...(request.user as Record<string, unknown>) }) as TokenPrincipal;

    await this.checkRevocation(issuer, principal, now, token, cacheKey);
    const expiresAtMs = Math.min(principal.exp * 1000, now + this.options.verifiedCacheTtlMs);
    if (expiresAtMs > now && pending.key) {
      this.verified.set(cacheKey, { principal, issuer, kid: header.kid as string | undefined, key: pending.key }, expiresAtMs);
    }
    return principal;
  }

  private async checkRevocation(issuer: IssuerRuntime, principal: TokenPrincipal, now: number, token: string, cacheKey: string): Promise<void> {
    const check = issuer.options.revocation;
    if (!check) return;
    const jti = typeof principal.jti === 'string' ? principal.jti : undefined;
    let revoked = jti === undefined ? undefined : issuer.revocations.get(jti, now);
    if (revoked === undefined) {
      try {
        revoked = (await check.isRevoked(principal, token, cacheKey)) === true;
      } catch {
        // Fail closed: a token whose status cannot be learned is not let through.
        throw BearerAuthException.revocationUnavailable();
      }
      if (jti !== undefined) {
        // A revocation is final: remember it until the token expires. "Not revoked" is only reused briefly.
        if (revoked) issuer.revocations.set(jti, true, principal.exp * 1000);
        else if (check.cacheTtlMs > 0) issuer.revocations.set(jti, false, now + check.cacheTtlMs);
      }
    }
    if (revoked) {
      this.verified.delete(cacheKey);
      throw new TokenError('TOKEN_REVOKED', 'Token has been revoked');
    }
  }

  private createIssuer(options: NormalizedIssuer, strategyName: string): IssuerRuntime {
    const keys = createKeySource(options, (uri, error) => {
      // Once per failed fetch, which the rate limit bounds; never a token.
      this.logger.warn(`JWKS fetch from ${uri} failed: ${error instanceof Error ? error.message : 'unknown error'}; cached keys stay in use`);
    });
    const strategyOptions: StrategyOptionsWithRequest = {
      jwtFromRequest: (req) => (req as unknown as Record<PropertyKey, PendingVerification | undefined>)[PENDING]?.token ?? null,
      // The key is a KeyObject parsed once per kid; a PEM string here would be parsed again on every request.
      secretOrKeyProvider: (req, _raw, done) => {
        const pending = (req as unknown as Record<PropertyKey, PendingVerification | undefined>)[PENDING];
        if (!pending) return done(new TokenError('MALFORMED_TOKEN'));
        const { header } = pending.inspected;
        pending.issuer.keys.resolve(header.kid as string | undefined, header.alg as string).then(
          (key) => {
            pending.key = key;
            done(null, key as unknown as string);
          },
          (error: unknown) => done(error),
        );
      },
      issuer: options.issuer,
      audience: options.audience,
      algorithms: options.algorithms.filter((alg) => alg !== 'EdDSA') as StrategyOptionsWithRequest['algorithms'],
      ignoreExpiration: false,
      jsonWebTokenOptions: { clockTolerance: options.clockToleranceSec },
      passReqToCallback: true,
    };
    passport.use(strategyName, new JwtStrategy(strategyOptions, (_req: unknown, payload: unknown, done: (e: unknown, user?: unknown) => void) => done(null, payload)));

    const strategyNames = [strategyName];
    let eddsaGuard: CanActivate | undefined;
    if (options.algorithms.includes('EdDSA')) {
      strategyNames.push(`${strategyName}:eddsa`);
      passport.use(strategyNames[1], createEddsaStrategy((req) => {
        const pending = (req as Record<PropertyKey, PendingVerification | undefined>)[PENDING];
        return pending && {
          inspected: pending.inspected,
          keys: pending.issuer.keys,
          issuer: pending.issuer.options,
          onKey: (key: KeyObject) => {
            pending.key = key;
          },
        };
      }));
      eddsaGuard = passportGuardFor(strategyNames[1]);
    }
    return {
      options,
      keys,
      strategyNames,
      passportGuard: passportGuardFor(strategyName),
      eddsaGuard,
      revocations: new BoundedCache<boolean>(10_000),
    };
  }
}

/** @nestjs/passport's AuthGuard for one named strategy, answering with the design's codes. */
function passportGuardFor(strategyName: string): CanActivate {
  class IssuerPassportGuard extends AuthGuard(strategyName) {
    override handleRequest<T>(error: unknown, user: T, info: unknown): T {
      if (!error && user) return user;
      throw toTokenError(error ?? info);
    }
  }
  return new IssuerPassportGuard();
}

function checkTyp(typ: unknown, accepted: ReadonlySet<string> | null): void {
  // RFC 8725 §3.11 / RFC 9068 §4: explicit typing keeps other JWTs (ID tokens, logout tokens…) out.
  const ok = accepted === null
    ? typ === undefined || (typeof typ === 'string' && UNTYPED_TYPS.has(typ.toLowerCase()))
    : typeof typ === 'string' && accepted.has(typ.toLowerCase());
  if (!ok) throw new TokenError('INVALID_TOKEN_TYPE', 'Token type is not accepted');
}

/** jsonwebtoken's failures, by class and message, to the design's codes; the original message is never shown. */
export function toTokenError(error: unknown): TokenError {
  if (error instanceof TokenError) return error;
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : '';
  if (name === 'TokenExpiredError') return new TokenError('TOKEN_EXPIRED', 'Token expired');
  if (name === 'NotBeforeError') return new TokenError('TOKEN_NOT_YET_VALID', 'Token is not valid yet');
  if (name === 'JsonWebTokenError') {
    if (text === 'invalid signature' || text === 'jwt signature is required') return new TokenError('INVALID_SIGNATURE', 'Token signature is invalid');
    if (text.startsWith('jwt audience invalid')) return new TokenError('INVALID_AUDIENCE', 'Token audience is not accepted');
    if (text.startsWith('jwt issuer invalid')) return new TokenError('INVALID_ISSUER', 'Token issuer is not accepted');
    if (text === 'invalid algorithm' || text.startsWith('secretOrPublicKey must') || text.includes('"alg" parameter')) {
      return new TokenError('ALGORITHM_NOT_ALLOWED', 'Token algorithm is not allowed');
    }
    if (text === 'jwt malformed' || text === 'invalid token' || /^invalid (exp|nbf|iat) value/.test(text)) {
      return new TokenError('MALFORMED_TOKEN', 'Token is malformed');
    }
  }
  // Anything else while checking the signature (an unparsable ECDSA signature, a key too short…).
  return new TokenError('INVALID_SIGNATURE', 'Token signature is invalid');
}
