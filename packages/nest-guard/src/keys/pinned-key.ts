import type { KeyObject } from 'node:crypto';
import { familyFitsAlgorithm, KeyFamily } from './key-algorithm';
import { TokenError } from '../token-errors';

/** A key with the facts that decide which algorithms it may verify, computed once. */
export interface PinnedKey {
  keyObject: KeyObject;
  family: KeyFamily;
  /** The algorithm the key is pinned to (JWK `alg`, or the resolver's), when known. */
  alg?: string;
}

/**
 * DESIGN.md "Algorithms are pinned per key": when the key names an algorithm, the token
 * must use exactly that one; in every case the key type must fit the algorithm.
 */
export function checkPinnedKey(key: PinnedKey, alg: string): KeyObject {
  if ((key.alg !== undefined && key.alg !== alg) || !familyFitsAlgorithm(key.family, alg)) {
    throw new TokenError('ALGORITHM_NOT_ALLOWED', 'Token algorithm does not match its key');
  }
  return key.keyObject;
}
