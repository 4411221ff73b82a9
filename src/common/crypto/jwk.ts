import { createHash, createPublicKey, KeyObject } from 'node:crypto';

/** The public members of a key, as in a JWKS entry without kid/alg/use. */
export type PublicJwk =
  { kty: 'RSA'; n: string; e: string } | { kty: 'EC'; crv: string; x: string; y: string } | { kty: 'OKP'; crv: string; x: string };

/** The public members of a key object (private members are never exported). */
export function toPublicJwk(key: KeyObject): PublicJwk {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  if (jwk.kty === 'RSA') return { kty: 'RSA', n: jwk.n!, e: jwk.e! };
  if (jwk.kty === 'EC') return { kty: 'EC', crv: jwk.crv!, x: jwk.x!, y: jwk.y! };
  return { kty: 'OKP', crv: jwk.crv!, x: jwk.x! };
}

/** RFC 7638 §3: SHA-256 over the required members, in lexicographic order, without whitespace. */
export function jwkThumbprint(jwk: PublicJwk): string {
  const required =
    jwk.kty === 'RSA'
      ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
      : jwk.kty === 'EC'
        ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
        : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash('sha256').update(JSON.stringify(required)).digest('base64url');
}
