import type { KeyObject } from 'node:crypto';
import type { ModuleMetadata } from '@nestjs/common';
import { typSet } from './core/claims';
import { isHmacAlgorithm, minimumHmacKeyBytes, SUPPORTED_ALGORITHMS } from './core/jws-algorithms';
import type { GuardRequest } from './guard-request';
import type { TokenPrincipal } from './token-principal';

export const JWT_GUARD_OPTIONS = Symbol('JWT_GUARD_OPTIONS');

/** A key found by a local key source: the key, and the algorithm it is pinned to when known. */
export type ResolvedKey = KeyObject | { key: KeyObject; alg?: string };

export interface RevocationCheck {
  /**
   * True when the (already verified) token must be refused (TOKEN_REVOKED); a throw or a
   * rejection answers 503 SERVICE_UNAVAILABLE. `token` is the raw bearer token (e.g. for
   * introspection, see `tesseraIntrospection`), `tokenHash` its SHA-256 (base64url), a cache key
   * the guard has already computed. Never log either.
   */
  isRevoked(claims: Record<string, unknown>, token: string, tokenHash: string): boolean | Promise<boolean>;
  /** How long a "not revoked" answer is reused per `jti` (default 5000 ms; 0 = ask every time). */
  cacheTtlMs?: number;
}

/**
 * A check that binds a verified token to the request carrying it (the seam for DPoP, RFC 9449:
 * `cnf.jkt` against the DPoP proof's key, `htm`/`htu` against `request.method`/`request.url`).
 * Runs after verification and revocation, on cache misses and hits alike. Throw (or reject with)
 * a TokenError for a 401 `invalid_token`, or a BearerAuthException for an answer of your own
 * (e.g. a `DPoP` challenge); return nothing to let the request through.
 */
export interface SenderConstraintCheck {
  check(claims: TokenPrincipal, request: GuardRequest, token: string): void | Promise<void>;
  /**
   * Authorization schemes besides Bearer whose token the guard reads (lower case), e.g.
   * `['dpop']` for `Authorization: DPoP <token>` (RFC 9449 §7.1). The check then sees every such
   * request and must refuse what it does not accept.
   */
  readonly authorizationSchemes?: readonly string[];
}

/**
 * RFC 9728 protected-resource metadata, served at GET /.well-known/oauth-protected-resource
 * when set, and named by `resource_metadata` in every WWW-Authenticate challenge.
 */
export interface ProtectedResourceOptions {
  /** This resource's identifier (an https URL, RFC 9728 §2 `resource`); the metadata URL is derived from it. */
  resource: string;
  /** Authorization servers whose tokens it accepts (default: every configured issuer that is a URL). */
  authorizationServers?: string[];
  /** Scopes the resource uses, published as `scopes_supported`. */
  scopesSupported?: string[];
  /** More members (resource_name, resource_documentation, …), published as given. */
  extra?: Record<string, unknown>;
}

export interface JwtIssuerOptions {
  /** Exact `iss` value. The token's (unverified) `iss` picks the issuer; an unknown one is refused without any fetch. */
  issuer: string;
  /** Accepted audience(s): the token's `aud` must contain one of them. */
  audience: string | string[];
  /** Accepted algorithms, required. `none` is refused, and HS* cannot be mixed with asymmetric algorithms. */
  algorithms: string[];
  /** Exactly one key source: a JWKS URL, */
  jwksUri?: string;
  /** a shared HMAC secret (HS256/384/512; at least as long as the hash output), */
  secret?: string | Buffer;
  /** or a local resolver (kid → key; undefined when unknown), e.g. a service's own key store. */
  keyResolver?: (kid: string) => Promise<ResolvedKey | undefined> | ResolvedKey | undefined;
  /** Allowed clock skew for exp/nbf, in seconds (default 30). */
  clockToleranceSec?: number;
  /** JWKS fetches allowed per minute, however many unknown kids arrive (default 10). */
  jwksRequestsPerMinute?: number;
  /** How long a fetched JWKS is trusted before it is fetched again (default 600 000 ms). */
  jwksCacheMaxAgeMs?: number;
  /**
   * How old the last successful JWKS fetch may get while fetches fail (404, 5xx, timeout, bad
   * document) before the cached keys stop verifying (UNKNOWN_KEY) until a fetch succeeds again.
   * Default max(900 000 ms, jwksCacheMaxAgeMs); never below jwksCacheMaxAgeMs.
   */
  jwksMaxStaleMs?: number;
  /** JWKS request timeout (default 5000 ms). */
  jwksTimeoutMs?: number;
  /**
   * Audiences that make a token NOT an access token, whatever else its `aud` holds: a token whose
   * `aud` names one is refused with INVALID_AUDIENCE (checked after the signature). For Tessera this
   * is its token endpoint: a jwt-bearer assertion (RFC 7523) names `${PUBLIC_URL}/oauth/token` and
   * must never pass as a bearer token (docs/adr/0014). Default: `${issuer}/oauth/token` when
   * `issuer` is an http(s) URL, and `${base}/oauth/token` when `jwksUri` is a Tessera tenant JWKS
   * (`${base}/v1/tenants/<id>/jwks.json`). A list given here replaces the default (`[]`: none).
   */
  forbiddenAudiences?: string[];
  /** Required JWT `typ` header (default 'at+jwt', RFC 9068). `false` accepts absent, 'JWT' or 'at+jwt'. */
  requiredTyp?: string | false;
  /** Optional revocation check, run after verification (and on verified-cache hits). */
  revocation?: RevocationCheck;
}

export interface JwtGuardModuleOptions {
  issuers: JwtIssuerOptions[];
  /** Install the guard for every route (APP_GUARD); `@Public()` opts a route out. Default false. */
  global?: boolean;
  /** Also read the token from this cookie when there is no Authorization header. */
  cookieName?: string;
  /** Entries in the verified-token cache (default 10 000; 0 disables it). */
  verifiedCacheSize?: number;
  /** Longest life of a verified-token cache entry (default 60 000 ms); never past the token's exp. */
  verifiedCacheTtlMs?: number;
  /** Largest token accepted, in bytes (default 8192). */
  maxTokenBytes?: number;
  /** Optional sender-constraint check (DPoP, mTLS): see SenderConstraintCheck. */
  senderConstraint?: SenderConstraintCheck;
  /** Optional RFC 9728 protected-resource metadata route and `resource_metadata` challenges. */
  protectedResource?: ProtectedResourceOptions;
}

export interface JwtGuardModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: unknown[];
  // Nest's own factory signature: the injected providers' types are the caller's.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  useFactory: (...args: any[]) => JwtGuardModuleOptions | Promise<JwtGuardModuleOptions>;
  /** Install the guard for every route. Decided here because providers are fixed before the factory runs. */
  global?: boolean;
  /**
   * The `resource` of the factory's `protectedResource`, when it sets one: routes are fixed before
   * the factory runs, so the RFC 9728 metadata route is registered from this.
   */
  protectedResource?: string;
}

export type KeySourceKind = 'jwks' | 'secret' | 'resolver';

/** An issuer with every default filled in and every rule checked. */
export interface NormalizedIssuer {
  issuer: string;
  audience: string[];
  algorithms: string[];
  keySource: KeySourceKind;
  jwksUri?: string;
  secret?: Buffer;
  keyResolver?: JwtIssuerOptions['keyResolver'];
  clockToleranceSec: number;
  jwksRequestsPerMinute: number;
  jwksCacheMaxAgeMs: number;
  /** Default max(900 000, jwksCacheMaxAgeMs); see JwtIssuerOptions.jwksMaxStaleMs. */
  jwksMaxStaleMs?: number;
  jwksTimeoutMs: number;
  /** Default []: see JwtIssuerOptions.forbiddenAudiences. */
  forbiddenAudiences?: string[];
  acceptedTyps: ReadonlySet<string> | null;
  revocation?: { isRevoked: RevocationCheck['isRevoked']; cacheTtlMs: number };
}

export interface NormalizedGuardOptions {
  issuers: NormalizedIssuer[];
  cookieName?: string;
  verifiedCacheSize: number;
  verifiedCacheTtlMs: number;
  maxTokenBytes: number;
  protectedResource?: NormalizedProtectedResource;
}

export interface NormalizedProtectedResource {
  /** The metadata document, as served. */
  document: Record<string, unknown>;
  /** `https://host/.well-known/oauth-protected-resource[/path]` (RFC 9728 §3.1). */
  metadataUrl: string;
}

export class JwtGuardConfigError extends Error {
  constructor(message: string) {
    super(`JwtGuardModule: ${message}`);
    this.name = 'JwtGuardConfigError';
  }
}

/** Checks the options once, at module init; a wrong set-up stops the application with one clear line. */
export function normalizeGuardOptions(options: JwtGuardModuleOptions): NormalizedGuardOptions {
  if (!options || !Array.isArray(options.issuers) || options.issuers.length === 0) {
    throw new JwtGuardConfigError('at least one issuer is required');
  }
  const seen = new Set<string>();
  const issuers = options.issuers.map((issuer, index) => {
    const normalized = normalizeIssuer(issuer, index);
    if (seen.has(normalized.issuer)) throw new JwtGuardConfigError(`issuer "${normalized.issuer}" is listed twice`);
    seen.add(normalized.issuer);
    return normalized;
  });
  if (
    options.cookieName !== undefined &&
    (typeof options.cookieName !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(options.cookieName))
  ) {
    throw new JwtGuardConfigError('cookieName must be a cookie name');
  }
  return {
    issuers,
    cookieName: options.cookieName,
    verifiedCacheSize: nonNegativeInteger(options.verifiedCacheSize, 10_000, 'verifiedCacheSize'),
    verifiedCacheTtlMs: nonNegativeInteger(options.verifiedCacheTtlMs, 60_000, 'verifiedCacheTtlMs'),
    maxTokenBytes: positiveInteger(options.maxTokenBytes, 8192, 'maxTokenBytes'),
    protectedResource: normalizeProtectedResource(options.protectedResource, issuers),
  };
}

function normalizeProtectedResource(
  options: ProtectedResourceOptions | undefined,
  issuers: NormalizedIssuer[],
): NormalizedProtectedResource | undefined {
  if (options === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(options.resource);
  } catch {
    throw new JwtGuardConfigError('protectedResource.resource must be an absolute URL');
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.hash || url.search) {
    throw new JwtGuardConfigError('protectedResource.resource must be an http(s) URL without query or fragment (RFC 9728 §2)');
  }
  const strings = (value: unknown, what: string): string[] | undefined => {
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0))
      throw new JwtGuardConfigError(`protectedResource.${what} must be an array of strings`);
    return [...value];
  };
  const authorizationServers =
    strings(options.authorizationServers, 'authorizationServers') ?? issuers.map((i) => i.issuer).filter((i) => /^https?:\/\//.test(i));
  const scopes = strings(options.scopesSupported, 'scopesSupported');
  const document: Record<string, unknown> = {
    ...(options.extra ?? {}),
    resource: options.resource,
    ...(authorizationServers.length > 0 ? { authorization_servers: authorizationServers } : {}),
    bearer_methods_supported: ['header'],
    ...(scopes ? { scopes_supported: scopes } : {}),
  };
  // RFC 9728 §3.1: the well-known segment goes between the host and the resource's path.
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '');
  return { document, metadataUrl: `${url.origin}/.well-known/oauth-protected-resource${path}` };
}

function normalizeIssuer(options: JwtIssuerOptions, index: number): NormalizedIssuer {
  const where = `issuers[${index}]`;
  if (typeof options?.issuer !== 'string' || options.issuer.length === 0) throw new JwtGuardConfigError(`${where}.issuer is required`);
  const name = `issuer "${options.issuer}"`;

  const audience = typeof options.audience === 'string' ? [options.audience] : options.audience;
  if (!Array.isArray(audience) || audience.length === 0 || audience.some((a) => typeof a !== 'string' || a.length === 0)) {
    throw new JwtGuardConfigError(`${name}: audience is required (a string or a non-empty array of strings)`);
  }

  const algorithms = options.algorithms;
  if (!Array.isArray(algorithms) || algorithms.length === 0)
    throw new JwtGuardConfigError(`${name}: algorithms is required and cannot be empty`);
  for (const alg of algorithms) {
    if (typeof alg === 'string' && alg.toLowerCase() === 'none')
      throw new JwtGuardConfigError(`${name}: algorithm "none" can never be accepted`);
    if (!SUPPORTED_ALGORITHMS.includes(alg)) {
      throw new JwtGuardConfigError(`${name}: unsupported algorithm "${String(alg)}" (supported: ${SUPPORTED_ALGORITHMS.join(', ')})`);
    }
  }
  const hmac = algorithms.filter(isHmacAlgorithm);
  if (hmac.length > 0 && hmac.length < algorithms.length) {
    // RFC 8725 §3.1: one key must never verify under both a MAC and a signature algorithm.
    throw new JwtGuardConfigError(`${name}: HMAC algorithms (HS*) cannot be mixed with asymmetric ones`);
  }
  const isHmacIssuer = hmac.length > 0;

  const sources = (['jwksUri', 'secret', 'keyResolver'] as const).filter((k) => options[k] !== undefined);
  if (sources.length !== 1) throw new JwtGuardConfigError(`${name}: exactly one of jwksUri, secret or keyResolver is required`);
  const keySource: KeySourceKind = sources[0] === 'jwksUri' ? 'jwks' : sources[0] === 'secret' ? 'secret' : 'resolver';

  let secret: Buffer | undefined;
  if (keySource === 'secret') {
    if (!isHmacIssuer) throw new JwtGuardConfigError(`${name}: a secret can only be used with HS256/HS384/HS512`);
    secret = typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : options.secret;
    if (!Buffer.isBuffer(secret)) throw new JwtGuardConfigError(`${name}: secret must be a string or a Buffer`);
    const needed = Math.max(...hmac.map(minimumHmacKeyBytes));
    if (secret.length < needed) throw new JwtGuardConfigError(`${name}: secret must be at least ${needed} bytes for ${hmac.join('/')}`);
  }
  if (keySource === 'jwks') {
    if (isHmacIssuer) throw new JwtGuardConfigError(`${name}: a JWKS cannot be used with HMAC algorithms`);
    let url: URL;
    try {
      url = new URL(options.jwksUri as string);
    } catch {
      throw new JwtGuardConfigError(`${name}: jwksUri is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new JwtGuardConfigError(`${name}: jwksUri must be http(s)`);
  }
  if (keySource === 'resolver' && typeof options.keyResolver !== 'function')
    throw new JwtGuardConfigError(`${name}: keyResolver must be a function`);

  let revocation: NormalizedIssuer['revocation'];
  if (options.revocation !== undefined) {
    if (typeof options.revocation?.isRevoked !== 'function')
      throw new JwtGuardConfigError(`${name}: revocation.isRevoked must be a function`);
    revocation = {
      isRevoked: options.revocation.isRevoked.bind(options.revocation),
      cacheTtlMs: nonNegativeInteger(options.revocation.cacheTtlMs, 5000, `${name}: revocation.cacheTtlMs`),
    };
  }

  const forbiddenAudiences = normalizeForbiddenAudiences(options, name);
  const clash = audience.find((a) => forbiddenAudiences.includes(a));
  if (clash !== undefined)
    throw new JwtGuardConfigError(
      `${name}: audience "${clash}" is also in forbiddenAudiences (a token endpoint is never an access token's audience)`,
    );
  const jwksCacheMaxAgeMs = positiveInteger(options.jwksCacheMaxAgeMs, 600_000, `${name}: jwksCacheMaxAgeMs`);
  const jwksMaxStaleMs = positiveInteger(
    options.jwksMaxStaleMs,
    Math.max(DEFAULT_JWKS_MAX_STALE_MS, jwksCacheMaxAgeMs),
    `${name}: jwksMaxStaleMs`,
  );
  if (jwksMaxStaleMs < jwksCacheMaxAgeMs)
    throw new JwtGuardConfigError(`${name}: jwksMaxStaleMs must be at least jwksCacheMaxAgeMs (${jwksCacheMaxAgeMs})`);

  return {
    issuer: options.issuer,
    audience,
    algorithms: [...algorithms],
    keySource,
    jwksUri: options.jwksUri,
    secret,
    keyResolver: options.keyResolver,
    clockToleranceSec: nonNegativeInteger(options.clockToleranceSec, 30, `${name}: clockToleranceSec`),
    jwksRequestsPerMinute: positiveInteger(options.jwksRequestsPerMinute, 10, `${name}: jwksRequestsPerMinute`),
    jwksCacheMaxAgeMs,
    jwksMaxStaleMs,
    jwksTimeoutMs: positiveInteger(options.jwksTimeoutMs, 5000, `${name}: jwksTimeoutMs`),
    forbiddenAudiences,
    acceptedTyps: acceptedTyps(options.requiredTyp, name),
    revocation,
  };
}

/** Default jwksMaxStaleMs: 15 minutes, as the server's own limit for tenant-steered JWKS (src/trusted-issuers/remote-key-set.ts). */
export const DEFAULT_JWKS_MAX_STALE_MS = 15 * 60_000;

/** A Tessera tenant's JWKS: `${base}/v1/tenants/<id>/jwks.json`, base = Tessera's PUBLIC_URL. */
const TENANT_JWKS = /^(https?:\/\/[^?#]+?)\/v1\/tenants\/[^/?#]+\/jwks\.json$/;

/**
 * The issuer's forbidden audiences: as given, or Tessera's token endpoint where the issuer or the
 * JWKS says where Tessera is (docs/adr/0014: an assertion always names it, a bearer token never).
 */
function normalizeForbiddenAudiences(options: JwtIssuerOptions, name: string): string[] {
  if (options.forbiddenAudiences !== undefined) {
    const given = options.forbiddenAudiences;
    if (!Array.isArray(given) || given.some((a) => typeof a !== 'string' || a.length === 0)) {
      throw new JwtGuardConfigError(`${name}: forbiddenAudiences must be an array of non-empty strings`);
    }
    return [...new Set(given)];
  }
  const defaults = new Set<string>();
  if (/^https?:\/\//.test(options.issuer)) defaults.add(`${options.issuer.replace(/\/+$/, '')}/oauth/token`);
  const tenant = typeof options.jwksUri === 'string' ? TENANT_JWKS.exec(options.jwksUri) : null;
  if (tenant) defaults.add(`${tenant[1].replace(/\/+$/, '')}/oauth/token`);
  return [...defaults];
}

/** The accepted `typ` values, lower-cased; null means "absent, JWT or at+jwt". */
function acceptedTyps(requiredTyp: string | false | undefined, name: string): ReadonlySet<string> | null {
  if (requiredTyp === false) return null;
  if (typeof requiredTyp !== 'undefined' && (typeof requiredTyp !== 'string' || requiredTyp.length === 0)) {
    throw new JwtGuardConfigError(`${name}: requiredTyp must be a non-empty string or false`);
  }
  // RFC 7515 §4.1.9: "application/" may be omitted from a typ media type; compare case-insensitively.
  return typSet(requiredTyp ?? 'at+jwt');
}

function nonNegativeInteger(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) throw new JwtGuardConfigError(`${what} must be a non-negative integer`);
  return value;
}

function positiveInteger(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw new JwtGuardConfigError(`${what} must be a positive integer`);
  return value;
}
