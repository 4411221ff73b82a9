import type { KeyObject } from 'node:crypto';
import { familyFitsAlgorithm, KeyFamily, keyFamily } from '../core/jws-algorithms';
import { TokenError } from '../token-errors';

/** A key with the facts that decide which algorithms it may verify, computed once. */
export interface PinnedKey {
  keyObject: KeyObject;
  family: KeyFamily;
  /** The algorithm the key is pinned to (JWK `alg`, or the resolver's), when known. */
  alg?: string;
}

const families = new WeakMap<KeyObject, KeyFamily>();

/** keyFamily, remembered per KeyObject (a resolver handing out the same object pays once). */
export function familyOf(key: KeyObject): KeyFamily {
  let family = families.get(key);
  if (family === undefined) {
    family = keyFamily(key);
    families.set(key, family);
  }
  return family;
}

/**
 * Algorithms are pinned per key (docs/design.md, "Access tokens"): when the key names an algorithm, the token
 * must use exactly that one; in every case the key type must fit the algorithm. An RSA key
 * outside the accepted sizes and exponents is never used (UNKNOWN_KEY).
 */
export function checkPinnedKey(key: PinnedKey, alg: string): PinnedKey {
  if (key.family === 'unacceptable') {
    throw new TokenError('UNKNOWN_KEY', 'Token key is not acceptable: RSA keys must have 2048 to 4096 bits and the public exponent 65537');
  }
  if ((key.alg !== undefined && key.alg !== alg) || !familyFitsAlgorithm(key.family, alg)) {
    throw new TokenError('ALGORITHM_NOT_ALLOWED', 'Token algorithm does not match its key');
  }
  return key;
}
