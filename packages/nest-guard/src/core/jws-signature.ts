import { createHmac, KeyObject, timingSafeEqual, verify } from 'node:crypto';
import { TokenError } from '../token-errors';
import { familyFitsAlgorithm, isJwsAlgorithm, JWS_PROFILES, jwsKeyInput, KeyFamily, keyFamily } from './jws-algorithms';

/**
 * Checks ONE JWS signature with node:crypto, under the one algorithm the caller pinned (the
 * token's `alg` already compared with the key's). Refuses a key that does not fit the algorithm
 * (RSA key under ES256 or HS256, P-256 key under ES384, a private key, an unacceptable RSA key:
 * ALGORITHM_NOT_ALLOWED) as defence in depth, never falls back to another algorithm, and turns
 * every crypto failure into INVALID_SIGNATURE. `family` is the key's, when the caller cached it.
 */
export function verifyJwsSignature(
  alg: string,
  key: KeyObject,
  signingInput: string,
  signature: Buffer,
  family: KeyFamily = keyFamily(key),
  offLoop = false,
): void | Promise<void> {
  if (!isJwsAlgorithm(alg) || key.type === 'private' || !familyFitsAlgorithm(family, alg)) {
    throw new TokenError('ALGORITHM_NOT_ALLOWED', 'Token algorithm does not fit the key');
  }
  const profile = JWS_PROFILES[alg];
  if (signature.length === 0 || (profile.signatureLength !== undefined && signature.length !== profile.signatureLength)) {
    throw new TokenError('INVALID_SIGNATURE', 'Token signature is invalid');
  }
  let valid: boolean;
  try {
    if (offLoop && profile.minimumSecretBytes === undefined) {
      return new Promise<void>((resolve, reject) => {
        verify(profile.digest, Buffer.from(signingInput, 'latin1'), jwsKeyInput(alg as never, key), signature, (error, ok) =>
          error || !ok ? reject(new TokenError('INVALID_SIGNATURE', 'Token signature is invalid')) : resolve(),
        );
      });
    }
    if (profile.minimumSecretBytes !== undefined) {
      const expected = createHmac(profile.digest as string, key)
        .update(signingInput, 'latin1')
        .digest();
      valid = expected.length === signature.length && timingSafeEqual(expected, signature);
    } else {
      // OpenSSL refuses ES* r or s = 0 or ≥ n, and a PSS signature with another salt length.
      valid = verify(profile.digest, Buffer.from(signingInput, 'latin1'), jwsKeyInput(alg as never, key), signature);
    }
  } catch {
    valid = false;
  }
  if (!valid) throw new TokenError('INVALID_SIGNATURE', 'Token signature is invalid');
}
