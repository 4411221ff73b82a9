import type { KeyObject } from 'node:crypto';

/**
 * JWS algorithms the guard verifies: RFC 7518 §3.1 through jsonwebtoken 9, and EdDSA
 * (RFC 8037), which jsonwebtoken 9 cannot verify, through the guard's own strategy.
 */
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export const SUPPORTED_ALGORITHMS: readonly string[] = [...HMAC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS];

export function isHmacAlgorithm(alg: string): boolean {
  return (HMAC_ALGORITHMS as readonly string[]).includes(alg);
}

/** Minimum HMAC key length in bytes: the hash output size (RFC 7518 §3.2). */
export function minimumHmacKeyBytes(alg: string): number {
  return alg === 'HS512' ? 64 : alg === 'HS384' ? 48 : 32;
}

/** What a key is, in the terms that decide which algorithms it may verify. */
export type KeyFamily = 'secret' | 'rsa' | 'rsa-pss' | 'ec-P-256' | 'ec-P-384' | 'ec-P-521' | 'ed25519' | 'ed448' | 'other';

const CURVES: Record<string, KeyFamily> = {
  prime256v1: 'ec-P-256',
  'P-256': 'ec-P-256',
  secp384r1: 'ec-P-384',
  'P-384': 'ec-P-384',
  secp521r1: 'ec-P-521',
  'P-521': 'ec-P-521',
};

export function keyFamily(key: KeyObject): KeyFamily {
  if (key.type === 'secret') return 'secret';
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'rsa';
    case 'rsa-pss':
      return 'rsa-pss';
    case 'ec':
      return CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? 'other';
    case 'ed25519':
      return 'ed25519';
    case 'ed448':
      return 'ed448';
    default:
      return 'other';
  }
}

const FAMILIES_BY_ALGORITHM: Record<string, readonly KeyFamily[]> = {
  HS256: ['secret'],
  HS384: ['secret'],
  HS512: ['secret'],
  RS256: ['rsa'],
  RS384: ['rsa'],
  RS512: ['rsa'],
  PS256: ['rsa', 'rsa-pss'],
  PS384: ['rsa', 'rsa-pss'],
  PS512: ['rsa', 'rsa-pss'],
  ES256: ['ec-P-256'],
  ES384: ['ec-P-384'],
  ES512: ['ec-P-521'],
  EdDSA: ['ed25519', 'ed448'],
};

/**
 * Whether a key of this family may verify `alg`. An RSA public key used as an HS256
 * secret (the classic key confusion, RFC 8725 §2.1) or a P-256 key with ES512 is refused.
 */
export function familyFitsAlgorithm(family: KeyFamily, alg: string): boolean {
  return FAMILIES_BY_ALGORITHM[alg]?.includes(family) ?? false;
}
