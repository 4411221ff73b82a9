/**
 * The `subject` of a trusted issuer entry (docs/adr/0018): either an exact `sub`, or a prefix
 * followed by one trailing `*` that matches any (possibly empty) rest — `system:serviceaccount:ci:*`
 * matches every service account of namespace `ci`, `repo:acme/api:ref:refs/heads/*` every branch.
 * `*` anywhere else is refused, so no pattern can mean more than it reads; `\*` at the end
 * stands for a literal star. A bare `*` (any subject) is refused: narrow it to a prefix, or
 * pin the identity with claims.
 */
export function subjectPatternProblem(pattern: string): string | undefined {
  const body = pattern.endsWith('\\*') ? pattern.slice(0, -2) : pattern.endsWith('*') ? pattern.slice(0, -1) : pattern;
  if (body.includes('*')) return 'subject may contain "*" only once, as its last character (a prefix pattern)';
  if (body.length === 0) return 'subject must name a subject or a non-empty prefix followed by "*"';
  return undefined;
}

export function subjectMatches(pattern: string, sub: string): boolean {
  if (pattern.endsWith('\\*')) return sub === `${pattern.slice(0, -2)}*`;
  if (pattern.endsWith('*')) return sub.startsWith(pattern.slice(0, -1));
  return sub === pattern;
}
