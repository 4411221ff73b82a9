import { constants, KeyObject, SignKeyObjectInput, SignPrivateKeyInput, VerifyKeyObjectInput } from 'node:crypto';

/**
 * The one JWS algorithm table of Tessera (RFC 7518 §3, RFC 8037): what each algorithm hashes
 * with, which keys may verify it, and the node:crypto parameters. The guard, the server's
 * verification and the server's signer all read it; `none` is never in it.
 */
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number];
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];
export type JwsAlgorithm = HmacAlgorithm | AsymmetricAlgorithm;
export const SUPPORTED_ALGORITHMS: readonly string[] = [...HMAC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS];

/**
 * What a key is, in the terms that decide which algorithms it may verify. `unacceptable`: an RSA
 * key outside 2048–4096 bits or with a public exponent that is even, below 3 or above 2^32 — a
 * huge exponent turns every verification into milliseconds of CPU (issue 17.2); never used.
 */
export type KeyFamily =
  'secret' | 'rsa' | 'rsa-pss' | 'ec-P-256' | 'ec-P-384' | 'ec-P-521' | 'ed25519' | 'ed448' | 'unacceptable' | 'other';

export interface JwsAlgorithmProfile {
  /** node:crypto digest name; null for EdDSA (the curve fixes it). */
  digest: 'sha256' | 'sha384' | 'sha512' | null;
  /** Key families that may verify it: an RSA key as an HS256 secret (RFC 8725 §2.1) or a P-256 key under ES512 fits none. */
  families: readonly KeyFamily[];
  /** ES*: exact length of the R || S signature (RFC 7518 §3.4, IEEE P1363, not DER). */
  signatureLength?: number;
  /** RS*, PS*: RSA padding; PS* use MGF1 with the same hash and a digest-length salt (RFC 7518 §3.5). */
  padding?: number;
  saltLength?: number;
  /** HS*: the shortest secret allowed, the hash output size (RFC 7518 §3.2). */
  minimumSecretBytes?: number;
}

const RSA = ['rsa'] as const;
const RSA_OR_PSS = ['rsa', 'rsa-pss'] as const;

export const JWS_PROFILES: Readonly<Record<JwsAlgorithm, JwsAlgorithmProfile>> = {
  HS256: { digest: 'sha256', families: ['secret'], minimumSecretBytes: 32 },
  HS384: { digest: 'sha384', families: ['secret'], minimumSecretBytes: 48 },
  HS512: { digest: 'sha512', families: ['secret'], minimumSecretBytes: 64 },
  RS256: { digest: 'sha256', families: RSA, padding: constants.RSA_PKCS1_PADDING },
  RS384: { digest: 'sha384', families: RSA, padding: constants.RSA_PKCS1_PADDING },
  RS512: { digest: 'sha512', families: RSA, padding: constants.RSA_PKCS1_PADDING },
  PS256: { digest: 'sha256', families: RSA_OR_PSS, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
  PS384: { digest: 'sha384', families: RSA_OR_PSS, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 },
  PS512: { digest: 'sha512', families: RSA_OR_PSS, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 },
  ES256: { digest: 'sha256', families: ['ec-P-256'], signatureLength: 64 },
  ES384: { digest: 'sha384', families: ['ec-P-384'], signatureLength: 96 },
  ES512: { digest: 'sha512', families: ['ec-P-521'], signatureLength: 132 },
  EdDSA: { digest: null, families: ['ed25519', 'ed448'] },
};

export function isJwsAlgorithm(alg: unknown): alg is JwsAlgorithm {
  return typeof alg === 'string' && Object.prototype.hasOwnProperty.call(JWS_PROFILES, alg);
}

export function isAsymmetricAlgorithm(alg: unknown): alg is AsymmetricAlgorithm {
  return isJwsAlgorithm(alg) && JWS_PROFILES[alg].minimumSecretBytes === undefined;
}

export function isHmacAlgorithm(alg: string): alg is HmacAlgorithm {
  return isJwsAlgorithm(alg) && JWS_PROFILES[alg].minimumSecretBytes !== undefined;
}

/** Minimum HMAC key length in bytes: the hash output size (RFC 7518 §3.2). */
export function minimumHmacKeyBytes(alg: string): number {
  return (isJwsAlgorithm(alg) && JWS_PROFILES[alg].minimumSecretBytes) || 32;
}

const CURVES: Record<string, KeyFamily> = {
  prime256v1: 'ec-P-256',
  'P-256': 'ec-P-256',
  secp384r1: 'ec-P-384',
  'P-384': 'ec-P-384',
  secp521r1: 'ec-P-521',
  'P-521': 'ec-P-521',
};

const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 4096;
const MAX_RSA_EXPONENT = 2n ** 32n;

/** The family of a key, computed once per key (the callers cache it beside the KeyObject). */
export function keyFamily(key: KeyObject): KeyFamily {
  if (key.type === 'secret') return 'secret';
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return rsaKeyIsAcceptable(key) ? key.asymmetricKeyType : 'unacceptable';
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

/** Modulus 2048–4096 bits, public exponent odd in [3, 2^32] (65537 in practice). */
export function rsaKeyIsAcceptable(key: KeyObject): boolean {
  const details = key.asymmetricKeyDetails;
  const bits = details?.modulusLength ?? 0;
  const exponent = details?.publicExponent;
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS || typeof exponent !== 'bigint') return false;
  return exponent >= 3n && exponent <= MAX_RSA_EXPONENT && exponent % 2n === 1n;
}

/** Whether a key of this family may verify `alg`. */
export function familyFitsAlgorithm(family: KeyFamily, alg: string): boolean {
  return isJwsAlgorithm(alg) && JWS_PROFILES[alg].families.includes(family);
}

/**
 * The node:crypto key argument for `sign`/`verify` with an asymmetric algorithm: ES* carry
 * R || S (IEEE P1363), PS* use PSS with the digest-length salt. Built once per key and algorithm
 * by the callers that can (the verification core caches it with the key).
 */
export function jwsKeyInput(
  alg: AsymmetricAlgorithm,
  key: KeyObject,
): KeyObject & (SignKeyObjectInput | SignPrivateKeyInput | VerifyKeyObjectInput) {
  const profile = JWS_PROFILES[alg];
  if (profile.signatureLength !== undefined) return { key, dsaEncoding: 'ieee-p1363' } as never;
  if (profile.padding !== undefined) return { key, padding: profile.padding, saltLength: profile.saltLength } as never;
  return key as never;
}
