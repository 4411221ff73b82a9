/**
 * Claims a tenant may not set through `claims`: the JWT registered claims (RFC 7519 §4.1),
 * those Tessera sets (RFC 9068 §2.2: client_id, scope; tenant_id), and those whose meaning
 * a verifier acts on (RFC 7800 cnf, RFC 8693 act).
 */
export const RESERVED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'client_id', 'scope', 'tenant_id', 'cnf', 'act'] as const;

/** Custom claims, as compact JSON, may take at most this many bytes: tokens must stay under the 8 KB verify limit. */
export const MAX_CUSTOM_CLAIMS_BYTES = 4096;

const RESERVED = new Set<string>(RESERVED_CLAIMS);

/** Why these custom claims are refused, or undefined when they are fine. */
export function customClaimsProblem(claims: Record<string, unknown>): string | undefined {
  const reserved = Object.keys(claims).filter((name) => RESERVED.has(name));
  if (reserved.length > 0) {
    return `claims may not set ${reserved.map((n) => `"${n}"`).join(', ')}: registered or set by Tessera (${RESERVED_CLAIMS.join(' ')})`;
  }
  const bytes = Buffer.byteLength(JSON.stringify(claims), 'utf8');
  if (bytes > MAX_CUSTOM_CLAIMS_BYTES) return `claims must be at most ${MAX_CUSTOM_CLAIMS_BYTES} bytes as JSON; these are ${bytes}`;
  return undefined;
}
