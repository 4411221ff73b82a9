import { KeyObject, verify } from 'node:crypto';
import { JWS_PROFILES, JwsAlgorithm, jwsKeyInput } from '../common/crypto/jws-algorithms';
import { TokenError } from '@tessera/nest-guard';

/**
 * Checks a JWS signature with the one algorithm the key is pinned to. The caller has
 * already compared the token's `alg` with the key's; this refuses a key of the wrong type
 * (RSA key for ES256, EC key on the wrong curve) as defence in depth, never falls back to
 * another algorithm, and turns every crypto failure into INVALID_SIGNATURE.
 */
export function verifyJwsSignature(alg: JwsAlgorithm, key: KeyObject, signingInput: string, signature: Buffer): void {
  const profile = JWS_PROFILES[alg];
  if (key.type !== 'public' || !profile.keyTypes.includes(key.asymmetricKeyType ?? '')) {
    throw new TokenError('ALGORITHM_NOT_ALLOWED', 'Token algorithm does not fit the key');
  }
  if (profile.curve && key.asymmetricKeyDetails?.namedCurve !== profile.curve) {
    throw new TokenError('ALGORITHM_NOT_ALLOWED', 'Token algorithm does not fit the key');
  }
  if (signature.length === 0 || (profile.signatureLength !== undefined && signature.length !== profile.signatureLength)) {
    throw new TokenError('INVALID_SIGNATURE');
  }
  let valid = false;
  try {
    // OpenSSL refuses ES* r or s = 0 or ≥ n.
    valid = verify(profile.digest, Buffer.from(signingInput, 'ascii'), jwsKeyInput(alg, key), signature);
  } catch {
    valid = false;
  }
  if (!valid) throw new TokenError('INVALID_SIGNATURE');
}
