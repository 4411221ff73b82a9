/** The registered and common claims of a verified token (RFC 7519, RFC 9068). */
export interface TokenClaims {
  readonly iss: string;
  readonly sub?: string;
  readonly aud?: string | string[];
  readonly exp: number;
  readonly iat?: number;
  readonly nbf?: number;
  readonly jti?: string;
  /** Space-separated scopes (RFC 9068 / RFC 8693). */
  readonly scope?: string;
  readonly client_id?: string;
  readonly tenant_id?: string;
  readonly [claim: string]: unknown;
}

/**
 * The verified claims of the caller's token, as `@Principal()` hands them out (read-only).
 * `TokenPrincipal<{ plan: 'gold' | 'free' }>` types an issuer's own claims.
 */
export type TokenPrincipal<Claims extends object = Record<never, never>> = TokenClaims & Readonly<Claims>;

/** Scopes granted by a token: `scope` (space-separated string) or `scp` (array or string). */
const scopesOf = new WeakMap<TokenPrincipal, ReadonlySet<string>>();

/** The scopes a principal grants; computed once per principal (a cached token's is reused). */
export function grantedScopes(principal: TokenPrincipal): ReadonlySet<string> {
  let granted = scopesOf.get(principal);
  if (!granted) {
    granted = parseScopes(principal);
    scopesOf.set(principal, granted);
  }
  return granted;
}

function parseScopes(principal: TokenPrincipal): Set<string> {
  const granted = new Set<string>();
  const add = (value: unknown) => {
    const list = typeof value === 'string' ? value.split(' ') : Array.isArray(value) ? value : [];
    for (const scope of list) {
      if (typeof scope === 'string' && scope.length > 0) granted.add(scope);
    }
  };
  add(principal.scope);
  add(principal.scp);
  return granted;
}
