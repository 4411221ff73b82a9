/**
 * OAuth scopes (RFC 6749 §3.3): `scope = scope-token *( SP scope-token )`,
 * `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )` — printable ASCII without space, `"` or `\`.
 */
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** Most scopes a client may hold or a token may carry; raise with care: every token carries them. */
export const MAX_SCOPES = 50;
export const MAX_SCOPE_TOKEN_LENGTH = 128;

export function isScopeToken(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_SCOPE_TOKEN_LENGTH && SCOPE_TOKEN.test(value);
}

/**
 * Reads a space-delimited scope string into distinct tokens, in order. Runs of spaces are
 * tolerated; anything else that is not a scope token (tab, quote, backslash, non-ASCII, too
 * long, too many) makes the whole value unreadable: undefined.
 */
export function parseScope(text: string): string[] | undefined {
  const tokens = text.split(' ').filter((t) => t.length > 0);
  if (!tokens.every(isScopeToken)) return undefined;
  const distinct = [...new Set(tokens)];
  return distinct.length <= MAX_SCOPES ? distinct : undefined;
}

export function formatScope(tokens: readonly string[]): string {
  return tokens.join(' ');
}

/** The tokens of `requested` that `allowed` does not grant. */
export function scopesOutside(requested: readonly string[], allowed: readonly string[]): string[] {
  const granted = new Set(allowed);
  return requested.filter((s) => !granted.has(s));
}
