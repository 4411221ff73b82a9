/**
 * Keeps jwt-bearer assertions (RFC 7523) and bearer tokens apart by audience (docs/adr/0014).
 * An assertion is addressed to Tessera's token endpoint; the bare issuer is an assertion audience
 * only where it is not also one of VERIFY_AUDIENCES (otherwise a bearer token minted for Tessera
 * would double as an assertion). A token naming an assertion audience is never a bearer token,
 * so no token is accepted both ways. Pure functions: the verification core can carry them as is.
 */
export interface AssertionAudiencePolicy {
  /** `${PUBLIC_URL}/oauth/token`. */
  tokenEndpoint: string;
  /** `PUBLIC_URL`. */
  issuer: string;
  /** VERIFY_AUDIENCES: what a bearer token's `aud` must contain. */
  verifyAudiences: readonly string[];
}

/** The audiences an assertion may name (one of them is required), in the order they are explained. */
export function assertionAudiences(policy: AssertionAudiencePolicy): string[] {
  return policy.verifyAudiences.includes(policy.issuer) ? [policy.tokenEndpoint] : [policy.tokenEndpoint, policy.issuer];
}

/** `aud` as a list of strings (RFC 7519 §4.1.3: a string or an array of strings). */
export function audiencesOf(aud: unknown): string[] {
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
}

/** True when `aud` names at least one assertion audience: such a token is exchanged at the token endpoint, never used as a bearer. */
export function namesAssertionAudience(aud: unknown, accepted: readonly string[]): boolean {
  return audiencesOf(aud).some((a) => accepted.includes(a));
}
