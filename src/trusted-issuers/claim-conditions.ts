import type { ClaimConditions } from './trusted-issuer.entity';

export const MAX_CLAIM_CONDITIONS = 20;
const MAX_NAME_LENGTH = 200;
const MAX_STRING_VALUE_LENGTH = 1024;

/**
 * Claim conditions of a trusted issuer entry (docs/adr/0018): each name is a top-level claim, or
 * a path of members separated by `/` into nested claims (RFC 6901 escapes: `~1` is a `/`, `~0` a
 * `~`), so `kubernetes.io/namespace` reads `{"kubernetes.io": {"namespace": …}}`. Each value is a
 * string, number or boolean the claim must equal exactly — no patterns, no type coercion.
 */
export function claimConditionsProblem(conditions: unknown): string | undefined {
  if (typeof conditions !== 'object' || conditions === null || Array.isArray(conditions))
    return 'claims must be an object of claim name → exact value';
  const entries = Object.entries(conditions);
  if (entries.length > MAX_CLAIM_CONDITIONS) return `claims may hold at most ${MAX_CLAIM_CONDITIONS} conditions`;
  for (const [name, value] of entries) {
    if (name.length === 0 || name.length > MAX_NAME_LENGTH || pathOf(name).some((s) => s.length === 0)) {
      return `claims: "${name.slice(0, 60)}" is not a claim name or a path of non-empty members separated by "/"`;
    }
    const ok =
      (typeof value === 'string' && value.length <= MAX_STRING_VALUE_LENGTH) ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value));
    if (!ok) return `claims.${name.slice(0, 60)} must be a string (at most ${MAX_STRING_VALUE_LENGTH} characters), a number or a boolean`;
  }
  return undefined;
}

/** The first condition the claims do not meet, or undefined when all hold. */
export function unmetClaimCondition(conditions: ClaimConditions, claims: Record<string, unknown>): string | undefined {
  for (const [name, expected] of Object.entries(conditions)) {
    let value: unknown = claims;
    for (const member of pathOf(name)) {
      value =
        typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, member)
          ? (value as Record<string, unknown>)[member]
          : undefined;
    }
    if (value !== expected) return name;
  }
  return undefined;
}

function pathOf(name: string): string[] {
  return name.split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}
