import { TokenError } from '../token-errors';

/** The typ values accepted when an issuer sets no explicit type (RFC 7515 §4.1.9, RFC 9068). */
const UNTYPED_TYPS: ReadonlySet<string> = new Set(['jwt', 'application/jwt', 'at+jwt', 'application/at+jwt']);

/**
 * The accepted `typ` values for a required media type, lower-cased, with and without
 * `application/` (RFC 7515 §4.1.9 lets it be omitted; compared case-insensitively).
 */
export function typSet(...types: string[]): ReadonlySet<string> {
  const accepted = new Set<string>();
  for (const type of types) {
    const lower = type.toLowerCase();
    const bare = lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
    accepted.add(bare);
    accepted.add(`application/${bare}`);
  }
  return accepted;
}

/**
 * RFC 8725 §3.11 / RFC 9068 §4: explicit typing keeps other JWTs (ID tokens, logout tokens…)
 * out. `accepted` null: absent, JWT or at+jwt; `absentAllowed`: also a token without typ.
 */
export function checkTyp(typ: unknown, accepted: ReadonlySet<string> | null, absentAllowed = false): void {
  if (typ === undefined && (accepted === null || absentAllowed)) return;
  if (typeof typ === 'string' && (accepted ?? UNTYPED_TYPS).has(typ.toLowerCase())) return;
  throw new TokenError('INVALID_TOKEN_TYPE', 'Token type is not accepted');
}

/**
 * exp (required), nbf and iat against `nowSec`, with `toleranceSec` either way. Run before the
 * signature: the claims are types already checked by inspectJwt, and an expired or future
 * token costs no key lookup and no signature check (issue 17.2).
 */
export function checkTimes(payload: Record<string, unknown>, nowSec: number, toleranceSec: number): void {
  const exp = payload.exp;
  if (typeof exp !== 'number') throw new TokenError('MALFORMED_TOKEN', 'Token has no expiry');
  if (nowSec >= exp + toleranceSec) throw new TokenError('TOKEN_EXPIRED', 'Token expired');
  const nbf = payload.nbf;
  if (typeof nbf === 'number' && nbf - toleranceSec > nowSec) throw new TokenError('TOKEN_NOT_YET_VALID', 'Token is not valid yet');
  const iat = payload.iat;
  if (typeof iat === 'number' && iat - toleranceSec > nowSec) throw new TokenError('TOKEN_NOT_YET_VALID', 'Token was issued in the future');
}

/** Whether `aud` (a string or an array of strings, RFC 7519 §4.1.3) names one of `accepted`; no allocation. */
export function audienceAccepted(aud: unknown, accepted: readonly string[]): boolean {
  if (typeof aud === 'string') return accepted.includes(aud);
  if (!Array.isArray(aud)) return false;
  for (const value of aud) if (typeof value === 'string' && accepted.includes(value)) return true;
  return false;
}

/** `aud` as a list of strings. */
export function audiencesOf(aud: unknown): string[] {
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
}
