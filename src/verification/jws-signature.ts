/**
 * One signature check for the whole of Tessera: the guard package's (node:crypto, the one
 * algorithm table, key type and curve pinned to the algorithm). Kept as a path for callers
 * that import it from here (registered-key proofs).
 */
export { verifyJwsSignature } from '@tessera/nest-guard';
