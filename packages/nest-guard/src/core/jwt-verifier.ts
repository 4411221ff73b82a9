import type { KeyObject } from 'node:crypto';
import { JwtGuardModuleOptions, NormalizedGuardOptions, NormalizedIssuer, normalizeGuardOptions } from '../jwt-guard.options';
import { createKeySource, KeySource } from '../keys/key-sources';
import { TokenError } from '../token-errors';
import { inspectJwt, InspectedJwt } from '../token-inspection';
import type { TokenPrincipal } from '../token-principal';
import { checkBeforeSignature, checkSignatureAndClaimsOffLoop, VerificationRules } from './verify-jwt';

/** One configured issuer at run time: its options, its key source and the rules its tokens must meet. */
export interface VerifierIssuer {
  readonly options: NormalizedIssuer;
  readonly keys: KeySource;
  readonly rules: VerificationRules;
}

/** A token that passed the core: its frozen claims and what verified it. */
export interface VerifiedJwt {
  /** The payload, frozen (shallow): what `@Principal()` hands out. */
  claims: TokenPrincipal;
  header: Readonly<Record<string, unknown>>;
  issuer: VerifierIssuer;
  kid: string | undefined;
  alg: string;
  /** The key that verified the signature (the verified-token cache ties its entries to it). */
  key: KeyObject;
}

export interface JwtVerifierHooks {
  /** Told once per failed JWKS fetch (never a token). */
  onJwksFailure?: (uri: string, error: unknown) => void;
}

/**
 * The verification core for configured issuers, framework-free: inspect once (inspectJwt:
 * size, parts, canonical base64url, duplicate members, refused header parameters) → issuer by
 * the unverified `iss` (unknown: INVALID_ISSUER, nothing fetched) → `alg` in the issuer's list →
 * typ and exp/nbf/iat (before any key lookup) → the pinned key (KeyObject cached per kid) → ONE
 * signature check with node:crypto → iss and aud. The guard's fast path, the passport strategy and
 * anything else that verifies tokens of configured issuers run this; Tessera's own verification
 * runs the same checks (verifyJwt) with its keys picked by kid.
 */
export class JwtVerifier {
  readonly options: NormalizedGuardOptions;
  private readonly issuers = new Map<string, VerifierIssuer>();

  constructor(options: JwtGuardModuleOptions | NormalizedGuardOptions, hooks: JwtVerifierHooks = {}) {
    this.options = isNormalized(options) ? options : normalizeGuardOptions(options);
    const onJwksFailure = hooks.onJwksFailure ?? (() => undefined);
    for (const issuer of this.options.issuers) {
      this.issuers.set(issuer.issuer, { options: issuer, keys: createKeySource(issuer, onJwksFailure), rules: rulesOf(issuer) });
    }
  }

  /** Verifies a compact JWS; throws TokenError. `nowMs` is the verifier's clock (tests may move it). */
  async verify(token: string, nowMs: number = Date.now()): Promise<VerifiedJwt> {
    const jwt = inspectJwt(token, this.options.maxTokenBytes, { requireKid: false });
    const issuer = this.issuerOf(jwt);
    const nowSec = Math.floor(nowMs / 1000);
    checkBeforeSignature(jwt, issuer.rules, nowSec);
    const kid = jwt.header.kid as string | undefined;
    const alg = jwt.header.alg as string;
    const key = await issuer.keys.resolve(kid, alg);
    await checkSignatureAndClaimsOffLoop(jwt, key, issuer.rules);
    return { claims: Object.freeze(jwt.payload) as TokenPrincipal, header: jwt.header, issuer, kid, alg, key: key.keyObject };
  }

  private issuerOf(jwt: InspectedJwt): VerifierIssuer {
    const { header, payload } = jwt;
    const issuer = typeof payload.iss === 'string' ? this.issuers.get(payload.iss) : undefined;
    if (!issuer) throw new TokenError('INVALID_ISSUER', 'Token issuer is not accepted');
    if (!issuer.options.algorithms.includes(header.alg as string))
      throw new TokenError('ALGORITHM_NOT_ALLOWED', 'Token algorithm is not allowed');
    if (issuer.keys.requiresKid && header.kid === undefined) throw new TokenError('UNKNOWN_KEY', 'Token header has no key id');
    return issuer;
  }
}

function rulesOf(issuer: NormalizedIssuer): VerificationRules {
  return {
    issuer: issuer.issuer,
    audiences: issuer.audience,
    forbiddenAudiences: issuer.forbiddenAudiences,
    acceptedTyps: issuer.acceptedTyps,
    clockToleranceSec: issuer.clockToleranceSec,
  };
}

function isNormalized(options: JwtGuardModuleOptions | NormalizedGuardOptions): options is NormalizedGuardOptions {
  return (
    typeof (options as NormalizedGuardOptions).maxTokenBytes === 'number' &&
    (options as NormalizedGuardOptions).issuers.every((i) => 'keySource' in i)
  );
}
