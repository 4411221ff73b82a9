import { checkPinnedKey, PinnedKey } from '../keys/pinned-key';
import { TokenError } from '../token-errors';
import type { InspectedJwt } from '../token-inspection';
import { audienceAccepted, checkTimes, checkTyp } from './claims';
import { verifyJwsSignature } from './jws-signature';

/** What a verified JWT must satisfy besides its signature. */
export interface VerificationRules {
  /** Exact `iss` required. Undefined: the caller's policy checks `iss` (e.g. a tenant-registered key binds it). */
  issuer?: string;
  /** Accepted audiences: `aud` must name one. Undefined: no audience rule (the caller decides). */
  audiences?: readonly string[];
  /**
   * Audiences that make a token something else than an access token (a jwt-bearer assertion names
   * the token endpoint, docs/adr/0014): any `aud` entry among them is INVALID_AUDIENCE, even when
   * another entry is accepted. Undefined or empty: no such rule.
   */
  forbiddenAudiences?: readonly string[];
  /** A token without `aud` passes the audience rule (tokens signed by a tenant-registered key). Default false. */
  audienceOptional?: boolean;
  /** Accepted `typ` values (see typSet); null: absent, JWT or at+jwt. */
  acceptedTyps: ReadonlySet<string> | null;
  /** With a non-null acceptedTyps: a token without `typ` passes too. Default false. */
  typOptional?: boolean;
  /** Client-facing message for INVALID_TOKEN_TYPE (says what to send instead). */
  typMessage?: string;
  /** Allowed clock skew for exp, nbf and iat, in seconds. */
  clockToleranceSec: number;
}

/**
 * The checks that need no key, run BEFORE any key lookup or signature check because they are
 * cheap and reveal nothing the token does not already say: `typ`, then exp (required) / nbf /
 * iat against `nowSec` (issue 17.2: an expired or future token costs no signature check, and
 * no JWKS fetch).
 */
export function checkBeforeSignature(jwt: InspectedJwt, rules: VerificationRules, nowSec: number): void {
  try {
    checkTyp(jwt.header.typ, rules.acceptedTyps, rules.typOptional === true);
  } catch (error) {
    if (rules.typMessage !== undefined) throw new TokenError('INVALID_TOKEN_TYPE', rules.typMessage);
    throw error;
  }
  checkTimes(jwt.payload, nowSec, rules.clockToleranceSec);
}

/**
 * The key-bound part: the token's `alg` against the pinned key (ALGORITHM_NOT_ALLOWED), ONE
 * signature check with node:crypto (INVALID_SIGNATURE), then `iss` and `aud`. Claims are
 * judged only once the signature holds, so an unsigned token learns nothing about the audiences.
 */
export function checkSignatureAndClaims(jwt: InspectedJwt, key: PinnedKey, rules: VerificationRules): void {
  const alg = jwt.header.alg as string;
  checkPinnedKey(key, alg);
  verifyJwsSignature(alg, key.keyObject, jwt.signingInput, jwt.signature, key.family);
  checkClaims(jwt, rules);
}

/** checkSignatureAndClaims with the asymmetric signature checked on libuv's thread pool, off the event loop. */
export async function checkSignatureAndClaimsOffLoop(jwt: InspectedJwt, key: PinnedKey, rules: VerificationRules): Promise<void> {
  const alg = jwt.header.alg as string;
  checkPinnedKey(key, alg);
  await verifyJwsSignature(alg, key.keyObject, jwt.signingInput, jwt.signature, key.family, true);
  checkClaims(jwt, rules);
}

function checkClaims(jwt: InspectedJwt, rules: VerificationRules): void {
  const { payload } = jwt;
  if (rules.issuer !== undefined && payload.iss !== rules.issuer) throw new TokenError('INVALID_ISSUER', 'Token issuer is not accepted');
  if (
    rules.audiences !== undefined &&
    !(payload.aud === undefined && rules.audienceOptional === true) &&
    !audienceAccepted(payload.aud, rules.audiences)
  ) {
    throw new TokenError('INVALID_AUDIENCE', 'Token audience is not accepted');
  }
  if (
    rules.forbiddenAudiences !== undefined &&
    rules.forbiddenAudiences.length > 0 &&
    audienceAccepted(payload.aud, rules.forbiddenAudiences)
  ) {
    throw new TokenError('INVALID_AUDIENCE', 'Token audience names a token endpoint: it is an assertion, not an access token');
  }
}

/**
 * The verification core for a token already inspected (inspectJwt) and a key already picked:
 * checkBeforeSignature, then checkSignatureAndClaims. Throws TokenError; returns nothing — the
 * claims are `jwt.payload`.
 */
export function verifyJwt(jwt: InspectedJwt, key: PinnedKey, rules: VerificationRules, nowSec: number): void {
  checkBeforeSignature(jwt, rules, nowSec);
  checkSignatureAndClaims(jwt, key, rules);
}
