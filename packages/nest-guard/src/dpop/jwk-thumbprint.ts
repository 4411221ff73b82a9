import { createHash } from 'node:crypto';

/** The members RFC 7638 §3.2 hashes, per key type, in lexicographic order. */
const REQUIRED_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['e', 'kty', 'n'],
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
};

/** Members that make a JWK private (RFC 7518 §6.2.2, §6.3.2, RFC 8037 §2) or symmetric (§6.4). */
export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** The required public members of an asymmetric JWK, each a non-empty string; undefined when it is not one. */
export function publicJwkMembers(jwk: Record<string, unknown>): Record<string, string> | undefined {
  const members = typeof jwk.kty === 'string' ? REQUIRED_MEMBERS[jwk.kty] : undefined;
  if (!members) return undefined;
  const out: Record<string, string> = {};
  for (const name of members) {
    const value = jwk[name];
    if (typeof value !== 'string' || value.length === 0 || value.length > 1024) return undefined;
    out[name] = value;
  }
  return out;
}

/**
 * RFC 7638 JWK thumbprint (SHA-256, base64url) of an RSA, EC or OKP public key: the hash of
 * the required members only, in lexicographic order, without whitespace. This is `cnf.jkt`
 * (RFC 9449 §6.1). Throws when the JWK is not such a key.
 */
export function jwkThumbprint(jwk: Record<string, unknown>): string {
  const members = publicJwkMembers(jwk);
  if (!members) throw new TypeError('not an RSA, EC or OKP public JWK');
  // JSON.stringify of string values is RFC 7638's canonical form; keys are already ordered.
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}
