import {
  checkBeforeSignature,
  checkSignatureAndClaims,
  InspectedJwt,
  inspectJwt,
  isAsymmetricAlgorithm,
  PinnedKey,
  TokenError,
  typSet,
  VerificationRules,
} from '@tessera/nest-guard';
import { defaultAlgorithmFor } from '../common/crypto/pinned-algorithm';
import { AssertionRefusal } from './assertion-refusal';

/** Longest assertion read, as for bearer tokens (docs/errors.md). */
const MAX_ASSERTION_BYTES = 8192;
const MAX_JTI_LENGTH = 256;

/**
 * `typ` of a client assertion: absent, JWT, or client-authentication+jwt (draft-ietf-oauth-rfc7523bis).
 * Never at+jwt: an access token (Tessera's or anyone's) is not a client assertion.
 */
const ASSERTION_TYPS = typSet('JWT', 'client-authentication+jwt');

/** The verification core's rules for an assertion; the caller adds issuer and audiences. */
export function assertionRules(clockToleranceSec: number, rules: Partial<VerificationRules> = {}): VerificationRules {
  return {
    acceptedTyps: ASSERTION_TYPS,
    typOptional: true,
    typMessage: 'The assertion’s typ must be absent, JWT or client-authentication+jwt',
    clockToleranceSec,
    ...rules,
  };
}

/**
 * The package's inspection (size, parts, canonical base64url, duplicate members, jwk/jku/x5u/x5c/crit
 * refused, `none` refused), then: an asymmetric algorithm only (never HS*: no shared secret exists),
 * `iss` and `sub` present. Throws AssertionRefusal.
 */
export function inspectAssertion(assertion: string): InspectedJwt & { iss: string; sub: string; alg: string } {
  let jwt: InspectedJwt;
  try {
    jwt = inspectJwt(assertion, MAX_ASSERTION_BYTES, { requireKid: false });
  } catch (error) {
    throw refusalOf(error);
  }
  const alg = jwt.header.alg as string;
  if (!isAsymmetricAlgorithm(alg)) {
    throw new AssertionRefusal(
      'ALGORITHM_NOT_ALLOWED',
      `The assertion’s algorithm ${alg.slice(0, 20)} is not accepted: sign with the client’s private key (RS256, PS256, ES256, EdDSA…)`,
    );
  }
  const { iss, sub } = jwt.payload;
  if (typeof iss !== 'string' || typeof sub !== 'string')
    throw new AssertionRefusal('MISSING_CLAIM', 'The assertion must carry iss and sub');
  return { ...jwt, iss, sub, alg };
}

/** typ, exp (required), nbf, iat before any key is looked up; then the lifetime bound. */
export function checkAssertionTimes(jwt: InspectedJwt, rules: VerificationRules, nowSec: number, maxLifetimeSec: number): number {
  try {
    checkBeforeSignature(jwt, rules, nowSec);
  } catch (error) {
    throw refusalOf(error);
  }
  const exp = jwt.payload.exp as number;
  const iat = jwt.payload.iat;
  // A short-lived assertion limits what a leaked one is worth and how long its jti must be kept.
  if (exp - nowSec > maxLifetimeSec + rules.clockToleranceSec || (typeof iat === 'number' && exp - iat > maxLifetimeSec)) {
    throw new AssertionRefusal(
      'LIFETIME_TOO_LONG',
      `The assertion may be valid for at most ${maxLifetimeSec} s: sign it with a closer exp`,
    );
  }
  return exp;
}

/**
 * docs/design.md "Algorithms are pinned per key": the key's `alg`, or, for a key published without
 * one, the single algorithm its type implies (defaultAlgorithmFor); then the package's
 * signature check and `iss`/`aud`.
 */
export function checkAssertionSignature(jwt: InspectedJwt, key: PinnedKey, rules: VerificationRules): void {
  const alg = jwt.header.alg as string;
  const pinned = key.alg ?? defaultAlgorithmFor(key.family);
  if (pinned !== alg) throw new AssertionRefusal('ALGORITHM_NOT_ALLOWED', 'The assertion’s algorithm is not the one its key is pinned to');
  try {
    checkSignatureAndClaims(jwt, key, rules);
  } catch (error) {
    throw refusalOf(error);
  }
}

/** RFC 7523 §3 (7): the jti this server requires on every assertion. */
export function requiredJti(jwt: InspectedJwt): string {
  const { jti } = jwt.payload;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) {
    throw new AssertionRefusal(
      'MISSING_JTI',
      `The assertion must carry a jti of at most ${MAX_JTI_LENGTH} characters (each assertion is single use)`,
    );
  }
  return jti;
}

export function refusalOf(error: unknown): AssertionRefusal {
  if (error instanceof AssertionRefusal) return error;
  if (error instanceof TokenError) return new AssertionRefusal(error.code, `The assertion was refused: ${error.message}`);
  throw error;
}
