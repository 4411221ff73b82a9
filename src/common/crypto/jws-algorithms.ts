import { constants, KeyObject, SignKeyObjectInput, SignPrivateKeyInput, VerifyKeyObjectInput } from 'node:crypto';

/** The asymmetric JWS algorithms Tessera signs or verifies (RFC 7518 §3.1, RFC 8037). HS* and none never. */
export const JWS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type JwsAlgorithm = (typeof JWS_ALGORITHMS)[number];

export interface JwsAlgorithmProfile {
  digest: 'sha256' | 'sha384' | 'sha512' | null;
  keyTypes: readonly string[];
  /** EC: the named curve the key must be on (RFC 7518 §3.4 pins curve to algorithm). */
  curve?: string;
  /** ES*: exact length of the R || S signature (RFC 7518 §3.4). */
  signatureLength?: number;
  padding?: number;
  saltLength?: number;
}

export const JWS_PROFILES: Record<JwsAlgorithm, JwsAlgorithmProfile> = {
  RS256: { digest: 'sha256', keyTypes: ['rsa'], padding: constants.RSA_PKCS1_PADDING },
  RS384: { digest: 'sha384', keyTypes: ['rsa'], padding: constants.RSA_PKCS1_PADDING },
  RS512: { digest: 'sha512', keyTypes: ['rsa'], padding: constants.RSA_PKCS1_PADDING },
  // RFC 7518 §3.5: MGF1 with the same hash, salt length equal to the digest length.
  PS256: { digest: 'sha256', keyTypes: ['rsa', 'rsa-pss'], padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
  PS384: { digest: 'sha384', keyTypes: ['rsa', 'rsa-pss'], padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 },
  PS512: { digest: 'sha512', keyTypes: ['rsa', 'rsa-pss'], padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 },
  ES256: { digest: 'sha256', keyTypes: ['ec'], curve: 'prime256v1', signatureLength: 64 },
  ES384: { digest: 'sha384', keyTypes: ['ec'], curve: 'secp384r1', signatureLength: 96 },
  ES512: { digest: 'sha512', keyTypes: ['ec'], curve: 'secp521r1', signatureLength: 132 },
  EdDSA: { digest: null, keyTypes: ['ed25519', 'ed448'] },
};

export function isJwsAlgorithm(alg: unknown): alg is JwsAlgorithm {
  return typeof alg === 'string' && Object.prototype.hasOwnProperty.call(JWS_PROFILES, alg);
}

/**
 * The node:crypto key argument for `sign`/`verify` with this algorithm: JOSE's ES* carry
 * R || S (IEEE P1363), not DER; PS* use PSS with the digest-length salt.
 */
export function jwsKeyInput(alg: JwsAlgorithm, key: KeyObject): KeyObject & (SignKeyObjectInput | SignPrivateKeyInput | VerifyKeyObjectInput) {
  const profile = JWS_PROFILES[alg];
  if (profile.signatureLength !== undefined) return { key, dsaEncoding: 'ieee-p1363' } as never;
  if (profile.padding !== undefined) return { key, padding: profile.padding, saltLength: profile.saltLength } as never;
  return key as never;
}
